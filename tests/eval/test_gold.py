"""Sanity checks for the gold evaluation set (eval/gold.jsonl).

Stdlib + json only; does not import ragcomm.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "eval" / "gold.jsonl"
CORPUS = ROOT / "corpus"
LISTING = "pubmed-primary-care-workforce-listing.txt"

KINDS = {"paraphrase", "keyword", "study", "unanswerable"}
FIELDS = {"id", "question", "kind", "source", "doc_id", "evidence", "answerable"}

MIN_ANSWERABLE = 60
MIN_UNANSWERABLE = 8


def _load_gold():
    rows = []
    with GOLD.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - reported by test
                raise AssertionError(f"gold.jsonl line {lineno} is not valid JSON: {exc}")
    return rows


def _corpus_text(name):
    return (CORPUS / name).read_text(encoding="utf-8")


def _listing_records():
    """Map PMID -> record text.

    A record's text runs from its "... mdl-<PMID>" line up to the next
    record's number line (e.g. "5."), or to the end of the file.
    """
    lines = _corpus_text(LISTING).split("\n")
    records = {}
    current = None
    buf = []
    for line in lines:
        m = re.search(r"mdl-(\d+)\s*$", line)
        if m:
            if current is not None:
                records[current] = "\n".join(buf)
            current, buf = m.group(1), [line]
        elif re.fullmatch(r"\d+\.", line.strip()) and current is not None:
            records[current] = "\n".join(buf)
            current, buf = None, []
        elif current is not None:
            buf.append(line)
    if current is not None:
        records[current] = "\n".join(buf)
    return records


GOLD_ROWS = _load_gold()
ANSWERABLE = [r for r in GOLD_ROWS if r.get("answerable") is True]
UNANSWERABLE = [r for r in GOLD_ROWS if r.get("answerable") is False]
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.txt"))


def _rid(row):
    return row.get("id", "?")


def test_gold_file_not_empty():
    assert GOLD_ROWS, "eval/gold.jsonl is empty"


def test_fields_and_types():
    for row in GOLD_ROWS:
        assert set(row) == FIELDS, f"{_rid(row)}: fields {sorted(row)}"
        assert isinstance(row["question"], str) and row["question"].strip(), _rid(row)
        assert row["kind"] in KINDS, f"{_rid(row)}: bad kind {row['kind']!r}"
        assert isinstance(row["answerable"], bool), _rid(row)


def test_ids_unique():
    ids = [r["id"] for r in GOLD_ROWS]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate ids: {dupes}"


def test_id_format_matches_answerability():
    for row in GOLD_ROWS:
        if row["answerable"]:
            assert re.fullmatch(r"q\d{2,}", row["id"]), row["id"]
        else:
            assert re.fullmatch(r"u\d{2,}", row["id"]), row["id"]


def test_unanswerable_entries_are_null():
    for row in UNANSWERABLE:
        assert row["kind"] == "unanswerable", _rid(row)
        assert row["source"] is None, _rid(row)
        assert row["doc_id"] is None, _rid(row)
        assert row["evidence"] is None, _rid(row)


def test_answerable_entries_not_marked_unanswerable():
    for row in ANSWERABLE:
        assert row["kind"] != "unanswerable", _rid(row)
        assert row["source"] in CORPUS_FILES, f"{_rid(row)}: unknown source {row['source']!r}"
        assert isinstance(row["evidence"], str) and row["evidence"].strip(), _rid(row)


def test_counts():
    assert len(ANSWERABLE) >= MIN_ANSWERABLE, len(ANSWERABLE)
    assert len(UNANSWERABLE) >= MIN_UNANSWERABLE, len(UNANSWERABLE)
    assert len(ANSWERABLE) + len(UNANSWERABLE) == len(GOLD_ROWS)


@pytest.mark.parametrize("row", ANSWERABLE, ids=_rid)
def test_evidence_is_exact_substring(row):
    text = _corpus_text(row["source"])
    assert row["evidence"] in text, f"{row['id']}: evidence not found verbatim in {row['source']}"


@pytest.mark.parametrize("row", ANSWERABLE, ids=_rid)
def test_doc_id_consistent_with_source(row):
    stem = row["source"][: -len(".txt")]
    if row["source"] == LISTING:
        m = re.fullmatch(re.escape(stem) + r"/pmid-(\d+)", row["doc_id"])
        assert m, f"{row['id']}: bad listing doc_id {row['doc_id']!r}"
        assert m.group(1) in _listing_records(), f"{row['id']}: PMID {m.group(1)} not in listing"
    else:
        assert row["doc_id"] == stem, f"{row['id']}: doc_id {row['doc_id']!r} != {stem!r}"


@pytest.mark.parametrize(
    "row", [r for r in ANSWERABLE if r["source"] == LISTING], ids=_rid
)
def test_listing_evidence_within_its_record(row):
    pmid = row["doc_id"].rsplit("pmid-", 1)[1]
    record = _listing_records()[pmid]
    assert row["evidence"] in record, f"{row['id']}: evidence not inside record mdl-{pmid}"


def test_every_corpus_file_has_a_question():
    covered = {r["source"] for r in ANSWERABLE}
    missing = [name for name in CORPUS_FILES if name not in covered]
    assert not missing, f"corpus files without questions: {missing}"
