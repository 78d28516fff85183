"""BM25 over chunk texts: one analyzer for indexing and querying, two backends.

    >>> lex = build_lexical(["GPs lead commissioning", "nurses in practice"], backend="bm25s")
    >>> lex.scores("commissioning by GPs")  # one score per chunk, in chunk order

`bm25s` (sparse-matrix scoring, Lucene variant) is the default; `rank-bm25` (BM25Okapi)
is there to compare against. Both see exactly the same tokens.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

BACKENDS = ("bm25s", "rank-bm25")
ANALYZERS = ("english", "plain")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def analyze(text: str, analyzer: str = "english") -> list[str]:
    """Tokens for BM25. 'english': lowercase words of 2+ characters, English stopwords
    removed, Snowball stemmer (as bm25s.tokenize does). 'plain': lowercase \\w+ tokens."""
    text = text.lower()
    if analyzer == "plain":
        return re.findall(r"\w+", text)
    if analyzer != "english":
        raise ValueError(f"unknown analyzer '{analyzer}' (choose from {', '.join(ANALYZERS)})")
    stop = _stopwords()
    words = [w for w in re.findall(r"(?u)\b\w\w+\b", text) if w not in stop]
    return _stemmer().stemWords(words)


class Lexical:
    """A BM25 index over a fixed list of texts; `scores(query)` gives one score per text."""

    def __init__(self, backend: str, analyzer: str, k1: float, b: float, model):
        self.backend, self.analyzer, self.k1, self.b, self.model = backend, analyzer, k1, b, model

    @property
    def params(self) -> dict:
        return {"backend": self.backend, "analyzer": self.analyzer, "k1": self.k1, "b": self.b}

    def scores(self, query: str) -> np.ndarray:
        tokens = analyze(query, self.analyzer)
        if self.backend == "bm25s":
            ids = self.model.get_tokens_ids(tokens)
            n = self.model.scores["num_docs"]
            if not ids:
                return np.zeros(n, dtype=np.float32)
            return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)
        if not tokens:
            return np.zeros(self.model.corpus_size, dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the best k texts with a positive score, best first."""
        scores = self.scores(query)
        k = min(k, len(scores))
        if k <= 0:
            return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.lexsort((idx, -scores[idx]))]  # by score, ties by position: deterministic
        keep = scores[idx] > 0
        return idx[keep], scores[idx][keep]

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lexical.json").write_text(json.dumps(self.params))
        if self.backend == "bm25s":
            self.model.save(str(folder))
        # rank-bm25 has no file format: it is rebuilt from the stored chunk texts on load.


def build_lexical(texts: list[str], backend: str = "bm25s", analyzer: str = "english",
                  k1: float = 1.5, b: float = 0.75) -> Lexical:
    if backend not in BACKENDS:
        raise ValueError(f"unknown BM25 backend '{backend}' (choose from {', '.join(BACKENDS)})")
    corpus = [analyze(t, analyzer) for t in texts]
    if backend == "bm25s":
        import bm25s

        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index(corpus, show_progress=False)
    else:
        from rank_bm25 import BM25Okapi

        # BM25Okapi fails on an empty document list and on all-empty documents
        model = BM25Okapi([toks or [""] for toks in corpus], k1=k1, b=b)
    return Lexical(backend, analyzer, k1, b, model)


def load_lexical(folder: Path, texts) -> Lexical:
    """A saved lexical index; `texts()` gives the chunk texts, needed only to rebuild rank-bm25."""
    folder = Path(folder)
    params = json.loads((folder / "lexical.json").read_text())
    if params["backend"] == "bm25s":
        import bm25s

        model = bm25s.BM25.load(str(folder))
        return Lexical("bm25s", params["analyzer"], params["k1"], params["b"], model)
    return build_lexical(texts(), **params)
