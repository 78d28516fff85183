"""Index backends, chosen by name (a factory, as txtai's): lexical (BM25) and vector.

    lexical: bm25s (default), rank-bm25      vector: faiss (default)

    >>> lexical = build_lexical(["GPs lead commissioning", "nurses in practice"])
    >>> lexical.top("commissioning by GPs", k=2)[0].tolist()
    [0]

The manifest records which backends built an index; `check_backends` refuses to open it
with another one, with a message that says how to rebuild.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .analyzer import ANALYZERS, analyze
from .base import LexicalBackend, VectorBackend

LEXICAL_BACKENDS = ("bm25s", "rank-bm25")
VECTOR_BACKENDS = ("faiss",)
LEXICAL_FOLDER = "bm25"


def lexical_class(name: str) -> type[LexicalBackend]:
    if name == "bm25s":
        from .bm25s import Bm25sBackend

        return Bm25sBackend
    if name == "rank-bm25":
        from .rank_bm25 import RankBm25Backend

        return RankBm25Backend
    raise ValueError(f"unknown BM25 backend '{name}' (choose from {', '.join(LEXICAL_BACKENDS)})")


def vector_class(name: str) -> type[VectorBackend]:
    if name == "faiss":
        from .faiss import FaissBackend

        return FaissBackend
    raise ValueError(f"unknown vector backend '{name}' (choose from {', '.join(VECTOR_BACKENDS)})")


def build_lexical(texts: list[str], backend: str = "bm25s", analyzer: str = "english",
                  k1: float = 1.5, b: float = 0.75) -> LexicalBackend:
    cls = lexical_class(backend)
    return cls.build([analyze(t, analyzer) for t in texts], analyzer, k1, b)


def load_lexical(folder: Path, texts) -> LexicalBackend:
    """A saved lexical index; `texts()` gives the chunk texts, for backends rebuilt on load."""
    params = json.loads((Path(folder) / "lexical.json").read_text())
    return lexical_class(params["backend"]).load(Path(folder), params, texts)


def build_vector(vectors: np.ndarray, backend: str = "faiss", **options) -> VectorBackend:
    return vector_class(backend).build(vectors, **options)


__all__ = ["ANALYZERS", "LEXICAL_BACKENDS", "VECTOR_BACKENDS", "LexicalBackend", "VectorBackend", "analyze",
           "build_lexical", "build_vector", "lexical_class", "load_lexical", "vector_class"]
