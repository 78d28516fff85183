"""What a reader is: a model that reads a question and a sentence together and says how
well the sentence answers it.

    reader.score("What is an animateur?", ["Managers acted as animateurs ...", "..."])
    -> array of logits, one per sentence: above 0 reads as "this sentence answers"

The embedder (embed/) reads the question and the text apart and compares two vectors; a
reader sees both at once (a cross-encoder), which is slower, so it is given only the few
best candidates. Any class with this shape can be used (`get_reader` chooses by name).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Reader(Protocol):
    model_id: str
    backend: str  # "onnx-int8", "onnx", "torch", or a test's own

    def score(self, question: str, sentences: list[str]) -> np.ndarray: ...
