"""Answer-level evaluation on hand-made answers: evidence cited and first, words, abstention
rates, balanced accuracy, AUROC, the verbatim check, paired tests, the split and the grid
syntax; the evaluator takes any question -> Answer callable (as a generator will be)."""
import pytest

from ragcomm.eval import answers as ev
from ragcomm.eval.datasets import GoldSet
from ragcomm.types import Answer, Citation, Document

DOC = Document("d", "T", "Managers acted as animateurs. They had no authority. GPs led the new groups.", "d.txt")
GOLD = GoldSet(questions={"a1": "What were managers?", "a2": "Who led?", "u1": "What is QOF?", "u2": "Tariff?"},
               answerable={"a1", "a2"},
               spans={"a1": ("d", [(0, 29)]), "a2": ("d", [(53, 77)])}, missing=[])


def cite(n, start, end, doc=DOC):
    return Citation(n, doc.doc_id, f"{doc.doc_id}#0", doc.source, doc.text[start:end], start, end, start, end,
                    1.0, 1.0, 1.0)


def answer(question, citations=(), abstained=False, confidence=None):
    text = " ".join(f"{c.sentence} [{c.marker}]" for c in citations) or "The documents do not appear to answer."
    return Answer(question, question, text, abstained, list(citations), confidence=confidence)


def test_cited_first_and_words():
    first = answer("What were managers?", [cite(1, 0, 29), cite(1, 30, 52)])
    second = answer("What were managers?", [cite(1, 30, 52), cite(1, 0, 29)])
    other = answer("What were managers?", [cite(1, 53, 77)])
    r1, r2, r3 = (ev.score_answer(a, "a1", GOLD, {"d": DOC}) for a in (first, second, other))
    assert (r1["evidence_cited"], r1["evidence_first"]) == (1.0, 1.0)
    assert (r2["evidence_cited"], r2["evidence_first"]) == (1.0, 0.0)
    assert (r3["evidence_cited"], r3["evidence_first"]) == (0.0, 0.0)
    assert r1["words"] == 8 and r1["verbatim"] == [True, True] and r1["answered"]


def test_a_citation_covers_the_evidence_when_it_holds_half_of_it():
    assert ev.covers(cite(1, 0, 29), "d", [(10, 40)])  # 19 of 30 characters
    assert not ev.covers(cite(1, 0, 29), "d", [(20, 60)])  # 9 of 40
    assert not ev.covers(cite(1, 0, 29), "other", [(0, 29)])


def test_a_misquoted_citation_is_caught():
    bad = cite(1, 0, 29)
    bad.sentence = "Managers acted as animators."
    row = ev.score_answer(answer("What were managers?", [bad]), "a1", GOLD, {"d": DOC})
    assert row["verbatim"] == [False]


def test_summary_figures_by_hand():
    rows = {
        "a1": ev.score_answer(answer("q", [cite(1, 0, 29)], confidence=0.9), "a1", GOLD, {"d": DOC}),
        "a2": ev.score_answer(answer("q", abstained=True, confidence=0.3), "a2", GOLD, {"d": DOC}),
        "u1": ev.score_answer(answer("q", abstained=True, confidence=0.2), "u1", GOLD, {"d": DOC}),
        "u2": ev.score_answer(answer("q", [cite(1, 53, 77)], confidence=0.6), "u2", GOLD, {"d": DOC}),
    }
    s = ev.summarise(rows)
    assert s["evidence_cited"] == 0.5 and s["evidence_first"] == 0.5  # a2 abstained: not cited
    assert s["evidence_cited_of_answered"] == 1.0
    assert s["answered_when_answerable"] == 0.5 and s["refused_answerable"] == 1
    assert s["abstained_when_not"] == 0.5 and s["balanced_accuracy"] == 0.5
    # AUROC of the score: pairs (0.9 > 0.2), (0.9 > 0.6), (0.3 > 0.2), (0.3 < 0.6) -> 3/4
    assert s["auroc"] == 0.75
    assert s["words_mean"] == 4.0 and s["verbatim"] == 1.0  # "Managers acted as animateurs."
    # Wilson, 1 of 2 at 95% (z = 1.95996): centre 0.5, half-width z sqrt(1/8 + z^2/16) / (1 + z^2/2) = 0.4055
    assert s["interval95"]["evidence_cited"] == [0.0945, 0.9055]
    assert s["interval95"]["abstained_when_not"] == [0.0945, 0.9055]


def test_the_table_gives_the_intervals_of_the_first_row():
    rows = {q: ev.score_answer(answer(q, [cite(1, 0, 29)], confidence=0.9), q, GOLD, {"d": DOC})
            for q in ("a1", "a2", "u1", "u2")}
    run = ev.AnswerRun("default", rows, ev.summarise(rows))
    line = ev.answers_table([run]).splitlines()[-1]
    # a1 cited (1 of 2): [0.095, 0.905]; nothing abstained (0 of 2): Wilson [0, z^2 / (2 + z^2)] = [0, 0.658]
    assert line.startswith("95% intervals of the default row")
    assert "cited 0.500 [0.095, 0.905]" in line and "abstained 0.000 [0.000, 0.658]" in line


def test_any_callable_is_evaluated_and_compared():
    good = {"What were managers?": answer("What were managers?", [cite(1, 0, 29)], confidence=0.9),
            "Who led?": answer("Who led?", [cite(1, 53, 77)], confidence=0.8),
            "What is QOF?": answer("What is QOF?", abstained=True, confidence=0.1),
            "Tariff?": answer("Tariff?", abstained=True, confidence=0.2)}
    run = ev.evaluate_answers(good.__getitem__, GOLD, docs={"d": DOC}, name="lookup")
    assert run.summary["evidence_first"] == 1.0 and run.summary["balanced_accuracy"] == 1.0
    assert run.summary["auroc"] == 1.0 and run.summary["latency_ms"]["p50"] >= 0
    silent = ev.evaluate_answers(lambda q: answer(q, abstained=True, confidence=0.5), GOLD, name="silent")
    tests = ev.compare(silent, run.rows, "lookup", trials=200)
    assert tests["evidence_cited"]["difference"] == -1.0 and tests["evidence_cited"]["questions"] == 2
    assert ev.compare(run, run.rows, "itself")["correct"]["p_randomisation"] == 1.0
    assert set(run.to_json()) >= {"name", "evidence_cited", "per_question", "significance"}


def test_split_is_fixed_by_id_and_roughly_even():
    ids = [f"q{i:02d}" for i in range(1, 101)] + [f"u{i:02d}" for i in range(1, 53)]
    held = ev.in_split(ids, "heldout")
    assert ev.split_of("q01") == "heldout" and ev.split_of("q02") == "tune"
    assert 0.35 < len(held) / len(ids) < 0.65
    assert sorted(held + ev.in_split(ids, "tune")) == sorted(ids) and ev.in_split(ids, "all") == ids
    with pytest.raises(ValueError, match="unknown split"):
        ev.in_split(ids, "test")


def test_grid_syntax():
    assert ev.parse_grid(None, ev.GRID_PARAMETERS) == [{}]
    grid = ev.parse_grid("max_words=60,80; kind=0,0.2", ev.GRID_PARAMETERS)
    assert grid == [{"max_words": 60, "kind": 0}, {"max_words": 60, "kind": 0.2},
                    {"max_words": 80, "kind": 0}, {"max_words": 80, "kind": 0.2}]
    for bad in ("nonsense=1", "max_words", "kind=a,b"):
        with pytest.raises(ValueError):
            ev.parse_grid(bad, ev.GRID_PARAMETERS)
