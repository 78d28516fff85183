"""Chunking invariants on the real corpus: coverage, offsets, token caps, overlap, model fit."""
from pathlib import Path

import pytest

from ragcomm.chunking import chunk_document, count_tokens, sentence_spans
from ragcomm.ingest import Document, load_corpus

ROOT = Path(__file__).resolve().parent.parent
DOCS, _ = load_corpus(ROOT / "corpus")


@pytest.mark.parametrize("size,overlap", [(160, 32), (96, 0), (256, 64), (40, 20)])
def test_every_character_covered_offsets_exact_and_caps_respected(size, overlap):
    for doc in DOCS:
        chunks = chunk_document(doc, size, overlap)
        covered = [False] * len(doc.text)
        for c in chunks:
            assert doc.text[c.start:c.end] == c.text
            assert c.n_tokens == count_tokens(c.text) <= size
            for i in range(c.start, c.end):
                covered[i] = True
        missing = [i for i, ok in enumerate(covered) if not ok and not doc.text[i].isspace()]
        assert missing == [], f"{doc.doc_id}: characters {missing[:5]} in no chunk"
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)
        for a, b in zip(chunks, chunks[1:]):
            assert b.start > a.start  # always moves forward
            if b.start < a.end:  # overlap is whole sentences, at most `overlap` tokens
                assert count_tokens(doc.text[b.start:a.end]) <= overlap + 2


def test_overlap_carries_whole_sentences():
    doc = [d for d in DOCS if d.doc_id.startswith("hsmc")][0]
    chunks = chunk_document(doc, 120, 60)
    overlaps = [(a, b) for a, b in zip(chunks, chunks[1:]) if b.start < a.end]
    assert len(overlaps) > len(chunks) // 3
    starts = {s for s, _ in sentence_spans(doc.text)}
    assert all(b.start in starts for _, b in overlaps)


def test_chunks_know_their_section():
    doc = [d for d in DOCS if d.doc_id.startswith("hsmc")][0]
    chunks = chunk_document(doc, 160, 32)
    governing = [c for c in chunks if "web’ of accountability" in c.text and c.section == "3. Governing commissioning"]
    assert chunks[0].section == "Executive summary"
    assert {c.section for c in chunks} >= {"Policy context", "Governing partnerships", "Public Engagement"}
    for c in chunks:
        assert c.section == doc.section_at(c.start)
    assert governing or any(c.section.startswith("3.") for c in chunks)


def test_long_sentence_without_breaks_is_split_not_truncated():
    text = "commissioning " * 500 + "ends here."
    doc = Document("long", "Long", text, "long.txt")
    chunks = chunk_document(doc, 64, 8)
    assert all(c.n_tokens <= 64 for c in chunks)
    assert "".join(doc.text[c.start:c.end] for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_extra_limit_is_enforced():
    doc = [d for d in DOCS if d.doc_id.startswith("hsmc")][0]
    chunks = chunk_document(doc, 400, 0, fits=lambda t: len(t) <= 600)
    assert all(len(c.text) <= 600 for c in chunks)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        chunk_document(DOCS[0], 100, 100)
    with pytest.raises(ValueError):
        chunk_document(DOCS[0], 4, 0)


def test_default_chunks_fit_the_real_model_without_truncation():
    """Counted in all-MiniLM-L6-v2's own tokenizer, with the title/section prefix that is embedded."""
    from transformers import AutoTokenizer

    from ragcomm.config import Settings
    from ragcomm.embed import resolve_model
    from ragcomm.chunking import embed_text
    from ragcomm.index import chunk_corpus

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))
    limit = 256  # the model's max_seq_length
    fits = lambda t: len(tokenizer(t)["input_ids"]) <= limit  # noqa: E731
    settings = Settings()
    for size in (settings.chunk_size, 256):
        chunks = chunk_corpus(DOCS, settings.replace(chunk_size=size), fits)
        titles = {d.doc_id: d.title for d in DOCS}
        longest = max(len(tokenizer(embed_text(titles[c.doc_id], c.section, c.text))["input_ids"]) for c in chunks)
        assert longest <= limit
