"""BM25 with bm25s (sparse-matrix scoring, Lucene variant): the default lexical backend."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .analyzer import analyze
from .base import LexicalBackend


class Bm25sBackend(LexicalBackend):
    name = "bm25s"

    def __init__(self, analyzer: str, k1: float, b: float, model):
        super().__init__(analyzer, k1, b)
        self.model = model

    @classmethod
    def build(cls, tokens: list[list[str]], analyzer: str, k1: float, b: float) -> "Bm25sBackend":
        import bm25s

        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index(tokens, show_progress=False)
        return cls(analyzer, k1, b, model)

    @classmethod
    def load(cls, folder: Path, params: dict, texts=None) -> "Bm25sBackend":
        import bm25s

        return cls(params["analyzer"], params["k1"], params["b"], bm25s.BM25.load(str(folder)))

    def scores(self, query: str) -> np.ndarray:
        ids = self.model.get_tokens_ids(analyze(query, self.analyzer))
        if not ids:
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)

    def token_scores(self, token: str) -> np.ndarray:
        ids = self.model.get_tokens_ids([token])
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)

    @property
    def size(self) -> int:
        return int(self.model.scores["num_docs"])

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lexical.json").write_text(json.dumps(self.params))
        self.model.save(str(folder))
