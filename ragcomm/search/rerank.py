"""Reranking the top passages with the reader (ragcomm/reader/): `--rerank N`.

The reader reads the question with a passage's best sentences (the few closest to the
question by meaning, from the index's sentence vectors) and gives the passage the highest
probability that one of them answers. The top N fused passages are then ordered by

    fused score (min-max over the N) + weight x that probability

and the rest keep their order below them. It costs one reader pass over about 3N sentences
(tens of milliseconds for N = 20), so it is an option, not the default (eval/README.md).

    >>> minmax([3.0, 1.0, 2.0])
    [1.0, 0.0, 0.5]
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..chunking import sentence_spans

MIN_WORDS = 5  # shorter pieces are headings and labels


def minmax(values) -> list[float]:
    lo, hi = min(values), max(values)
    return [(v - lo) / (hi - lo) if hi > lo else 1.0 for v in values]


def passage_sentences(text: str, vectors: np.ndarray, query_vector: np.ndarray, per_passage: int) -> list[str]:
    """The passage's `per_passage` sentences closest to the question (stored vectors are one
    row per sentence_spans span; when they do not match, the first sentences)."""
    spans = sentence_spans(text)
    keep = [j for j, (a, b) in enumerate(spans) if len(text[a:b].split()) >= MIN_WORDS] or list(range(len(spans)))
    if len(vectors) == len(spans) and len(keep) > per_passage:
        sims = vectors[keep] @ query_vector
        keep = [keep[j] for j in np.argsort(-sims, kind="stable")[:per_passage]]
    return [text[spans[j][0]:spans[j][1]] for j in keep[:per_passage]]


def rerank(hits: list, question: str, reader, depth: int, weight: float = 1.0, per_passage: int = 3,
           sentence_vectors=None, query_vector=None) -> list:
    """The hits with the top `depth` reordered by the reader (see the module's doc); each
    reranked hit's `reader` is its best sentence's logit. `sentence_vectors`: one array of
    sentence vectors per hit (retriever.sentences.get), or None to read the first sentences."""
    top, rest = hits[:depth], hits[depth:]
    if reader is None or not top:
        return hits
    texts, owner = [], []
    for n, hit in enumerate(top):
        vectors = sentence_vectors[n] if sentence_vectors is not None else np.zeros((0, 1))
        q = query_vector if query_vector is not None else np.zeros(vectors.shape[1:] or (1,))
        chosen = passage_sentences(hit.text, vectors, q, per_passage)
        texts += chosen
        owner += [n] * len(chosen)
    logits = reader.score(question, texts) if texts else np.zeros(0)
    best = [-50.0] * len(top)
    for n, z in zip(owner, logits):
        best[n] = max(best[n], float(z))
    base = minmax([h.score for h in top])
    scored = [(b + weight / (1 + math.exp(-max(-50.0, min(50.0, z)))), -h.rank, h, z)
              for b, h, z in zip(base, top, best)]
    scored.sort(key=lambda t: (-t[0], -t[1]))
    out = [replace(h, rank=r, score=float(s), reader=round(z, 4)) for r, (s, _, h, z) in enumerate(scored, 1)]
    low = min((h.score for h in out), default=0.0)
    for r, h in enumerate(rest, len(out) + 1):  # below every reranked one, in their order
        out.append(replace(h, rank=r, score=float(low - r * 1e-6)))
    return out
