"""The real index (real model, real FAISS, bm25s) on the real corpus: obvious questions
find their passages in every mode."""
import json
from pathlib import Path

import pytest

from ragcomm import Retriever, load_index

ROOT = Path(__file__).resolve().parent.parent

OBVIOUS = [
    ("What is an animateur in commissioning?", "animateurs-commissioning-managers-2012"),
    ("Why were CCGs reluctant to outsource commissioning support functions?",
     "pubmed-primary-care-workforce-listing/pmid-25320000"),
    ("integrated training programme for trainee pharmacy technicians",
     "pubmed-primary-care-workforce-listing/pmid-36127240"),
    ("How did commissioners use academic research and local data?", "commissioners-use-of-information-findings"),
    ("network leadership practices of GP leaders in clinical commissioning groups", "ccg-network-leadership-study"),
    ("the conscience, eyes and ears and brain functions of commissioning", "hsmc-pct-commissioning-report-2006"),
]


@pytest.fixture(scope="module")
def retriever(real_index):
    return Retriever(load_index(real_index.index_dir, corpus_dir=real_index.corpus_dir))


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
@pytest.mark.parametrize("question,doc_id", OBVIOUS)
def test_obvious_questions_find_their_document(retriever, mode, question, doc_id):
    hits = retriever.search(question, k=3, mode=mode)
    assert doc_id in [h.doc_id for h in hits]


def test_hits_cite_exact_offsets_into_the_document(retriever, real_index):
    from ragcomm import load_corpus

    docs = {d.doc_id: d for d in load_corpus(real_index.corpus_dir)[0]}
    for hit in retriever.search("conflicts of interest in practice based commissioning", k=10):
        assert docs[hit.doc_id].text[hit.start:hit.end] == hit.text
        assert hit.section == docs[hit.doc_id].section_at(hit.start)
        assert hit.source and (ROOT / "corpus" / hit.source).exists()


def test_hybrid_fuses_both_lists(retriever):
    hits = retriever.search("commissioning support units outsourcing", k=5)
    assert any(h.bm25_rank is not None and h.dense_rank is not None for h in hits)
    assert [h.score for h in hits] == sorted([h.score for h in hits], reverse=True)
    weighted = retriever.search("commissioning support units outsourcing", k=5, fusion="weighted")
    assert all(0 <= h.score <= 1 for h in weighted)


def test_index_manifest_describes_the_real_build(real_index):
    manifest = json.loads((real_index.index_dir / "manifest.json").read_text())
    assert manifest["model"]["id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["model"]["dim"] == 384 and manifest["model"]["max_seq_length"] == 256
    assert manifest["counts"]["documents"] == 22 and manifest["counts"]["files"] == 5
    assert manifest["dense"]["kind"] == "flat"
