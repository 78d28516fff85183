"""Dense scoring by a passage's best-matching sentence, beside its passage vector.

A passage that holds the answer in one sentence among others on other topics gets a diluted
passage vector; its best sentence matches the question more closely (eval/README.md has the
figures). The index stores a vector per sentence when it was built with sentence scoring on
(`sentence_vectors.npy`); for an index without them, sentences are embedded the first time
their passage is a candidate (or all at once with `warm()`) and kept.

    >>> combine_sentence(0.5, 0.7, "max"), combine_sentence(0.5, 0.7, "mean")
    (0.7, 0.6)
"""
from __future__ import annotations

import threading

import numpy as np

from ..chunking import sentence_spans

SENTENCE_MODES = ("off", "max", "mean")


def combine_sentence(passage: float, sentence: float | None, how: str) -> float:
    """A passage's dense score from its own cosine and its best sentence's."""
    if sentence is None or how == "off":
        return passage
    if how == "max":
        return max(passage, sentence)
    if how == "mean":
        return (passage + sentence) / 2
    raise ValueError(f"unknown sentence scoring '{how}' (choose from {', '.join(SENTENCE_MODES)})")


class SentenceVectors:
    """Sentence vectors of an index's chunks: the stored ones (`stored` = (vectors, chunk
    position of each row, ascending)), else embedded on first use and cached."""

    def __init__(self, chunks, embedder, stored: tuple | None = None):
        self.chunks, self.embedder = chunks, embedder
        self.vectors: dict[int, np.ndarray] = {}
        self.stored = stored if stored is not None and stored[0] is not None else None
        self._lock = threading.Lock()

    def get(self, ids) -> list[np.ndarray]:
        """(sentences x dim) for each chunk position in `ids`."""
        if self.stored is not None:
            vectors, owners = self.stored
            ids = np.asarray(list(ids), dtype=np.int64)
            starts, ends = np.searchsorted(owners, ids, "left"), np.searchsorted(owners, ids, "right")
            return [np.asarray(vectors[a:b]) for a, b in zip(starts, ends)]
        for i in dict.fromkeys(ids):
            if i not in self.vectors:
                # One batch per passage: an int8 model quantises each batch with its own scale, so
                # a sentence's vector must not depend on which other passages were asked about.
                texts = [self.chunks[i].text[a:b] for a, b in sentence_spans(self.chunks[i].text)]
                with self._lock:
                    encoded = self.embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
                self.vectors[i] = np.asarray(encoded, dtype=np.float32)
        return [self.vectors[i] for i in ids]

    def warm(self) -> None:
        if self.stored is None:
            self.get(range(len(self.chunks)))

    def best(self, query_vector: np.ndarray, ids) -> list[float | None]:
        """The best sentence cosine of each chunk (None for a chunk without sentences)."""
        return [float((m @ query_vector).max()) if len(m) else None for m in self.get(list(ids))]
