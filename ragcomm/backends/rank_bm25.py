"""BM25 with rank-bm25 (BM25Okapi): there to compare against; it has no file format, so it
is rebuilt from the stored chunk texts on load."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .analyzer import analyze
from .base import LexicalBackend


class RankBm25Backend(LexicalBackend):
    name = "rank-bm25"

    def __init__(self, analyzer: str, k1: float, b: float, model):
        super().__init__(analyzer, k1, b)
        self.model = model

    @classmethod
    def build(cls, tokens: list[list[str]], analyzer: str, k1: float, b: float) -> "RankBm25Backend":
        from rank_bm25 import BM25Okapi

        # BM25Okapi fails on an empty document list and on all-empty documents
        return cls(analyzer, k1, b, BM25Okapi([toks or [""] for toks in tokens], k1=k1, b=b))

    @classmethod
    def load(cls, folder: Path, params: dict, texts=None) -> "RankBm25Backend":
        if texts is None:
            raise ValueError("rank-bm25 is rebuilt from the chunk texts: pass them")
        analyzer = params["analyzer"]
        return cls.build([analyze(t, analyzer) for t in texts()], analyzer, params["k1"], params["b"])

    def scores(self, query: str) -> np.ndarray:
        tokens = analyze(query, self.analyzer)
        if not tokens:
            return np.zeros(self.model.corpus_size, dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

    def token_scores(self, token: str) -> np.ndarray:
        return np.asarray(self.model.get_scores([token]), dtype=np.float32)

    @property
    def size(self) -> int:
        return int(self.model.corpus_size)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lexical.json").write_text(json.dumps(self.params))
