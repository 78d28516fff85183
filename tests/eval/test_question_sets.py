"""Checks for the outsider question sets (eval/outside.jsonl, eval/paraphrases.jsonl; see
eval/QUESTIONS.md): fields and types, unique ids, evidence found verbatim in the cleaned text of
its document (and by the gold loader's locator, so both sets load with `gold_set`), two
paraphrases of different styles for every gold question. Fast: no model, no index.
"""
import re
from collections import Counter
from pathlib import Path

import pytest

from ragcomm.eval.answers import split_of
from ragcomm.eval.datasets import gold_set, load_gold, locate
from ragcomm.ingest import load_corpus

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "eval"
GOLD, OUTSIDE, PARAPHRASES = EVAL / "gold.jsonl", EVAL / "outside.jsonl", EVAL / "paraphrases.jsonl"

FIELDS = {"id", "question", "kind", "source", "doc_id", "evidence", "answerable"}
ANSWERABLE_KINDS = {"definition", "why", "how", "number", "who", "when", "finding", "keyword",
                    "casual", "typo"}
UNANSWERABLE_KINDS = {"near-miss", "current", "other-nhs", "off-topic"}
STYLES = {"short", "casual", "acronym", "typo"}
LISTING = "pubmed-primary-care-workforce-listing/"

GOLD_ROWS = load_gold(GOLD)
OUTSIDE_ROWS = load_gold(OUTSIDE)
PARA_ROWS = load_gold(PARAPHRASES)


@pytest.fixture(scope="module")
def docs():
    loaded, _ = load_corpus(ROOT / "corpus")
    return {d.doc_id: d for d in loaded}


def _answerable(rows):
    return [r for r in rows if r["answerable"] is True]


# ---- outside.jsonl -------------------------------------------------------------------------

def test_outside_fields_and_types():
    for row in OUTSIDE_ROWS:
        assert set(row) == FIELDS, f"{row.get('id')}: fields {sorted(row)}"
        assert isinstance(row["answerable"], bool), row["id"]
        for key in FIELDS - {"answerable"}:
            assert isinstance(row[key], str), f"{row['id']}: {key} is not a string"
        assert row["question"].strip(), row["id"]


def test_outside_ids_unique_and_new():
    ids = [r["id"] for r in OUTSIDE_ROWS]
    assert all(re.fullmatch(r"o\d{3}", i) for i in ids), [i for i in ids if not re.fullmatch(r"o\d{3}", i)]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    assert not set(ids) & {r["id"] for r in GOLD_ROWS}
    questions = [r["question"].strip().lower() for r in OUTSIDE_ROWS]
    assert len(set(questions)) == len(questions), "a question is repeated"


def test_outside_kinds_match_answerability():
    for row in OUTSIDE_ROWS:
        kinds = ANSWERABLE_KINDS if row["answerable"] else UNANSWERABLE_KINDS
        assert row["kind"] in kinds, f"{row['id']}: kind {row['kind']!r}"


def test_outside_unanswerable_have_empty_evidence():
    for row in OUTSIDE_ROWS:
        if not row["answerable"]:
            assert row["evidence"] == "" and row["doc_id"] == "" and row["source"] == "", row["id"]


def test_outside_counts_and_spread():
    pos = _answerable(OUTSIDE_ROWS)
    assert len(pos) >= 85 and len(OUTSIDE_ROWS) - len(pos) >= 40
    kinds = Counter(r["kind"] for r in OUTSIDE_ROWS)
    assert set(kinds) == ANSWERABLE_KINDS | UNANSWERABLE_KINDS, kinds
    assert kinds["near-miss"] + kinds["current"] > (len(OUTSIDE_ROWS) - len(pos)) / 2
    assert len({r["doc_id"] for r in pos if r["doc_id"].startswith(LISTING)}) >= 12
    assert len({r["source"] for r in pos}) == 5


def test_outside_evidence_verbatim_in_its_document(docs):
    for row in _answerable(OUTSIDE_ROWS):
        doc = docs.get(row["doc_id"])
        assert doc is not None, f"{row['id']}: unknown doc_id {row['doc_id']!r}"
        assert row["source"] == doc.source, f"{row['id']}: source {row['source']!r} != {doc.source!r}"
        assert row["evidence"].strip(), row["id"]
        assert row["evidence"] in doc.text, f"{row['id']}: evidence not verbatim in the cleaned text"
        assert locate(doc.text, row["evidence"]), row["id"]


def test_outside_loads_as_a_gold_set(docs):
    gold = gold_set(OUTSIDE_ROWS, list(docs.values()))
    assert not gold.missing, gold.missing
    assert gold.answerable == {r["id"] for r in _answerable(OUTSIDE_ROWS)}
    assert len(gold.questions) == len(OUTSIDE_ROWS)


def test_outside_both_splits_hold_both_classes():
    seen = Counter((split_of(r["id"]), r["answerable"]) for r in OUTSIDE_ROWS)
    assert all(seen[(s, a)] >= 15 for s in ("tune", "heldout") for a in (True, False)), seen


# ---- paraphrases.jsonl ---------------------------------------------------------------------

def test_paraphrase_fields_and_ids():
    by_gold = {r["id"]: r for r in GOLD_ROWS}
    ids = [r["id"] for r in PARA_ROWS]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    for row in PARA_ROWS:
        assert set(row) == FIELDS | {"of", "style"}, f"{row.get('id')}: fields {sorted(row)}"
        assert row["of"] in by_gold, row["id"]
        assert re.fullmatch(re.escape(row["of"]) + r"-p[12]", row["id"]), row["id"]
        assert row["style"] in STYLES, f"{row['id']}: style {row['style']!r}"
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]


def test_paraphrases_copy_the_answer_fields():
    by_gold = {r["id"]: r for r in GOLD_ROWS}
    for row in PARA_ROWS:
        original = by_gold[row["of"]]
        for key in ("kind", "source", "doc_id", "evidence", "answerable"):
            assert row[key] == original[key], f"{row['id']}: {key} differs from {row['of']}"
        assert row["question"].strip().lower() != original["question"].strip().lower(), row["id"]


def test_every_gold_question_has_two_paraphrases_of_different_styles():
    styles = {}
    for row in PARA_ROWS:
        styles.setdefault(row["of"], []).append(row["style"])
    for original in GOLD_ROWS:
        got = styles.get(original["id"], [])
        assert len(got) == 2 and got[0] != got[1], f"{original['id']}: styles {got}"


def test_short_paraphrases_are_short():
    for row in PARA_ROWS:
        if row["style"] == "short":
            assert 2 <= len(row["question"].split()) <= 6, row["id"]


def test_unanswerable_paraphrases_have_no_evidence():
    for row in PARA_ROWS:
        if not row["answerable"]:
            assert not row["evidence"] and not row["doc_id"], row["id"]


def test_paraphrases_load_as_a_gold_set(docs):
    gold = gold_set(PARA_ROWS, list(docs.values()))
    assert not gold.missing, gold.missing
    assert len(gold.answerable) == 2 * len(_answerable(GOLD_ROWS))


def test_paraphrases_are_split_with_their_original():
    """A paraphrase ('q01-p1') belongs to its original's split: split_of strips the suffix, so
    `ragcomm eval --split` and `--calibrate` never score a rewording of a tuned question as
    held out (see eval/QUESTIONS.md)."""
    assert all(split_of(r["id"]) == split_of(r["of"]) for r in PARA_ROWS)
    held = {r["of"] for r in PARA_ROWS if split_of(r["id"]) == "heldout"}
    assert held == {r["id"] for r in GOLD_ROWS if split_of(r["id"]) == "heldout"}
