"""The reader's ONNX graph: int8 everywhere, or the MatMuls fed by GELU kept fp32 (the shipped
recipe, as the embedder's), for a trained reader. For each graph: milliseconds for 3 pairs of
74, 60 and 45 wordpieces (each run alone, as the answerer reads them; 1 and 2 threads), the
correlation of its logits with the fp32 graph over the gold questions' candidate pairs, top-1 /
AUROC on the public validation groups, and the gold held-out candidate figures (as
`ragcomm train-reader` prints them).

    .venv/bin/python bench/reader_graph.py TRAINED_DIR [--keep DIR] [--json OUT]

TRAINED_DIR is the `--out` of `ragcomm train-reader` (its torch/ folder is exported here, to a
temporary folder, or to DIR/gelu-fp32 and DIR/int8-everywhere with --keep, for `ragcomm eval
--answers --reader DIR/int8-everywhere`; the shipped model is untouched). About 5 minutes.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pair_ms(session, threads: int, rounds: int = 40) -> float:
    feeds = [{"input_ids": np.full((1, n), 1000, dtype=np.int64), "attention_mask": np.ones((1, n), dtype=np.int64),
              "token_type_ids": np.zeros((1, n), dtype=np.int64)} for n in (74, 60, 45)]
    names = {i.name for i in session.get_inputs()}
    feeds = [{k: v for k, v in f.items() if k in names} for f in feeds]
    for _ in range(5):
        for f in feeds:
            session.run(None, f)
    start = time.perf_counter()
    for _ in range(rounds):
        for f in feeds:
            session.run(None, f)
    return (time.perf_counter() - start) / rounds * 1000


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("trained", type=Path, help="the --out folder of ragcomm train-reader")
    p.add_argument("--keep", type=Path, help="keep the two exports here")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    import onnxruntime as ort

    from ragcomm.config import Settings, home
    from ragcomm.embed.onnx import session_options
    from ragcomm.eval.answers import gold_answerer
    from ragcomm.eval.reader import gold_candidate_figures, scored_candidates, validation_figures
    from ragcomm.index import load_index
    from ragcomm.answer.reading import quote
    from ragcomm.reader.onnx import OnnxReader, export_reader
    from ragcomm.reader.pairs import public_groups
    from ragcomm.splits import split_of

    record = json.loads((args.trained / "training.json").read_text())
    max_length = record["config"]["max_length"]
    groups = public_groups(home() / "train" / "qa", seed=0, log=lambda *_: None)
    settings = Settings()
    index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    gold, _docs, answerer = gold_answerer(home() / "eval" / "gold.jsonl", settings, index, log=lambda *_: None,
                                          reader="none")
    answerer.reader = None
    heldout = [q for q in gold.questions if split_of(q) == "heldout"]
    pairs = [(q, quote(c)) for q in gold.questions.values() for c in scored_candidates(answerer, q)[:6]]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, gelu_fp32 in (("GELU-fed MatMuls fp32 (shipped)", True), ("int8 everywhere", False)):
            where = Path(args.keep or tmp) / ("gelu-fp32" if gelu_fp32 else "int8-everywhere")
            folder = export_reader(args.trained / "torch", where, max_length,
                                   gelu_fp32=gelu_fp32, keep_fp32=True)
            reader, full = OnnxReader(folder), OnnxReader(folder, backend="onnx")
            mine = np.array([reader.score(q, [s])[0] for q, s in pairs])
            ref = np.array([full.score(q, [s])[0] for q, s in pairs])
            row = {"mb": round((folder / "model-int8.onnx").stat().st_size / 1e6, 1),
                   "corr_fp32": round(float(np.corrcoef(mine, ref)[0, 1]), 4),
                   "mean_abs_diff_fp32": round(float(np.abs(mine - ref).mean()), 4)}
            for threads in (1, 2):
                session = ort.InferenceSession(str(folder / "model-int8.onnx"), session_options(threads),
                                               providers=["CPUExecutionProvider"])
                row[f"ms_3_pairs_{threads}t"] = round(pair_ms(session, threads), 2)
            row["validation"] = {k: {"top1": v["top1"], "auroc": v["auroc"]}
                                 for k, v in validation_figures(reader.score, groups, 600, 0).items()}
            row["gold_heldout"] = gold_candidate_figures(answerer, reader, gold, heldout)
            rows[name] = row
            print(name, json.dumps(row), flush=True)
    sources = sorted(next(iter(rows.values()))["validation"])
    print(f"\n{len(pairs)} gold candidate pairs compared with the fp32 graph\n")
    print("| graph | MB | ms 3 pairs, 1 / 2 threads | corr. with fp32 | " + " | ".join(f"{s} top-1" for s in sources)
          + " | gold held-out combined |")
    print("|---|---|---|---|" + "---|" * len(sources) + "---|")
    for name, r in rows.items():
        print(f"| {name} | {r['mb']} | {r['ms_3_pairs_1t']} / {r['ms_3_pairs_2t']} | {r['corr_fp32']} | "
              + " | ".join(str(r["validation"][s]["top1"]) for s in sources) + f" | {r['gold_heldout']['combined']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
