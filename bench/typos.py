"""What a slip costs and what spelling correction wins back, on the gold questions with seeded
typos (ragcomm/eval/typos.py has the rules).

    .venv/bin/python bench/typos.py                       # about a minute on 2 cores
    .venv/bin/python bench/typos.py --seed 7 --per-question 1 --json reports/typos.json
    .venv/bin/python bench/typos.py --words 300          # every one-letter slip of the 300 most used words

Prints a Markdown table (eval/README.md has the figures): right passage in the top 5, evidence
cited, evidence first and answered, for the questions as written, with typos searched as typed,
and with typos corrected; and how many gold questions as written the correction changed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--per-question", type=int, default=2, help="slips put into each question")
    ap.add_argument("--json", dest="json_out", type=Path, help="write the report (every question) here")
    ap.add_argument("--words", type=int, help="instead: every one-letter slip (dropped, doubled, swapped) of the "
                    "corpus's N most used words of 6+ letters, and what the correction makes of it")
    args = ap.parse_args(argv)
    if args.words:
        from ragcomm.config import Settings
        from ragcomm.eval.typos import word_slips
        from ragcomm.index import load_index
        from ragcomm.search import Retriever

        s = Settings(corpus_dir=ROOT / "corpus", index_dir=ROOT / "index")
        r = word_slips(Retriever(load_index(s.index_dir, corpus_dir=s.corpus_dir), settings=s).speller, args.words)
        print(f"{r['slips']} slips of {r['words']} words: restored {r['restored']} "
              f"({r['restored'] / r['slips']:.3f}), left as typed {r['left']} ({r['left'] / r['slips']:.3f}), "
              f"made another word {r['wrong']} ({r['wrong'] / r['slips']:.3f})")
        for typo, word, fixed in r["wrong_examples"]:
            print(f"  {typo} ({word}) -> {fixed}")
        return 0

    from ragcomm.config import Settings
    from ragcomm.eval.answers import gold_answerer
    from ragcomm.eval.typos import evaluate, markdown

    gold, _docs, answerer = gold_answerer(args.gold, Settings(corpus_dir=ROOT / "corpus"),
                                          log=lambda m: print(m, file=sys.stderr))
    report = evaluate(answerer, gold, seed=args.seed, per_question=args.per_question,
                      log=lambda m: print(m, file=sys.stderr))
    print(markdown(report))
    for q in report["clean_changed"]:
        print(f"changed as written: {q}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
