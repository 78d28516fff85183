"""The two kinds of index backend, as small base classes (as txtai's ann/base.py).

    LexicalBackend  BM25 over a fixed list of texts: `scores(query)`, `top(query, k, mask)`
    VectorBackend   nearest neighbours over fixed vectors: `search(vector, k, mask)`

Each takes what it indexes (token lists, vectors), never a model, and saves to and loads
from a folder of its own inside index/. A new backend is a subclass in its own module,
named in `backends/__init__.py`'s factory; the manifest records which backend built an index.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


class BackendUnavailable(RuntimeError):
    """A backend that serves from elsewhere (a Milvus server) cannot be reached or is out of
    step with the index folder; the message says what to do."""


class LexicalBackend:
    name = ""

    def __init__(self, analyzer: str, k1: float, b: float):
        self.analyzer, self.k1, self.b = analyzer, k1, b

    @property
    def params(self) -> dict:
        return {"backend": self.name, "analyzer": self.analyzer, "k1": self.k1, "b": self.b}

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per indexed text, in index order."""
        raise NotImplementedError

    def token_scores(self, token: str) -> np.ndarray:
        """One BM25 score per indexed text for one analysed token (zeros when unknown)."""
        raise NotImplementedError

    def weighted_scores(self, weights: dict) -> np.ndarray:
        """Sum over analysed tokens of weight * the token's BM25 scores (an expanded query)."""
        total = None
        for token, weight in weights.items():
            part = weight * self.token_scores(token).astype(np.float64)
            total = part if total is None else total + part
        return np.zeros(self.size, dtype=np.float32) if total is None else total.astype(np.float32)

    @property
    def size(self) -> int:
        raise NotImplementedError

    def top(self, query: str, k: int, mask: np.ndarray | None = None,
            filters: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the best k texts with a positive score (only where `mask`
        is True, when given), best first; ties by position, so the order is deterministic.
        `filters` (the ones `mask` was made from) is for backends that filter server-side."""
        return self.best(self.scores(query), k, mask)

    @staticmethod
    def best(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """`top` over scores already computed."""
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        if k <= 0:
            return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.lexsort((idx, -scores[idx]))]
        keep = scores[idx] > 0
        return idx[keep], scores[idx][keep]

    def save(self, folder: Path) -> None:
        raise NotImplementedError


class VectorBackend:
    name = ""
    kind = ""  # the index type within the backend (flat, ivf, hnsw)

    @property
    def params(self) -> dict:
        """What the manifest records besides name and kind (a server backend: where it is)."""
        return {}

    @property
    def size(self) -> int:
        raise NotImplementedError

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None,
               filters: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and cosine scores of the k nearest vectors (only where `mask` is True,
        when given), best first. `filters` as for LexicalBackend.top."""
        raise NotImplementedError

    def save(self, folder: Path) -> None:
        raise NotImplementedError
