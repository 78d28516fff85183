"""sentence-transformers on torch (torch is imported only here and in the ONNX export)."""
from __future__ import annotations

import numpy as np

from ..config import DEFAULT_MODEL
from .base import BaseEmbedder, canonical_model_id, offline_env, resolve_model


def load_sentence_transformer(model: str, **kwargs):
    offline_env()
    from sentence_transformers import SentenceTransformer
    import transformers

    transformers.logging.set_verbosity_error()
    try:
        return SentenceTransformer(resolve_model(model), device="cpu", **kwargs)
    except Exception as exc:
        raise RuntimeError(f"cannot load embedding model '{model}': {exc}") from exc


class SentenceTransformerEmbedder(BaseEmbedder):
    """A sentence-transformers model on torch: `encode(texts)` gives unit-length float32 rows."""

    backend = "torch"

    def __init__(self, model: str = DEFAULT_MODEL):
        self.model = load_sentence_transformer(model)
        self.model_id = canonical_model_id(model)
        self.dim = int(self.model.get_embedding_dimension()
                       if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Length in the model's own tokenizer, special tokens included."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
