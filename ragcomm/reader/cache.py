"""A reader that remembers: the scores of the last pairs it read, so a question asked again
(a chat's example, a re-ask, the same question from many users or a dashboard over REST, every
variant of an evaluation grid) is not read again.

A pair's score depends only on the question, the sentence and the model, so a remembered
score is never stale: a new index or document changes which sentences are read, not what a
pair scores. Reading 3 pairs costs ~15 ms of CPU, more than the rest of an answer together
(docs/PERFORMANCE.md, "The reader's cost").

    >>> class Counting:
    ...     model_id, backend, calls = "counting", "test", 0
    ...     def score(self, question, sentences):
    ...         Counting.calls += len(sentences)
    ...         return np.array([float(len(s)) for s in sentences], dtype=np.float32)
    >>> reader = CachedReader(Counting(), size=2)
    >>> reader.score("q", ["a", "bb"]).tolist(), reader.score("q", ["bb", "ccc"]).tolist(), Counting.calls
    ([1.0, 2.0], [2.0, 3.0], 3)
    >>> reader.score("q", ["a"]).tolist(), Counting.calls  # "a" was the oldest of 3: forgotten
    ([1.0], 4)
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

READER_CACHE = 4096  # pairs the server remembers (~2 MB of text; `ragcomm serve --reader-cache`, 0 = none)


class CachedReader:
    """Wraps a reader (base.Reader) with a least-recently-used memory of `size` pairs; safe
    to share between the threads of a server. Anything else is the inner reader's."""

    def __init__(self, inner, size: int = READER_CACHE):
        self.inner, self.size = inner, size
        self.model_id, self.backend = inner.model_id, inner.backend
        self._scores: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        out = np.zeros(len(sentences), dtype=np.float32)
        todo = []
        with self._lock:
            for i, sentence in enumerate(sentences):
                z = self._scores.get((question, sentence))
                if z is None:
                    todo.append(i)
                else:
                    self._scores.move_to_end((question, sentence))
                    out[i] = z
        if todo:
            fresh = np.asarray(self.inner.score(question, [sentences[i] for i in todo]), dtype=np.float32)
            with self._lock:
                for i, z in zip(todo, fresh.reshape(len(todo))):
                    out[i] = z
                    self._scores[(question, sentences[i])] = float(z)
                while len(self._scores) > self.size:
                    self._scores.popitem(last=False)
        return out
