"""TREC run files (`qid Q0 docid rank score tag`) and BEIR qrels files."""
from __future__ import annotations

import re


def write_trec_run(ranked: dict, path, tag: str) -> None:
    """One line per retrieved item: `qid Q0 docid rank score tag`, ranks from 1."""
    tag = re.sub(r"\s+", "_", tag)
    with open(path, "w", encoding="utf-8") as fh:
        for q, items in ranked.items():
            for rank, (doc, score) in enumerate(items, start=1):
                if re.search(r"\s", f"{q}{doc}"):
                    raise ValueError(f"TREC run ids cannot hold white space: {q!r} / {doc!r}")
                fh.write(f"{q} Q0 {doc} {rank} {score:.6f} {tag}\n")


def read_trec_run(path) -> dict:
    run: dict = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                q, _, doc, _rank, score, _tag = line.split()
                run.setdefault(q, {})[doc] = float(score)
    return run


def read_qrels_tsv(path) -> dict:
    """BEIR qrels: `query-id <TAB> corpus-id <TAB> score` with a header line."""
    qrels: dict = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or (n == 0 and not parts[2].lstrip("-").isdigit()):
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels
