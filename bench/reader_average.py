"""Two ways of averaging readers trained with different seeds (eval/README.md, "Eleventh round").

    .venv/bin/python bench/reader_average.py soup OUT_DIR RUN_DIR RUN_DIR [...]
        the element-wise mean of the runs' weights (each RUN_DIR/torch, from
        `ragcomm train-reader --out RUN_DIR`), exported as a reader folder OUT_DIR/onnx;
        prints how far each run lies from the mean (relative L2)
    .venv/bin/python bench/reader_average.py public READER [READER ...]
        public validation top-1 (and SQuAD 2.0 AUROC) of each reader on the groups seed 0
        draws; a READER is any `--reader` name: default, a folder, or folders joined by
        commas (an ensemble: the mean of their logits)

Then `READER=OUT_DIR/onnx` (or `READER=default,DIR`) with eval/reader.sh for the answers.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def soup(out: Path, runs: list[Path]) -> None:
    from safetensors.torch import load_file, save_file

    from ragcomm.reader.onnx import export_reader

    states = [load_file(str(run / "torch" / "model.safetensors")) for run in runs]
    if any(s.keys() != states[0].keys() for s in states):
        raise SystemExit("the runs do not share one architecture")
    mean = {k: (sum(s[k].float() for s in states) / len(states)).to(states[0][k].dtype) for k in states[0]}
    norm = sum(float((v.float() ** 2).sum()) for v in mean.values()) ** 0.5
    for run, s in zip(runs, states):
        gap = sum(float(((s[k].float() - mean[k].float()) ** 2).sum()) for k in mean) ** 0.5
        print(f"{run}: {gap / norm:.4f} of the mean's norm away from it")
    folder = out / "torch"
    folder.mkdir(parents=True, exist_ok=True)
    for f in (runs[0] / "torch").iterdir():
        if f.name != "model.safetensors":
            shutil.copy(f, folder / f.name)
    save_file(mean, str(folder / "model.safetensors"), metadata={"format": "pt"})
    record = runs[0] / "torch" / "training.json"
    max_length = json.loads(record.read_text())["config"]["max_length"] if record.exists() else 96
    export_reader(folder, out / "onnx", max_length, {"model_id": "ragcomm-reader-soup", "runs": [str(r) for r in runs]})
    print(f"exported {out / 'onnx'}")


def public(names: list[str]) -> None:
    from ragcomm.config import home
    from ragcomm.eval.reader import VALIDATION_SEED, validation_figures, validation_groups
    from ragcomm.reader import get_reader

    groups = validation_groups(home() / "train" / "qa")
    print("| reader | " + " | ".join(["COVID-QA", "MedQuAD", "PubMedQA", "SQuAD 2.0", "SQuAD 2.0 AUROC"]) + " |")
    print("|---" * 6 + "|")
    for name in names:
        reader = get_reader(name)
        if reader is None:
            raise SystemExit(f"no reader '{name}'")
        v = validation_figures(reader.score, groups, 600, VALIDATION_SEED)
        cells = [v[s]["top1"] for s in ("covid", "medquad", "pubmedqa", "squad2")] + [v["squad2"]["auroc"]]
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("soup")
    s.add_argument("out", type=Path)
    s.add_argument("runs", type=Path, nargs="+")
    q = sub.add_parser("public")
    q.add_argument("readers", nargs="+")
    args = p.parse_args(argv)
    if args.what == "soup":
        if len(args.runs) < 2:
            p.error("give at least two runs")
        soup(args.out, args.runs)
    else:
        public(args.readers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
