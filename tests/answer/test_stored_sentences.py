"""The answerer reads each sentence's vector from the index (stored at build time) instead of
embedding the passages' sentences again; an index without them still gets them embedded,
one batch per passage. Real model, real index of the seed corpus."""
import numpy as np

from ragcomm import Retriever, load_index
from ragcomm.answer import Answerer
from ragcomm.chunking import sentence_spans


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder):
        self.inner, self.texts = embedder, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts, *args, **kwargs):
        self.texts.extend(texts)
        return self.inner.encode(texts, *args, **kwargs)


def answerer_over(settings, drop_stored=False):
    index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    if drop_stored:
        index.sentence_vectors = index.sentence_chunks = None
    counting = Counting(Retriever(index, settings=settings).embedder)
    return Answerer(Retriever(index, embedder=counting, settings=settings)), index, counting


def test_answer_sentences_use_the_stored_vectors(real_index):
    answerer, index, counting = answerer_over(real_index)
    assert index.sentence_vectors is not None
    answer = answerer.ask("How many hours of observation were undertaken?")
    assert not answer.abstained and answer.citations
    assert counting.texts == []  # the question went through encode_query; no sentence was embedded
    for i, sentences in answerer._sentences.items():
        rows = np.flatnonzero(index.sentence_chunks == i)
        spans = sentence_spans(index.chunks[i].text)
        assert len(rows) == len(spans)
        ends = [b for _, b in spans]  # a quote may leave out a section label: its sentence ends where it does
        for s in sentences:
            assert np.array_equal(s.vector, index.sentence_vectors[rows[ends.index(s.b)]])


def test_without_stored_vectors_the_same_answer_comes_from_embedding(real_index):
    stored, _, _ = answerer_over(real_index)
    embedded, _, counting = answerer_over(real_index, drop_stored=True)
    question = "How many hours of observation were undertaken?"
    a, b = stored.ask(question), embedded.ask(question)
    assert counting.texts  # sentences were embedded this time
    assert [c.sentence for c in a.citations] == [c.sentence for c in b.citations]
    both = embedded._sentences.keys() & stored._sentences.keys()
    assert both
    for i in both:
        for s, t in zip(embedded._sentences[i], stored._sentences[i]):
            assert (s.a, s.b) == (t.a, t.b) and float(s.vector @ t.vector) > 0.98  # int8 batches differ a little


def test_a_passage_whose_stored_rows_do_not_match_its_sentences_is_embedded_afresh(real_index):
    """An index stored by a version that split sentences otherwise: the answer still comes."""
    answerer, index, counting = answerer_over(real_index)
    question = "How many hours of observation were undertaken?"
    first = answerer.ask(question).hits[0].chunk_id
    i = next(n for n, c in enumerate(index.chunks) if c.chunk_id == first)
    keep = index.sentence_chunks != i
    index.sentence_vectors, index.sentence_chunks = index.sentence_vectors[keep], index.sentence_chunks[keep]
    fresh = Answerer(Retriever(index, embedder=counting, settings=real_index))
    answer = fresh.ask(question)
    assert not answer.abstained and answer.citations
    assert counting.texts == [index.chunks[i].text[a:b] for a, b in sentence_spans(index.chunks[i].text)]
