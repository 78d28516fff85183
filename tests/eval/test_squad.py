"""SQuAD-format evaluation (eval/squad.py) on hand-made cases: the scoring rule (a citation
inside / outside the gold paragraph, with / without the answer, first or later), the summary
figures computed by hand, the article split, writing documents that ingestion keeps and
locating their paragraphs in the cleaned text, the whole run with a fake embedder (cached
index reused), and bad input as one clear message. The real model: test_squad_real.py."""
import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ragcomm.answer import Answerer
from ragcomm.cli import main
from ragcomm.eval import squad as sq
from ragcomm.eval import squad_corpus as sc
from ragcomm.ingest import load_corpus
from ragcomm.search import Retriever
from ragcomm.types import Answer, Citation, Hit

ROOT = Path(__file__).resolve().parents[2]
QA = ROOT / "train" / "qa"  # the QA data ships with the repository (train/README.md)
SQUAD2, SQUAD11 = QA / "squad2_dev_part.json.gz", QA / "squad11_dev_part.json.gz"
COVID_DEV, COVID_TEST = QA / "covid_qa" / "covid-qa-dev.json.gz", QA / "covid_qa" / "covid-qa-test.json.gz"
needs_qa = pytest.mark.skipif(not SQUAD2.exists(), reason="train/qa is missing from this checkout")

# ---------------------------------------------------------------- the scoring rule

TEXT = ("Normans\n\nThe Normans lived in Normandy. They gave their name to it.\n\n"
        "Rollo led the Vikings. Normandy was a region of France.")
P0, P1 = (9, 67), (69, 124)  # the two paragraphs' spans in TEXT
CORPUS = sc.SquadCorpus(Path("."), None, {"Normans": "n"}, {("Normans", 0): P0, ("Normans", 1): P1}, 0, False)
DOCS = {"n": SimpleNamespace(text=TEXT)}


def cite(start, end, doc="n", marker=1):
    return Citation(marker, doc, f"{doc}#0", f"{doc}.txt", TEXT[start:end], start, end, start, end, 1.0, 1.0, 1.0)


def hit(start, end, doc="n"):
    return Hit(1, 1.0, f"{doc}#{start}", doc, "Normans", "", TEXT[start:end], f"{doc}.txt", start, end)


def answer(citations=(), abstained=False, confidence=0.5, hits=()):
    return Answer("q", "q", " ".join(c.sentence for c in citations), abstained, list(citations), hits=list(hits),
                  confidence=confidence)


def question(answers=("Normandy",), paragraph=0, qid="q1"):
    return sc.Question(qid, "Where did the Normans live?", "Normans", paragraph, tuple(answers))


LIVED = (9, 39)  # "The Normans lived in Normandy." in paragraph 0, holds the answer
NAME = (40, 67)  # "They gave their name to it." in paragraph 0, no answer
REGION = (92, 124)  # "Normandy was a region of France." in paragraph 1: the answer text, wrong paragraph


def test_the_spans_of_the_hand_made_document():
    assert TEXT[P0[0]:P0[1]] == "The Normans lived in Normandy. They gave their name to it."
    assert TEXT[P1[0]:P1[1]] == "Rollo led the Vikings. Normandy was a region of France."
    assert TEXT[slice(*LIVED)] == "The Normans lived in Normandy."
    assert TEXT[slice(*NAME)] == "They gave their name to it."
    assert TEXT[slice(*REGION)] == "Normandy was a region of France."


def test_a_citation_holds_the_evidence_inside_the_gold_paragraph_with_an_answer():
    answers = [sq.answer_text("Normandy")]
    assert sq.holds_answer(cite(*LIVED), "n", P0, answers)
    assert not sq.holds_answer(cite(*NAME), "n", P0, answers)  # inside, no answer text
    assert not sq.holds_answer(cite(*REGION), "n", P0, answers)  # the answer text, another paragraph
    assert not sq.holds_answer(cite(*LIVED, doc="m"), "n", P0, answers)  # another document
    assert not sq.holds_answer(cite(40, 90), "n", P0, answers)  # runs past the paragraph's end
    assert not sq.holds_answer(cite(*LIVED), "n", None, answers)  # paragraph not located
    # case and white space do not matter
    assert sq.holds_answer(cite(*LIVED), "n", P0, [sq.answer_text("  LIVED\u00a0 in\nNORMANDY ")])


def test_cited_and_first():
    q = question()
    first = sq.score_squad_answer(answer([cite(*LIVED), cite(*NAME)]), q, CORPUS, DOCS)
    later = sq.score_squad_answer(answer([cite(*NAME), cite(*LIVED)]), q, CORPUS, DOCS)
    elsewhere = sq.score_squad_answer(answer([cite(*REGION), cite(*NAME)]), q, CORPUS, DOCS)
    refused = sq.score_squad_answer(answer([cite(*LIVED)], abstained=True), q, CORPUS, DOCS)
    assert (first["evidence_cited"], first["evidence_first"]) == (1.0, 1.0)
    assert (later["evidence_cited"], later["evidence_first"]) == (1.0, 0.0)
    assert (elsewhere["evidence_cited"], elsewhere["evidence_first"]) == (0.0, 0.0)
    assert (refused["evidence_cited"], refused["answered"]) == (0.0, False)
    assert first["verbatim"] == [True, True] and first["article"] == "Normans" and first["paragraph"] == 0


def test_a_second_gold_answer_counts():
    q = question(answers=("France", "a region"), paragraph=1)
    row = sq.score_squad_answer(answer([cite(*REGION)]), q, CORPUS, DOCS)
    assert row["evidence_cited"] == 1.0


def test_right_passage_in_the_top_5():
    q = question()
    assert sq.score_squad_answer(answer(hits=[hit(69, 124), hit(50, 72)]), q, CORPUS, DOCS)["passage_top5"] == 1.0
    assert sq.score_squad_answer(answer(hits=[hit(69, 124)]), q, CORPUS, DOCS)["passage_top5"] == 0.0
    assert sq.score_squad_answer(answer(hits=[hit(9, 67, doc="m")]), q, CORPUS, DOCS)["passage_top5"] == 0.0
    five_others = [hit(69, 124)] * 5 + [hit(9, 67)]  # the gold passage sixth: not in the top 5
    assert sq.score_squad_answer(answer(hits=five_others), q, CORPUS, DOCS)["passage_top5"] == 0.0


def test_summary_by_hand():
    rows = {
        "a1": sq.score_squad_answer(answer([cite(*LIVED)], confidence=0.9, hits=[hit(9, 67)]), question(qid="a1"),
                                    CORPUS, DOCS, 0.010),
        "a2": sq.score_squad_answer(answer([cite(*NAME), cite(*LIVED)], confidence=0.7, hits=[hit(69, 124)]),
                                    question(qid="a2"), CORPUS, DOCS, 0.020),
        "a3": sq.score_squad_answer(answer(abstained=True, confidence=0.2), question(qid="a3"), CORPUS, DOCS, 0.030),
        "u1": sq.score_squad_answer(answer([cite(*REGION)], confidence=0.8), question((), qid="u1"), CORPUS, DOCS,
                                    0.040),
        "u2": sq.score_squad_answer(answer(abstained=True, confidence=0.1), question((), qid="u2"), CORPUS, DOCS,
                                    0.050),
    }
    s = sq.squad_summary(rows, [r["ms"] / 1000 for r in rows.values()])
    assert (s["answerable"], s["unanswerable"]) == (3, 2)
    assert s["evidence_cited"] == round(2 / 3, 4) and s["evidence_first"] == round(1 / 3, 4)
    assert s["answered_when_answerable"] == round(2 / 3, 4) and s["abstained_when_not"] == 0.5
    assert s["balanced_accuracy"] == pytest.approx((2 / 3 + 0.5) / 2, abs=1e-4)  # of the rounded rates
    # AUROC: answerable 0.9, 0.7, 0.2 against unanswerable 0.8, 0.1: 4 of 6 pairs in order
    assert s["auroc"] == round(4 / 6, 4)
    assert s["passage_top5"] == round(1 / 3, 4) and s["answer_in_one_sentence"] == 1.0
    assert s["interval95"]["passage_top5"] == [round(x, 4) for x in sq.proportion_interval(1, 3)]
    assert s["latency_ms"]["p50"] == 30.0
    k = s["by_kind"]
    assert k["answerable"] == {"questions": 3, "answered": round(2 / 3, 4), "abstained": round(1 / 3, 4),
                               "evidence_cited": round(2 / 3, 4), "evidence_first": round(1 / 3, 4),
                               "passage_top5": round(1 / 3, 4), "latency_ms_p50": 20.0}
    assert k["unanswerable"] == {"questions": 2, "answered": 0.5, "abstained": 0.5, "evidence_cited": None,
                                 "evidence_first": None, "passage_top5": None, "latency_ms_p50": 45.0}


