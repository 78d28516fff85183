"""The reader's trade-off: depth (layers) and length of the trained models against the number
of candidates it reads, in quality and milliseconds per question.

    .venv/bin/python bench/reader_tradeoff.py READER_FOLDER [READER_FOLDER ...] [--read 6,12,20] [--json OUT]

Each READER_FOLDER is an exported reader (`ragcomm train-reader --out DIR` writes DIR/onnx).
For each reader and each number of candidates read, over the answerable questions of the gold
set's held-out split, eval/outside.jsonl's held-out half and eval/paraphrases.jsonl's held-out
half (the answerer's candidates over the default retrieval, k=5): the share whose evidence
the answerer's score ranks first once the reader's probability is added (answer/reading.py);
the reader's AUROC of answerable against unanswerable (its best logit); and the reader's
milliseconds per question (p50 over the questions, the candidates scored in one call, 2
threads). The row "none" is today's score without a reader.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = ("gold.jsonl", "outside.jsonl", "paraphrases.jsonl")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("readers", nargs="*", type=Path, help="exported reader folders")
    p.add_argument("--read", default="6,12,20", help="candidates read, comma-separated")
    p.add_argument("--split", default="heldout", choices=("tune", "heldout", "all"))
    p.add_argument("--json", type=Path, help="write the table as JSON")
    args = p.parse_args(argv)

    from ragcomm.config import Settings
    from ragcomm.eval.answers import gold_answerer
    from ragcomm.eval.datasets import gold_set, load_gold
    from ragcomm.eval.reader import gold_candidate_figures
    from ragcomm.index import load_index
    from ragcomm.reader.onnx import OnnxReader
    from ragcomm.splits import split_of

    settings = Settings()
    index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    gold0, docs, answerer = gold_answerer(ROOT / "eval" / "gold.jsonl", settings, index, reader="none")
    sets = {}
    for name in SETS:
        g = gold_set(load_gold(ROOT / "eval" / name), list(docs.values()))
        sets[name.split(".")[0]] = (g, [q for q in g.questions if args.split == "all" or split_of(q) == args.split])
    rows = []
    for folder in [None] + list(args.readers):
        reader = OnnxReader(folder) if folder else None
        for read in ([0] if reader is None else [int(x) for x in args.read.split(",")]):
            row = {"reader": str(folder) if folder else "none", "read": read,
                   "layers": reader.meta.get("layers") if reader else None,
                   "max_length": reader.max_length if reader else None}
            for name, (g, qids) in sets.items():
                figures = gold_candidate_figures(answerer, reader, g, qids, read=read)
                row[name] = {"first": figures.get("combined"), "reader_auroc": figures.get("reader_auroc"),
                             "answerable": figures.get("answerable")}
            if reader is not None:
                from ragcomm.eval.reader import scored_candidates

                times = []
                for q in sets["gold"][1]:
                    cands = scored_candidates(answerer, sets["gold"][0].questions[q])[:read]
                    t = time.perf_counter()
                    reader.score(sets["gold"][0].questions[q], [c.text for c in cands])
                    times.append(time.perf_counter() - t)
                row["ms_p50"] = round(float(np.percentile(times, 50)) * 1000, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| reader | layers | length | read | gold first | outside first | paraphrases first | "
          "gold AUROC | outside AUROC | ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {Path(r['reader']).parent.name if r['reader'] != 'none' else 'none'} | {r['layers'] or ''} | "
              f"{r['max_length'] or ''} | {r['read'] or ''} | {r['gold']['first']} | {r['outside']['first']} | "
              f"{r['paraphrases']['first']} | {r['gold']['reader_auroc'] or ''} | {r['outside']['reader_auroc'] or ''} | "
              f"{r.get('ms_p50', '')} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
