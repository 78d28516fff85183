"""How well real documents come through ingestion: a question set with evidence quotes and
gold pages (eval/realdocs.jsonl over ../shared/realdocs), answered with the default
retriever and answerer.

    right passage in top 5   a top-5 passage holds the evidence (as in the gold set)
    evidence cited           a citation of the answer overlaps the evidence
    page right               of the cited evidence with a gold page, the citation's page is it
    hit page right           of the top-5 passages holding evidence with a gold page, their
                             page range includes it
    furniture in chunks      share of all chunks holding a running header or footer (listed
                             per file in eval/realdocs-furniture.json), compared on letters
                             and digits only
    contents in top 5        questions with a contents-page passage (dot leaders before page
                             numbers) among their top 5

`ragcomm eval --documents --gold eval/realdocs.jsonl --corpus ../shared/realdocs` prints
the table. Uses only what every version of the index has (Hit, Citation), so the same file
measures the pipeline before and after a change.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .datasets import gold_set, load_gold, normalised_with_offsets

CONTENTS_LEADER = re.compile(r"(\.\s?){4,}\s*\d{1,3}\b|…\s*\d{1,3}\b")


def is_contents_passage(text: str) -> bool:
    """Two or more dot leaders before page numbers: a table of contents."""
    return len(CONTENTS_LEADER.findall(text)) >= 2


def furniture_share(chunks: list, documents: dict, furniture: dict) -> tuple[float, int]:
    """(share, count) of chunks that hold a running header or footer of their file."""
    keys = {source: [normalised_with_offsets(s)[0] for s in strings] for source, strings in furniture.items()}
    hits = 0
    for c in chunks:
        source = documents[c.doc_id]["source"]
        text = normalised_with_offsets(c.text)[0]
        if any(k and k in text for k in keys.get(source, [])):
            hits += 1
    return (hits / len(chunks) if chunks else 0.0), hits


def evaluate_documents(gold_path: Path, settings, furniture_path: Path | None = None, k: int = 5,
                       log=print) -> dict:
    """Build (or load) the index of settings.corpus_dir and measure the question set."""
    from ..answer import Answerer
    from ..index import open_index
    from ..ingest import load_corpus
    from ..search import Retriever

    index = open_index(settings, log=log)
    docs, _problems = load_corpus(settings.corpus_dir)
    rows = [r for r in load_gold(gold_path) if r.get("answerable", True)]
    gold = gold_set([{**r, "answerable": True} for r in rows], docs)
    qrels = gold.qrels(index.chunks)
    furniture = json.loads(Path(furniture_path).read_text()) if furniture_path else {}
    answerer = Answerer(Retriever(index, settings=settings))
    per_question = []
    for row in rows:
        qid = row["id"]
        answer = answerer.ask(row["question"], k=k)
        relevant = set(qrels.get(qid, {}))
        doc_id, spans = gold.spans.get(qid, (row["doc_id"], []))
        top = answer.hits[:k]
        cited = [c for c in answer.citations if c.doc_id == doc_id
                 and any(c.start < end and c.end > start for start, end in spans)]
        gold_page = row.get("page")  # a page, or the pages where the evidence stands (a repeated sentence)
        gold_pages = set(gold_page) if isinstance(gold_page, list) else {gold_page}
        hits_with_evidence = [h for h in top if h.chunk_id in relevant]
        per_question.append({
            "id": qid, "source": row["source"], "found": bool(spans),
            "hit@5": bool(hits_with_evidence),
            "cited": bool(cited),
            "page": gold_page,
            "cited_pages": [c.page for c in cited],
            "page_right": (any(c.page in gold_pages for c in cited) if cited and gold_page is not None else None),
            "hit_page_right": (any(getattr(h, "page_start", None) is not None
                                   and any(h.page_start <= g <= (h.page_end or h.page_start) for g in gold_pages)
                                   for h in hits_with_evidence)
                               if hits_with_evidence and gold_page is not None else None),
            "contents_in_top5": any(is_contents_passage(h.text) for h in top),
        })
    share, count = furniture_share(index.chunks, index.documents, furniture)

    def rate(key):
        values = [q[key] for q in per_question if q[key] is not None]
        return (sum(values) / len(values) if values else None), len(values)

    summary = {"questions": len(per_question), "evidence_found": sum(q["found"] for q in per_question),
               "chunks": len(index.chunks), "furniture_chunks": count, "furniture_share": share,
               "contents_in_top5": sum(q["contents_in_top5"] for q in per_question)}
    for key in ("hit@5", "cited", "page_right", "hit_page_right"):
        summary[key], summary[f"{key}_n"] = rate(key)
    return {"summary": summary, "questions": per_question}


def markdown(result: dict, label: str = "") -> str:
    s = result["summary"]

    def fmt(key):
        value = s[key]
        return "—" if value is None else f"{value:.2f} ({round(value * s[key + '_n'])}/{s[key + '_n']})"

    head = "| | right passage in top 5 | evidence cited | page right (cited) | page right (top-5 passage) " \
           "| chunks with header/footer text | contents passages in a top 5 |\n|---|---|---|---|---|---|---|\n"
    line = (f"| {label} | {fmt('hit@5')} | {fmt('cited')} | {fmt('page_right')} | {fmt('hit_page_right')} "
            f"| {s['furniture_share']:.1%} ({s['furniture_chunks']}/{s['chunks']}) | {s['contents_in_top5']} |")
    return head + line