def test_an_answer_split_over_two_sentences_cannot_be_cited():
    answers = [sq.answer_text("Normandy. They gave")]
    assert not sq.in_one_sentence(TEXT, P0, answers)
    assert sq.in_one_sentence(TEXT, P0, [sq.answer_text("their name")])


# ---------------------------------------------------------------- the split

EIGHT = ("French_and_Indian_War", "Private_school", "Jacksonville,_Florida", "Prime_number", "Amazon_rainforest",
         "Fresno,_California", "Sky_(United_Kingdom)", "Victoria_(Australia)")


def test_the_validation_articles():
    from ragcomm import splits

    assert sc.VALIDATION_ARTICLES == EIGHT == splits.SQUAD_VALIDATION  # the rule, and the list the split uses
    assert sc.squad_split is splits.squad_split
    assert [sc.squad_split(t) for t in EIGHT] == ["validation"] * 8
    train = [t for t in sc.SQUAD2_TITLES if t not in EIGHT]
    assert len(train) == 17 and {sc.squad_split(t) for t in train} == {"train"}
    assert sc.squad_split("Newcastle_upon_Tyne") == "train"  # SQuAD 1.1 only, though its hash is small
    assert sc.squad_split("913") == "train"  # any other article (a COVID-QA paper)
    largest_kept = max(hashlib.sha256(t.encode()).hexdigest() for t in EIGHT)
    assert all(hashlib.sha256(t.encode()).hexdigest() > largest_kept for t in train)


