"""Any sentence-transformers CrossEncoder (a folder, or a name already in the local cache) as
a reader: `get_reader("path/to/cross-encoder")`. Scores are its raw logits."""
from __future__ import annotations

import numpy as np


class CrossEncoderReader:
    backend = "torch"

    def __init__(self, name_or_path: str, batch: int = 32):
        from ..embed.base import offline_env

        offline_env()
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(str(name_or_path), device="cpu")
        except Exception as exc:  # not a folder, not in the cache (and no hub here)
            raise RuntimeError(f"cannot load the reader '{name_or_path}' as a sentence-transformers CrossEncoder: "
                               f"{exc}") from exc
        self.model_id = str(name_or_path)
        self.batch = batch

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        import torch

        logits = self.model.predict([(question, s) for s in sentences], batch_size=self.batch,
                                    activation_fn=torch.nn.Identity(), convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(logits, dtype=np.float32).reshape(len(sentences))
