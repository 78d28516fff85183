"""An embedder that remembers: for evaluation grids, where the same texts and queries come
back for every configuration."""
from __future__ import annotations

import hashlib
import time

import numpy as np


class CachedEmbedder:
    """Wraps an embedder; texts already embedded in this run are not embedded again (by
    content hash). A query is encoded once per run and its encoding time remembered:
    `charge` holds the time of the last query encoding served from the cache, which the
    caller adds to that query's latency, so every configuration pays for its encoding."""

    def __init__(self, inner):
        self.inner, self.cache = inner, {}
        self.queries: dict = {}  # text -> (vector, seconds)
        self.charge = 0.0
        self.model_id, self.dim, self.max_seq_length = inner.model_id, inner.dim, inner.max_seq_length
        self.backend = inner.backend

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def fits(self, text):
        return self.inner.fits(text)

    def encode(self, texts, batch_size: int = 32, progress: bool = False):
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        todo = {}
        for key, text in zip(keys, texts):
            if key not in self.cache:
                todo.setdefault(key, text)
        if todo:
            vectors = self.inner.encode(list(todo.values()), batch_size=batch_size, progress=progress)
            self.cache.update(zip(todo.keys(), vectors))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.cache[k] for k in keys]).astype(np.float32)

    def encode_query(self, text):
        if text in self.queries:
            vector, seconds = self.queries[text]
            self.charge = seconds
            return vector
        t = time.perf_counter()
        vector = self.inner.encode_query(text)
        self.queries[text] = (vector, time.perf_counter() - t)
        self.charge = 0.0
        return vector
