"""Pseudo-relevance feedback and best-sentence scoring on tiny corpora: RM3 must find a
document that the plain query misses; Rocchio and sentence scoring must lift the passage
that the feedback or the sentence points to. The fake embedder is a hashed bag of words."""
import pytest

from ragcomm import Settings
from ragcomm.index import build_from_documents
from ragcomm.search import Retriever, rm3, rocchio
from ragcomm.types import Document

DOCS = [
    ("fund", "Fundholding practices held budgets for elective referrals and prescribing."),
    ("budgets", "Practices holding budgets for elective referrals cut their waiting times."),
    ("nurses", "Nurses in district teams visit patients at home every week."),
    ("clinics", "Hospital consultants run outpatient clinics on weekdays."),
]


def retriever(fake_embedder, texts=DOCS, **settings):
    docs = [Document(doc_id, "", text, f"{doc_id}.txt") for doc_id, text in texts]
    s = Settings().replace(**settings)
    index = build_from_documents(docs, s, embedder=fake_embedder, log=lambda *_: None)
    return Retriever(index, embedder=fake_embedder, settings=s)


def doc_ids(hits):
    return [h.doc_id for h in hits]


def test_rm3_hand_computed():
    # one feedback document of four tokens (gp twice): P(w|R) = gp .5, fund .25, hold .25;
    # two expansion terms: gp .5 and fund .25 (ties broken by name), rescaled to sum 1
    weights = rm3(["gp"], [(["gp", "gp", "fund", "hold"], 3.0), ([], 1.0)], terms=2, original_weight=0.6)
    assert weights == pytest.approx({"gp": 0.6 + 0.4 * 0.5 / 0.75, "fund": 0.4 * 0.25 / 0.75})
    assert sum(weights.values()) == pytest.approx(1.0)
    assert rm3(["gp"], [], terms=5) == {"gp": 1.0}  # no feedback: the query as it was
    assert rm3([], [(["x"], 1.0)], terms=5) == {"x": 1.0}


def test_rm3_finds_a_document_the_plain_query_misses(fake_embedder):
    plain = retriever(fake_embedder, mode="bm25").search("fundholding", k=4)
    assert doc_ids(plain) == ["fund"]  # the only one with the word
    expanded = retriever(fake_embedder, mode="bm25", prf="rm3", prf_docs=1, prf_terms=8).search("fundholding", k=4)
    assert doc_ids(expanded)[0] == "fund"
    assert "budgets" in doc_ids(expanded)  # found through practices, budgets, elective, referrals
    assert "nurses" not in doc_ids(expanded) and "clinics" not in doc_ids(expanded)
    hit = expanded[doc_ids(expanded).index("budgets")]
    assert hit.bm25_score > 0 and hit.bm25_rank == 2


def test_rm3_without_first_pass_results_changes_nothing(fake_embedder):
    r = retriever(fake_embedder, mode="bm25", prf="rm3")
    assert r.search("zeppelin", k=3) == []


def test_rocchio_moves_towards_the_feedback_passages(fake_embedder):
    import numpy as np

    q = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    moved = rocchio(q, np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32), beta=1.0)
    assert moved == pytest.approx(np.array([1.0, 0.5, 0.5]) / np.linalg.norm([1.0, 0.5, 0.5]))
    assert rocchio(q, np.zeros((0, 3))) is not None and rocchio(q, np.zeros((0, 3))).tolist() == q.tolist()
    # on the tiny corpus: feedback from the best passage lifts the passage most like it
    plain = retriever(fake_embedder, mode="dense").retrieve("fundholding budgets", k=4)
    fed = retriever(fake_embedder, mode="dense", dense_prf="rocchio", rocchio_docs=1, rocchio_beta=1.0) \
        .retrieve("fundholding budgets", k=4)
    rank = {h.doc_id: h.rank for h in fed.hits}
    assert rank["budgets"] <= {h.doc_id: h.rank for h in plain.hits}["budgets"]
    score = {h.doc_id: h.dense_score for h in fed.hits}
    before = {h.doc_id: h.dense_score for h in plain.hits}
    assert score["budgets"] > before["budgets"]
    assert fed.max_dense == pytest.approx(plain.max_dense)  # the abstention signal is the question's own


PASSAGES = [
    ("meeting", "The committee met on Tuesday morning in the hall. Minutes were taken by the clerk of the board. "
                "Budgets for elective referrals were cut. Coffee was served to the guests afterwards. "
                "The chair closed the meeting before noon."),
    ("pathways", "Budgets for elective referrals across regional pathways."),
]


def test_best_sentence_scoring_lifts_the_passage_holding_the_answer(fake_embedder):
    question = "budgets for elective referrals were cut"
    plain = retriever(fake_embedder, PASSAGES, mode="dense", dense_sentences="off").retrieve(question, k=2)
    assert doc_ids(plain.hits) == ["pathways", "meeting"]  # the answer is diluted in a long passage
    for how in ("max", "mean"):
        r = retriever(fake_embedder, PASSAGES, mode="dense", dense_sentences=how)
        result = r.retrieve(question, k=2)
        assert doc_ids(result.hits) == ["meeting", "pathways"], how
        assert result.hits[0].dense_score == pytest.approx(
            1.0 if how == "max" else (1.0 + dict((h.doc_id, h.dense_score) for h in plain.hits)["meeting"]) / 2,
            abs=1e-5)
        assert result.max_dense == pytest.approx(plain.max_dense)  # not moved by sentence scores
