"""Extractive answers: sentences are verbatim with exact offsets, markers point to the right
passages, near-duplicates go, follow-ups become standalone queries, and weak evidence
abstains. Unit tests use the fake embedder; the last ones use the real model and index."""
import json

import pytest

from ragcomm import Retriever, Settings, load_corpus, load_index
from ragcomm.answer import Answerer, load_threshold, standalone_queries, standalone_query
from ragcomm.answer.extractive import abstain_text
from ragcomm.cli import main
from ragcomm.index import build_from_documents
from ragcomm.search import QueryError


@pytest.fixture
def small(small_corpus, fake_embedder):
    docs, _ = load_corpus(small_corpus)
    index = build_from_documents(docs, Settings(corpus_dir=small_corpus), embedder=fake_embedder, log=lambda *_: None)
    return Retriever(index, embedder=fake_embedder), {d.doc_id: d for d in docs}


QUESTIONS = ["What is an animateur?", "How did commissioners use local data?",
             "What made commissioning managers effective in primary care trusts?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_sentence_is_verbatim_at_its_offsets(small, question):
    retriever, docs = small
    answer = Answerer(retriever, threshold=0.0).ask(question, k=5)
    assert not answer.abstained and 1 <= len(answer.citations) <= 5
    by_chunk = {h.chunk_id: h for h in answer.sources}
    for c in answer.citations:
        hit = by_chunk[c.chunk_id]
        assert hit.text[c.passage_start:c.passage_end] == c.sentence
        assert docs[c.doc_id].text[c.start:c.end] == c.sentence
        assert c.start == hit.start + c.passage_start and c.source == hit.source
        assert f"{c.sentence} [{c.marker}]" in answer.text


def test_markers_number_the_sources_in_order_of_first_use(small):
    retriever, _ = small
    answer = Answerer(retriever, threshold=0.0).ask("commissioning managers and GPs", k=8)
    first_use = list(dict.fromkeys(c.marker for c in answer.citations))
    assert first_use == list(range(1, len(answer.sources) + 1))
    for c in answer.citations:
        assert answer.sources[c.marker - 1].chunk_id == c.chunk_id
    # The answer text is exactly the cited sentences with their markers, in that order.
    assert answer.text == " ".join(f"{c.sentence} [{c.marker}]" for c in answer.citations)


def test_abstains_below_the_threshold_and_shows_the_closest_passages(small):
    retriever, _ = small
    answer = Answerer(retriever, threshold=0.999).ask("What is an animateur?", k=5)
    assert answer.abstained and answer.text.startswith("The documents do not appear to answer this question")
    assert answer.citations == [] and answer.more == [] and 1 <= len(answer.sources) <= 3
    assert answer.reason and answer.text == abstain_text(answer.reason)
    row = answer.to_dict()
    assert row["abstained"] is True and all(s["marker"] is None for s in row["sources"])
    assert row["evidence"]["decided_by"] in row["evidence"]["signals"]
    assert row["evidence"]["value"] < row["evidence"]["threshold"] == 0.999


def test_json_shape(small):
    retriever, _ = small
    row = Answerer(retriever, threshold=0.0).ask("What is an animateur?").to_dict()
    assert {"question", "query", "answer", "abstained", "citations", "sources", "evidence", "more"} <= set(row)
    assert {"marker", "doc_id", "chunk_id", "source", "sentence", "start", "end"} <= set(row["citations"][0])
    assert {"rank", "title", "section", "bm25_rank", "dense_rank", "fused_score", "marker", "highlights"} \
        <= set(row["sources"][0])
    # What a user needs to check the decision: the score, its threshold, each signal, which one decided.
    assert {"signal", "value", "threshold", "decided_by", "reason", "signals", "max_dense_score"} <= set(row["evidence"])
    assert row["evidence"]["signal"] == "answerability" and row["evidence"]["decided_by"] in row["evidence"]["signals"]
    assert {"text", "citations", "sources"} <= set(row["more"])
    for c in row["more"]["citations"]:
        assert f"{c['sentence']} [{c['marker']}]" in row["more"]["text"]
    json.dumps(row)


@pytest.mark.parametrize("bad", ["", "   \n", "x" * 2001])
def test_bad_questions_raise_query_error(small, bad):
    retriever, _ = small
    with pytest.raises(QueryError):
        Answerer(retriever).ask(bad)


@pytest.mark.parametrize("question,history,expected", [
    ("what did GPs think of that?", ["What is practice based commissioning?"],
     "what did GPs think of that? practice based commissioning"),
    ("And what about managers?", ["Why were CCGs reluctant to outsource support?"],
     "And what about managers? CCGs reluctant outsource support"),
    ("What makes a good commissioning manager?", ["What is an animateur?"],
     "What makes a good commissioning manager?"),
    ("what did GPs think of that?", [], "what did GPs think of that?"),
])
def test_follow_ups_become_standalone_queries(question, history, expected):
    assert standalone_query(question, history) == expected


def test_follow_ups_chain_through_a_conversation():
    queries = standalone_queries(["What is an animateur?", "Who were they?", "why did it matter?"])
    assert queries[1] == "Who were they? animateur" and "animateur" in queries[2]


def test_threshold_comes_from_the_calibration_file(tmp_path):
    (tmp_path / "c.json").write_text('{"signal": "max_dense_score", "threshold": 0.42}')
    assert load_threshold(tmp_path / "c.json") == 0.42
    (tmp_path / "other.json").write_text('{"signal": "something else", "threshold": 0.9}')
    assert load_threshold(tmp_path / "other.json") == 0.35
    assert load_threshold(tmp_path / "missing.json") == 0.35


# ---------------------------------------------------------------- real model, real index

@pytest.fixture(scope="module")
def real(real_index):
    return Answerer(Retriever(load_index(real_index.index_dir, corpus_dir=real_index.corpus_dir)))


@pytest.mark.parametrize("question,doc_id", [
    ("What is an animateur in commissioning?", "animateurs-commissioning-managers-2012"),
    ("Why were CCGs reluctant to outsource commissioning support functions?",
     "pubmed-primary-care-workforce-listing/pmid-25320000"),
])
def test_real_answers_cite_the_right_document_verbatim(real, real_index, question, doc_id):
    docs = {d.doc_id: d for d in load_corpus(real_index.corpus_dir)[0]}
    answer = real.ask(question)
    assert not answer.abstained and 2 <= len(answer.citations) <= 5
    assert doc_id in {c.doc_id for c in answer.citations}
    for c in answer.citations:
        assert docs[c.doc_id].text[c.start:c.end] == c.sentence


@pytest.mark.parametrize("question", ["What is the capital of France?", "How do I bake sourdough bread?",
                                      "¿Cuál es la capital de Francia?"])
def test_real_out_of_domain_questions_abstain(real, question):
    answer = real.ask(question)
    assert answer.abstained and answer.citations == [] and answer.sources


def test_real_follow_up_searches_the_standalone_query(real):
    answer = real.ask("what did GPs think of that?", history=["What is practice based commissioning?"])
    assert answer.query == "what did GPs think of that? practice based commissioning"
    assert not answer.abstained


def test_cli_ask_json_single_and_batch(real_index, tmp_path, capsys):
    paths = ["--index", str(real_index.index_dir), "--corpus", str(real_index.corpus_dir)]
    assert main(["ask", "What is an animateur in commissioning?", "--json", *paths]) == 0
    row = json.loads(capsys.readouterr().out)
    assert {"question", "query", "answer", "abstained", "citations", "sources"} <= set(row)
    assert row["abstained"] is False and row["citations"][0]["marker"] == 1
    (tmp_path / "q.jsonl").write_text('{"id": "a", "question": "What is an animateur in commissioning?"}\n'
                                      '{"_id": "b", "text": "What is the capital of France?"}\n')
    assert main(["ask", "--queries", str(tmp_path / "q.jsonl"), "--json", *paths]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and [r["abstained"] for r in rows] == [False, True]
    assert rows[0]["answer"] == row["answer"]  # the same answer in one process or many


@pytest.mark.parametrize("argv,message", [
    (["ask", ""], "the question is empty"),
    (["ask", "x" * 2100], "too long"),
    (["ask"], "give a question or --queries"),
    (["ask", "q", "-k", "0"], "-k must be at least 1"),
])
def test_cli_ask_errors_are_one_line(argv, message, real_index, capsys):
    assert main(argv + ["--index", str(real_index.index_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
