"""Index backends, chosen by name (a factory, as txtai's): lexical (BM25) and vector.

    lexical: bm25s (default), rank-bm25      vector: faiss (default)
    milvus: one collection serves both lists (backends/milvus.py, extra `milvus`)

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
from .base import BackendUnavailable, LexicalBackend, VectorBackend

LEXICAL_BACKENDS = ("bm25s", "rank-bm25")
VECTOR_BACKENDS = ("faiss", "milvus")
LEXICAL_FOLDER = "bm25"


def lexical_class(name: str) -> type[LexicalBackend]:
    if name == "bm25s":
        from .bm25s import Bm25sBackend

        return Bm25sBackend
    if name == "rank-bm25":
        from .rank_bm25 import RankBm25Backend

        return RankBm25Backend
    if name == "milvus":  # serves BM25 from the collection the vector backend built
        from .milvus import MilvusLexical

        return MilvusLexical
    raise ValueError(f"unknown BM25 backend '{name}' (choose from {', '.join(LEXICAL_BACKENDS)})")


def vector_class(name: str) -> type[VectorBackend]:
    if name == "faiss":
        from .faiss import FaissBackend

        return FaissBackend
    if name == "milvus":
        from .milvus import MilvusVector

        return MilvusVector
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


__all__ = ["ANALYZERS", "BackendUnavailable", "LEXICAL_BACKENDS", "VECTOR_BACKENDS", "LexicalBackend", "VectorBackend", "analyze",
           "build_lexical", "build_vector", "lexical_class", "load_lexical", "vector_class"]
