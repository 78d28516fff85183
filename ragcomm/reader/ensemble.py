"""Several readers as one: the mean of their logits.

Readers trained with different seeds disagree on close calls. On the public validation groups
the mean of two seeds' logits ranks the answering sentence first more often than either seed;
at the answer the gain is small (eval/README.md, "Eleventh round"). An ensemble costs the sum
of its readers, so it is not the default: an option for evaluation, and a teacher for
distillation (`ragcomm train-reader --teacher default,DIR`).

    >>> class Fixed:
    ...     def __init__(self, name, z): self.model_id, self.backend, self.z = name, "test", z
    ...     def score(self, question, sentences): return np.array([self.z] * len(sentences), dtype=np.float32)
    >>> both = EnsembleReader([Fixed("a", 1.0), Fixed("b", 3.0)])
    >>> both.model_id, both.score("q", ["x", "y"]).tolist()
    ('a+b', [2.0, 2.0])
"""
from __future__ import annotations

import numpy as np

SEPARATOR = ","  # get_reader("default,path/to/other"): an ensemble of the two


class EnsembleReader:
    def __init__(self, readers: list):
        if not readers:
            raise ValueError("an ensemble needs at least one reader")
        self.readers = list(readers)
        self.model_id = "+".join(r.model_id for r in self.readers)
        self.backend = self.readers[0].backend

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        logits = [np.asarray(r.score(question, sentences), dtype=np.float32) for r in self.readers]
        return np.mean(logits, axis=0).astype(np.float32) if sentences else np.zeros(0, dtype=np.float32)
