"""What the reader costs an answer: `ask` p50 / p95 over the first 40 gold questions on the
seed index (index/, built by `ragcomm index`), for each number of candidates the reader reads
(0 = no reader; the shipped default reads 3; eval/README.md, "The reader").

    .venv/bin/python bench/reader_cost.py [--read 0,3,4,6,8,12] [--questions 40] [--reader DIR]
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--read", default="0,3,4,6,8,12", help="candidates read, comma-separated")
    p.add_argument("--questions", type=int, default=40)
    p.add_argument("--reader", default="default", help="the reader: default (shipped), a name or a folder")
    args = p.parse_args(argv)

    from ragcomm import Retriever, Settings, load_index
    from ragcomm.answer import Answerer

    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=ROOT / "index")
    answerer = Answerer(Retriever(load_index(settings.index_dir, corpus_dir=settings.corpus_dir), settings=settings),
                        reader=args.reader)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "gold.jsonl").read_text().splitlines()
                 if line.strip()][:args.questions]
    print("| candidates read | ask p50 ms | ask p95 ms |\n|---|---|---|")
    for read in (int(x) for x in args.read.split(",")):
        for q in questions[:5]:  # warm-up
            answerer.ask(q, selection={"read": read})
        times = []
        for q in questions:
            start = time.perf_counter()
            answerer.ask(q, selection={"read": read})
            times.append((time.perf_counter() - start) * 1000)
        print(f"| {read} | {np.median(times):.1f} | {np.percentile(times, 95):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
