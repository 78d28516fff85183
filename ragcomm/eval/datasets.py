"""Test beds: the gold question set and BEIR-layout folders.

The gold set (eval/gold.jsonl) has questions with an evidence quote; a passage is relevant
when it holds the quote, located in the cleaned text on letters and digits only. A BEIR
folder has corpus.jsonl, queries.jsonl and qrels/test.tsv.

    >>> locate("GPs led  commissioning.", "gps LED commissioning")
    [(0, 22)]
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..chunking import count_tokens
from ..types import Chunk, Document
from .trec import read_qrels_tsv


def load_gold(path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return rows


def normalised_with_offsets(text: str) -> tuple[str, list[int]]:
    """Lowercase letters and digits only, and the offset in `text` of each kept character:
    white space, line breaks, punctuation and hyphenation do not matter for matching."""
    chars, offsets = [], []
    for i, ch in enumerate(unicodedata.normalize("NFC", text)):
        for c in ch.lower():
            if c.isalnum():
                chars.append(c)
                offsets.append(i)
    return "".join(chars), offsets


def locate(text: str, evidence: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of every occurrence of `evidence` in `text`, compared
    on letters and digits only."""
    norm_text, offsets = normalised_with_offsets(text)
    norm_ev, _ = normalised_with_offsets(evidence)
    if not norm_ev:
        return []
    spans, at = [], norm_text.find(norm_ev)
    while at >= 0:
        spans.append((offsets[at], offsets[at + len(norm_ev) - 1] + 1))
        at = norm_text.find(norm_ev, at + len(norm_ev))
    return spans


def relevant_chunks(span: tuple[int, int], chunks: list[Chunk]) -> list[str]:
    """Chunks (of the evidence's document) that hold the evidence: those covering the span
    whole; when none does, those overlapping at least half of it (else the largest overlap)."""
    start, end = span
    whole = [c.chunk_id for c in chunks if c.start <= start and c.end >= end]
    if whole:
        return whole
    overlap = {c.chunk_id: min(end, c.end) - max(start, c.start) for c in chunks}
    half = [cid for cid, o in overlap.items() if o >= (end - start) / 2]
    if half:
        return half
    best = max(overlap.values(), default=0)
    return [cid for cid, o in overlap.items() if o == best and o > 0]


@dataclass
class GoldSet:
    questions: dict  # qid -> question text (answerable and unanswerable)
    answerable: set
    spans: dict  # qid -> (doc_id, [(start, end), ...]) in the cleaned text
    missing: list  # answerable qids whose evidence is not in the cleaned document

    def qrels(self, chunks: list[Chunk]) -> dict:
        """Passage qrels {qid: {chunk_id: 1}} for one chunking."""
        by_doc: dict = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        out = {}
        for q, (doc_id, spans) in self.spans.items():
            ids = {cid for span in spans for cid in relevant_chunks(span, by_doc.get(doc_id, []))}
            if ids:
                out[q] = {cid: 1 for cid in sorted(ids)}
        return out

    def doc_qrels(self) -> dict:
        return {q: {doc_id: 1} for q, (doc_id, _) in self.spans.items()}


def gold_set(rows: list[dict], docs: list[Document]) -> GoldSet:
    """Locate each answerable question's evidence in the cleaned text of its document."""
    by_id = {d.doc_id: d for d in docs}
    questions, answerable, spans, missing = {}, set(), {}, []
    for row in rows:
        questions[row["id"]] = row["question"]
        if not row.get("answerable"):
            continue
        answerable.add(row["id"])
        doc = by_id.get(row["doc_id"])
        found = locate(doc.text, row["evidence"]) if doc else []
        if found:
            spans[row["id"]] = (row["doc_id"], found)
        else:
            missing.append(row["id"])
    return GoldSet(questions, answerable, spans, missing)


@dataclass
class Dataset:
    name: str
    docs: list  # [Document]
    queries: dict  # qid -> text (judged queries only)
    qrels: dict  # qid -> {doc_id: grade}


def load_beir(folder, split: str = "test") -> Dataset:
    folder = Path(folder)
    for part in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (folder / part).exists():
            raise FileNotFoundError(f"not a BEIR folder: {folder / part} is missing")
    docs = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                docs.append(Document(str(row["_id"]), row.get("title") or "", row.get("text") or "",
                                     f"{folder.name}/corpus.jsonl"))
    qrels = read_qrels_tsv(folder / "qrels" / f"{split}.tsv")
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = row["text"]
    qrels = {q: rels for q, rels in qrels.items() if q in queries}
    return Dataset(folder.name, docs, queries, qrels)


def whole_document_chunks(docs: list[Document]) -> list[Chunk]:
    """One chunk per document, the whole text (the model truncates what does not fit)."""
    return [Chunk(f"{d.doc_id}#0", d.doc_id, d.text, 0, len(d.text), "", count_tokens(d.text))
            for d in docs if d.text.strip()]