def test_the_split_does_not_depend_on_the_process():
    code = "from ragcomm.eval.squad_corpus import VALIDATION_ARTICLES as v; print('|'.join(v))"
    for seed in ("0", "12345"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        assert tuple(out.split("|")) == EIGHT


@needs_qa
def test_the_split_on_the_real_files():
    squad2, squad11 = sc.read_squad(SQUAD2), sc.read_squad(SQUAD11)
    assert {a.name for a in squad2.articles} == set(sc.SQUAD2_TITLES)
    validation = [q for q in squad2.questions if sc.squad_split(q.article) == "validation"]
    assert len(validation) == 2158 and sum(not q.answerable for q in validation) == 1073
    assert set(EIGHT) <= {a.name for a in squad11.articles}
    # no title and no question in both splits, across both files (answerable 2.0 ids are 1.1 ids)
    for f in (squad2, squad11):
        splits = {a.name: sc.squad_split(a.name) for a in f.articles}
        assert set(splits.values()) == {"validation", "train"}
    ids = {split: {q.qid for f in (squad2, squad11) for q in f.questions if sc.squad_split(q.article) == split}
           for split in ("validation", "train")}
    assert ids["validation"] and ids["train"] and not ids["validation"] & ids["train"]


# ---------------------------------------------------------------- documents and paragraphs

TINY = {"version": "v2.0", "data": [
    {"title": "Fresno,_California", "paragraphs": [
        {"context": "Fresno  is a city in California's San Joaquin Valley.\nIt is the county seat.", "qas": [
            {"id": "f1", "question": "Where is Fresno?", "is_impossible": False,
             "answers": [{"text": "San Joaquin Valley", "answer_start": 34},
                         {"text": "California's San Joaquin Valley", "answer_start": 21}]},
            {"id": "f2", "question": "Who founded Fresno in 1066?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "the county", "answer_start": 0}]}]},
        {"context": "Early history", "qas": []},
        {"context": "The climate is dry.\n[3] Summers are hot.", "qas": [
            {"id": "f3", "question": "What are summers like?", "answers": [{"text": "hot", "answer_start": 0}]}]},
        {"context": "12", "qas": [  # a page number to ingestion: dropped
            {"id": "f4", "question": "Which number?", "answers": [{"text": "12", "answer_start": 0}]}]},
        {"context": "\"The Central Pacific Railroad came in 1872,\" a guide says. Amazo\u0302nia\u00a0is far.", "qas": [
            {"id": "f5", "question": "When did the railroad come?",
             "answers": [{"text": "1872", "answer_start": 38}]}]}]},
    {"title": "Prime_number", "paragraphs": [
        {"context": "A prime number is a natural number greater than 1.", "qas": [
            {"id": "p1", "question": "What is a prime number greater than?", "is_impossible": False,
             "answers": [{"text": "1", "answer_start": 48}]}]}]}]}


def write_tiny(folder: Path, gz: bool = False) -> Path:
    data = json.dumps(TINY).encode()
    path = folder / ("tiny.json.gz" if gz else "tiny.json")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_reading_a_squad_file(tmp_path, gz):
    f = sc.read_squad(write_tiny(tmp_path, gz))
    assert [a.name for a in f.articles] == ["Fresno,_California", "Prime_number"]
    assert [a.title for a in f.articles] == ["Fresno, California", "Prime number"]
    assert [(q.qid, q.article, q.paragraph, q.answers) for q in f.questions] == [
        ("f1", "Fresno,_California", 0, ("San Joaquin Valley", "California's San Joaquin Valley")),
        ("f2", "Fresno,_California", 0, ()), ("f3", "Fresno,_California", 2, ("hot",)),
        ("f4", "Fresno,_California", 3, ("12",)), ("f5", "Fresno,_California", 4, ("1872",)),
        ("p1", "Prime_number", 0, ("1",))]
    assert [q.answerable for q in f.questions] == [True, False, True, True, True, True]


def test_documents_are_written_so_that_ingestion_keeps_every_paragraph(tmp_path):
    f = sc.read_squad(write_tiny(tmp_path))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for a in f.articles:
        (corpus / sc.file_name(a)).write_text(sc.document_text(a), encoding="utf-8")
    assert sorted(p.name for p in corpus.iterdir()) == ["Fresno,_California.txt", "Prime_number.txt"]
    docs, problems = load_corpus(corpus)
    assert not problems
    doc = {d.doc_id: d for d in docs}["Fresno,_California"]
    assert doc.title == "Fresno, California"
    spans, missing = sc.locate_paragraphs(doc.text, f.articles[0])
    assert missing == 1 and spans[3] is None  # "12" is dropped as a page number
    got = [doc.text[s:e] for s, e in (span for span in spans if span)]
    assert got == ["Fresno is a city in California's San Joaquin Valley.\n\nIt is the county seat.",
                   "Early history", "The climate is dry. [3] Summers are hot.",
                   "\"The Central Pacific Railroad came in 1872,\" a guide says. Amaz\u00f4nia is far."]
    assert (spans[1][0], "Early history") in doc.sections  # a heading to ingestion: kept in the text
    prime = {d.doc_id: d for d in docs}["Prime_number"]
    (span,), missing = sc.locate_paragraphs(prime.text, f.articles[1])
    assert prime.text[span[0]:span[1]] == "A prime number is a natural number greater than 1." and missing == 0


def test_selecting_articles(tmp_path):
    f = sc.read_squad(write_tiny(tmp_path))
    assert [a.name for a in sc.select_articles(f, "validation")] == ["Fresno,_California", "Prime_number"]
    assert [a.name for a in sc.select_articles(f, "all")] == ["Fresno,_California", "Prime_number"]
    assert [a.name for a in sc.select_articles(f, "Prime number,Fresno,_California")] == ["Prime_number",
                                                                                          "Fresno,_California"]
    with pytest.raises(sc.SquadError, match="no train articles"):
        sc.select_articles(f, "train")
    with pytest.raises(sc.SquadError, match="no article 'Fresno'"):
        sc.select_articles(f, "Fresno")


def test_a_seeded_sample():
    qs = list(range(100))
    a, b, c = sc.sample_questions(qs, 10, 1), sc.sample_questions(qs, 10, 1), sc.sample_questions(qs, 10, 2)
    assert a == b and a != c and a == sorted(a) and len(set(a)) == 10
    assert sc.sample_questions(qs, 500, 1) == qs and sc.sample_questions(qs, None) == qs


def test_the_whole_run_with_a_fake_embedder(tmp_path, fake_embedder):
    path, cache, logs = write_tiny(tmp_path), tmp_path / "cache", []

    def run(**kw):
        return sq.evaluate_squad(path, articles="all", cache_dir=cache, embedder=fake_embedder, log=logs.append,
                                 make_answerer=lambda index: Answerer(Retriever(index, embedder=fake_embedder)), **kw)

    first = run()
    rows = first.runs[0].rows
    assert list(rows) == ["f1", "f2", "f3", "f4", "f5", "p1"]
    assert [r["answerable"] for r in rows.values()] == [True, False, True, True, True, True]
    assert rows["f4"]["evidence_cited"] == 0.0  # its paragraph was dropped by ingestion
    assert all(r["verbatim"] and all(r["verbatim"]) for r in rows.values() if r["answered"])
    assert all("passage_top5" in r for r in rows.values() if r["answerable"])
    assert any("1 paragraph(s) not found" in n and "Fresno,_California #4" in n for n in first.notes)
    assert any("building the index" in m for m in logs)
    (folder,) = [p for p in cache.iterdir()]
    assert first.index == str(folder) and sorted(p.name for p in (folder / "corpus").iterdir()) == [
        "Fresno,_California.txt", "Prime_number.txt"]
    # a rerun opens the cached index, answers the same, and the paired tests against it say so
    logs.clear()
    again = run(sample=3, seed=0, baseline=rows)
    assert any("opening the index" in m for m in logs) and not any("building" in m for m in logs)
    assert len(again.runs[0].rows) == 3
    for qid, row in again.runs[0].rows.items():
        assert {k: v for k, v in row.items() if k != "ms"} == {k: v for k, v in rows[qid].items() if k != "ms"}
    sig = again.runs[0].significance
    assert sig["evidence_cited_vs_baseline"]["difference"] == 0 and "passage_top5_vs_baseline" in sig
    data = again.to_json()
    assert data["answerers"][0]["per_question"].keys() == again.runs[0].rows.keys() and data["sample"] == 3
    report = sq.squad_report(again)
    assert "| answerable |" in report and "Right passage in the top 5" in report and "vs baseline" in report


def test_a_grid_answers_the_same_questions_again_over_the_same_index(tmp_path, fake_embedder):
    path, cache, logs, asked = write_tiny(tmp_path), tmp_path / "cache", [], []

    class Recording(Answerer):
        def ask(self, question, **kw):
            asked.append(kw.get("selection"))
            return super().ask(question, **kw)

    result = sq.evaluate_squad(path, articles="all", cache_dir=cache, embedder=fake_embedder, log=logs.append,
                               make_answerer=lambda index: Recording(Retriever(index, embedder=fake_embedder)),
                               grid=[{"max_sentences": 1}, {"max_sentences": 3}])
    assert asked == [{}] * 6 + [{"max_sentences": 1}] * 6 + [{"max_sentences": 3}] * 6
    default, one, three = result.runs
    assert (default.name, one.name, three.name) == ("default", "max_sentences=1", "max_sentences=3")
    assert default.rows.keys() == one.rows.keys() == three.rows.keys()
    assert sum("building the index" in m for m in logs) == 1  # one index for every variant
    # max_sentences=3 is the default: the same answers; at most one sentence each is what 1 says
    for qid, row in three.rows.items():
        assert {k: v for k, v in row.items() if k != "ms"} == {k: v for k, v in default.rows[qid].items() if k != "ms"}
    assert all(r["sentences"] <= 1 for r in one.rows.values() if r["answered"])
    assert one.significance["evidence_cited"]["against"] == "default" and "passage_top5" in one.significance
    assert one.params["max_sentences"] == 1
    report = sq.squad_report(result)
    assert "| max_sentences=1 |" in report and "| answerable (max_sentences=1) |" in report


def test_the_cache_key_follows_articles_and_settings():
    from ragcomm.config import Settings

    files = {"a.txt": "A\n\nText."}
    key = sc.cache_key(files, Settings())
    assert key == sc.cache_key(files, Settings(corpus_dir="elsewhere", index_dir="other"))
    assert key != sc.cache_key({"a.txt": "A\n\nText!"}, Settings())
    assert key != sc.cache_key(files, Settings(chunk_size=160))


# ---------------------------------------------------------------- bad input: one clear message

@pytest.mark.parametrize("content, message", [
    (b"just some text", "not JSON"),
    (json.dumps({"version": "x"}).encode(), 'no "data" list'),
    (json.dumps({"data": [{"title": "T"}]}).encode(), 'article 1 has no "paragraphs"'),
    (json.dumps({"data": [{"title": "T", "paragraphs": [{"context": "x"}]}]}).encode(), "paragraph 1 lacks"),
    (json.dumps({"data": [{"title": "T", "paragraphs": [{"context": "x", "qas": [
        {"id": "1", "question": "q", "answers": []}]}]}]}).encode(), "not marked is_impossible"),
    (gzip.compress(b"{}")[:-6], "damaged gzip"),
])
def test_a_file_that_is_not_squad(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert main(["eval", "--answers", "--squad", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--articles", "Fresno"], "no article 'Fresno'"),
    (["--articles", "train"], "no train articles"),
    (["--sample", "0"], "--sample must be at least 1"),
    (["--corpus", "corpus"], "--corpus cannot be used with it"),
    (["--answer-grid", "nonsense=1"], "bad grid entry 'nonsense=1'"),
    (["--answer-grid", "max_words=sixty"], "bad grid values"),
    (["--calibration", "nowhere.json"], "--calibration nowhere.json: no such file"),
    (["--baseline", "nowhere.json"], "--baseline nowhere.json: not the --json"),
])
def test_bad_options(tmp_path, capsys, args, message):
    assert main(["eval", "--answers", "--squad", str(write_tiny(tmp_path)), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_missing_file(tmp_path, capsys):
    assert main(["eval", "--squad", str(tmp_path / "nope.json")]) == 2
    assert "SQuAD file not found" in capsys.readouterr().err


@needs_qa
@pytest.mark.parametrize("path", [SQUAD2, SQUAD11, COVID_DEV, COVID_TEST],
                         ids=["squad2", "squad11", "covid-dev", "covid-test"])
def test_ingestion_keeps_every_paragraph_of_the_real_files(tmp_path, path):
    f = sc.read_squad(path)
    for a in f.articles:
        (tmp_path / sc.file_name(a)).write_text(sc.document_text(a), encoding="utf-8")
    docs, problems = load_corpus(tmp_path)
    assert not problems and len(docs) == len(f.articles)
    by_source = {d.source: d for d in docs}
    from ragcomm.ingest.clean import normalise

    for a in f.articles:
        doc = by_source[sc.file_name(a)]
        spans, missing = sc.locate_paragraphs(doc.text, a)
        assert missing == 0 and None not in spans, a.name
        for context, (start, end) in zip(a.paragraphs, spans):
            assert " ".join(doc.text[start:end].split()) == " ".join(normalise(context).split())


def test_an_article_without_a_title_is_named_by_its_document_id(tmp_path):
    paper = {"data": [{"paragraphs": [{"document_id": 913, "context": "A paper's title\n\nAbstract: It is short.",
                                       "qas": [{"id": "1", "question": "How long?", "is_impossible": False,
                                                "answers": [{"text": "short", "answer_start": 0}]}]}]}]}
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(paper))
    (article,) = sc.read_squad(path).articles
    assert (article.name, article.title) == ("913", "A paper's title")
    assert sc.document_text(article) == "A paper's title\n\nA paper's title\n\nAbstract: It is short.\n"
    with pytest.raises(sc.SquadError, match="evaluated with --articles all"):
        sc.select_articles(sc.read_squad(path), "validation")
