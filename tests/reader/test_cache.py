"""The server's memory of pairs read (reader/cache.py): a question asked again is answered
the same without reading again; evaluation and benchmarks read every pair."""
from __future__ import annotations

import numpy as np

from ragcomm.reader import READER_CACHE, get_reader
from ragcomm.reader.cache import CachedReader


class Counting:
    """The shipped reader, counting the pairs it is really given."""

    def __init__(self, inner):
        self.inner, self.model_id, self.backend, self.pairs = inner, inner.model_id, inner.backend, 0

    def score(self, question, sentences):
        self.pairs += len(sentences)
        return self.inner.score(question, sentences)


def test_a_remembered_score_is_the_score_read():
    counting = Counting(get_reader("default"))
    reader = CachedReader(counting, size=8)
    sentences = ["Qualitative case studies were undertaken in four PCTs in England.",
                 "The weather in July was warm and dry."]
    first = reader.score("How many PCTs were studied?", sentences)
    again = reader.score("How many PCTs were studied?", sentences[::-1])
    other = reader.score("Who funded the research?", sentences)
    assert np.array_equal(again, first[::-1]) and counting.pairs == 4
    assert np.allclose(other, get_reader("default").score("Who funded the research?", sentences))


def test_the_server_remembers_and_the_rest_read_afresh(real_index):
    from ragcomm.serve.service import load_answerer

    assert not isinstance(get_reader("default"), CachedReader)  # evaluation, benchmarks, `ask`
    answerer = load_answerer(real_index, log=lambda *_: None)
    assert isinstance(answerer.reader, CachedReader) and answerer.reader.size == READER_CACHE
    assert answerer.reader.max_length == answerer.reader.inner.max_length  # the rest is the model's
    counting = Counting(answerer.reader.inner)
    answerer.reader.inner = counting
    question = "What did the Commons Health Committee say PCT restructuring would do?"
    first = answerer.ask(question)
    read = counting.pairs
    again = answerer.ask(question)
    assert read > 0 and counting.pairs == read
    assert again.text == first.text and again.signals == first.signals
    assert load_answerer(real_index, log=lambda *_: None, reader_cache=0).reader is get_reader("default")
