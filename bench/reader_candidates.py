"""What the reader makes of every candidate sentence of an answer: for each question, the
answerer's candidates (default retrieval, k=5) in the order of its own score, with the
reader's logit for each, and which ones it reads (the `Selection.read` best). A diagnosis
tool: it shows whether a wrong answer is the reader's judgement or a sentence it never read.

    .venv/bin/python bench/reader_candidates.py "What added value do GPs bring?" [more questions]
    .venv/bin/python bench/reader_candidates.py --reader DIR --top 12 "..."
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("questions", nargs="+")
    p.add_argument("--reader", default="default", help="the reader: default (shipped), a name or a folder")
    p.add_argument("--top", type=int, default=10, help="candidates shown per question")
    p.add_argument("--index", type=Path, default=ROOT / "index", help="the index (default ./index, of ./corpus)")
    args = p.parse_args(argv)

    from ragcomm import Retriever, Settings, load_index
    from ragcomm.answer import Answerer
    from ragcomm.answer.choice import Selection
    from ragcomm.answer.reading import quote
    from ragcomm.eval.reader import scored_candidates
    from ragcomm.reader import get_reader

    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=args.index)
    answerer = Answerer(Retriever(load_index(settings.index_dir, corpus_dir=settings.corpus_dir), settings=settings),
                        reader="none")
    reader, read = get_reader(args.reader), Selection().read
    if reader is None:
        p.error(f"--reader {args.reader}: no reader to score with")
    for question in args.questions:
        candidates = scored_candidates(answerer, question, 5)
        logits = reader.score(question, [quote(c) for c in candidates])
        print(f"\n{question}\n\n| rank | score | logit | read | sentence |\n|---|---|---|---|---|")
        for i, (c, z) in enumerate(list(zip(candidates, logits))[:args.top], 1):
            text = " ".join(quote(c).split())
            print(f"| {i} | {c.score:.3f} | {z:+.2f} | {'yes' if i <= read else ''} | {text[:120]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
