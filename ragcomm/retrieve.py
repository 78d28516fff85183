"""Question -> ranked, cited passages: BM25, dense, or a fusion of both.

    >>> retriever = Retriever(load_index("index"))
    >>> for hit in retriever.search("what makes a good commissioning manager?", k=3):
    ...     print(hit.rank, hit.doc_id, hit.section, hit.bm25_rank, hit.dense_rank)

Every hit carries its components (BM25 rank and score, dense rank and score, fused score)
so that a reader can see why it ranked where it did.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .config import Settings
from .index import Index

MODES = ("hybrid", "bm25", "dense")
FUSIONS = ("rrf", "weighted")
MAX_QUESTION_CHARS = 2000


class QueryError(ValueError):
    """A question that cannot be searched; the message says why."""


@dataclass
class Hit:
    rank: int
    score: float
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    source: str
    start: int
    end: int
    metadata: dict = field(default_factory=dict)
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None
    fused_score: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- fusion (pure functions)

def rrf(rankings: list[list], k: int = 60) -> dict:
    """Reciprocal rank fusion: sum over lists of 1 / (k + rank), ranks from 1."""
    fused: dict = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict) -> dict:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi == lo:
        return {key: 1.0 for key in scores}
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def weighted(score_lists: list[dict], weights: list[float]) -> dict:
    """Convex combination of min-max-normalised scores; a missing item scores 0 in that list."""
    fused: dict = {}
    for scores, weight in zip(score_lists, weights):
        for key, v in min_max(scores).items():
            fused[key] = fused.get(key, 0.0) + weight * v
    for scores in score_lists:
        for key in scores:
            fused.setdefault(key, 0.0)
    return fused


def ranked(scores: dict) -> list:
    """Keys by descending score, ties broken by key for a stable order."""
    return sorted(scores, key=lambda key: (-scores[key], key))


# ---------------------------------------------------------------- retriever

def check_question(question) -> str:
    if not isinstance(question, str):
        raise QueryError("the question must be text")
    question = question.replace("\x00", " ").strip()
    if not question:
        raise QueryError("the question is empty: type a question")
    if len(question) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS})")
    return question


def check_options(settings: Settings, mode: str | None, fusion: str | None, k) -> tuple[str, str]:
    """The mode and fusion to use (defaults from settings); QueryError for bad values."""
    mode = mode or settings.mode
    fusion = fusion or settings.fusion
    if mode not in MODES:
        raise QueryError(f"unknown mode '{mode}' (choose from {', '.join(MODES)})")
    if fusion not in FUSIONS:
        raise QueryError(f"unknown fusion '{fusion}' (choose from {', '.join(FUSIONS)})")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise QueryError("k must be a positive whole number")
    return mode, fusion


class Retriever:
    """Searches one index. The embedding model is loaded on the first dense or hybrid search."""

    def __init__(self, index: Index, embedder=None, settings: Settings | None = None):
        self.index = index
        self.settings = settings or Settings()
        self._embedder = embedder
        self._doc_ids = np.array([c.doc_id for c in index.chunks], dtype=object)

    @property
    def embedder(self):
        if self._embedder is None:
            from .embed import get_embedder

            self._embedder = get_embedder(self.index.model_id, self.index.manifest["model"].get("backend", "torch"))
        if self._embedder.model_id != self.index.model_id:
            from .index import IndexMismatch

            raise IndexMismatch(f"the index was built with '{self.index.model_id}', the query model is "
                                f"'{self._embedder.model_id}': rebuild the index or change the model")
        # Query vectors must come from the same numbers as the index's (torch vs ONNX int8 differ).
        built = self.index.manifest["model"].get("backend", "torch")
        if getattr(self._embedder, "backend", "torch") != built:
            from .index import IndexMismatch

            raise IndexMismatch(f"the index was embedded with the '{built}' backend, the query embedder uses "
                                f"'{getattr(self._embedder, 'backend', 'torch')}': query with the '{built}' backend "
                                "or rebuild the index with `ragcomm index --rebuild --embed-backend ...`")
        return self._embedder

    def allowed(self, filters: dict | None) -> np.ndarray | None:
        """Boolean mask over chunks for filters, or None when nothing is filtered.

        filters: doc_id (str or list), source (str or list), kind (str or list),
        year_from / year_to (int), and any other metadata key (equality)."""
        if not filters:
            return None
        mask = np.ones(len(self.index.chunks), dtype=bool)
        docs = self.index.documents

        def as_set(value):
            return {value} if isinstance(value, (str, int)) else set(value)

        keep = {}
        for doc_id, d in docs.items():
            ok = True
            meta = d["metadata"]
            for key, value in filters.items():
                if value in (None, "", [], ()):
                    continue
                if key == "doc_id":
                    ok &= doc_id in as_set(value) or doc_id.split("/")[0] in as_set(value)
                elif key == "source":
                    ok &= d["source"] in as_set(value)
                elif key == "year_from":
                    ok &= meta.get("year") is not None and meta["year"] >= int(value)
                elif key == "year_to":
                    ok &= meta.get("year") is not None and meta["year"] <= int(value)
                else:
                    ok &= meta.get(key) in as_set(value)
            keep[doc_id] = ok
        mask &= np.array([keep[c.doc_id] for c in self.index.chunks], dtype=bool)
        return mask

    def bm25(self, question: str, n: int, mask=None) -> list[tuple[int, float]]:
        scores = self.index.lexical.scores(question)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        if n <= 0:
            return []
        idx = np.argpartition(-scores, n - 1)[:n]
        idx = idx[np.lexsort((idx, -scores[idx]))]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]

    def dense(self, question: str, n: int, mask=None, query_vector=None) -> list[tuple[int, float]]:
        q = self.embedder.encode_query(question) if query_vector is None else query_vector
        if mask is None:
            ids, scores = self.index.dense.search(q, n)
            return [(int(i), float(s)) for i, s in zip(ids, scores)]
        allowed = np.flatnonzero(mask)  # filtered: exact scores over the allowed chunks only
        if len(allowed) == 0:
            return []
        scores = self.index.vectors[allowed] @ q
        order = np.lexsort((allowed, -scores))[:n]
        return [(int(allowed[i]), float(scores[i])) for i in order]

    def search(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
               fusion: str | None = None, candidates: int | None = None) -> list[Hit]:
        """The k best passages for a question, with each retriever's rank and score."""
        question = check_question(question)
        mode, fusion = check_options(self.settings, mode, fusion, k)
        n = max(k, candidates or self.settings.candidates)
        mask = self.allowed(filters)
        lexical = self.bm25(question, n, mask) if mode in ("bm25", "hybrid") else []
        dense = self.dense(question, n, mask) if mode in ("dense", "hybrid") else []
        return self.fuse(lexical, dense, mode, fusion, k)

    def fuse(self, lexical, dense, mode: str, fusion: str, k: int) -> list[Hit]:
        b_rank = {i: r for r, (i, _) in enumerate(lexical, start=1)}
        b_score = dict(lexical)
        d_rank = {i: r for r, (i, _) in enumerate(dense, start=1)}
        d_score = dict(dense)
        if mode == "bm25":
            fused = b_score
        elif mode == "dense":
            fused = d_score
        elif fusion == "rrf":
            fused = rrf([[i for i, _ in lexical], [i for i, _ in dense]], k=self.settings.rrf_k)
        else:
            w = self.settings.dense_weight
            fused = weighted([b_score, d_score], [1.0 - w, w])
        hits = []
        for rank, i in enumerate(ranked(fused)[:k], start=1):
            hits.append(self.hit(i, rank, fused[i], b_rank.get(i), b_score.get(i), d_rank.get(i),
                                 d_score.get(i), fused[i] if mode == "hybrid" else None))
        return hits

    def hit(self, i: int, rank: int, score: float, br, bs, dr, ds, fs) -> Hit:
        c = self.index.chunks[i]
        d = self.index.documents[c.doc_id]
        meta = {k: v for k, v in d["metadata"].items() if k != "references"}
        return Hit(rank, float(score), c.chunk_id, c.doc_id, d["title"], c.section, c.text, d["source"],
                   c.start, c.end, meta, br, bs, dr, ds, fs)
