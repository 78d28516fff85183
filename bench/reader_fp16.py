"""The shipped reader with its fp32 weights stored as fp16 (the size aim of issue 22): the
int8 graph keeps the MatMuls fed by GELU in fp32 (ragcomm/embed/onnx.py, 14.2 of its 33.6 MB);
here their weights are stored as fp16 and cast back to fp32 when the session loads. Writes a
reader folder, prints its size, the gap between its logits and the shipped reader's over random
(gold question, corpus sentence) pairs, and milliseconds for 3 pairs each.

    .venv/bin/python bench/reader_fp16.py OUT_DIR [--reader DIR] [--pairs 300]

Then `READER=OUT_DIR` with steps 3-6 of eval/reader.sh (eval/README.md, "Ninth round": not shipped).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def store_fp16(src: Path, dst: Path) -> int:
    """Copy the ONNX graph `src` to `dst` with every fp32 MatMul weight stored as fp16 behind a
    Cast node; the number of weights so stored."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    names = sorted({n.input[1] for n in graph.node if n.op_type == "MatMul" and n.input[1] in inits
                    and inits[n.input[1]].data_type == TensorProto.FLOAT})
    for i, name in enumerate(names):
        tensor = inits[name]
        graph.initializer.remove(tensor)
        graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), name + "_fp16"))
        graph.node.insert(i, helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT, name=name + "_cast"))
    onnx.save(model, str(dst))
    return len(names)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="the reader folder to write")
    p.add_argument("--reader", type=Path, default=ROOT / "ragcomm" / "reader" / "model")
    p.add_argument("--pairs", type=int, default=300)
    args = p.parse_args(argv)

    from ragcomm.reader.onnx import OnnxReader

    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "meta.json"):
        shutil.copy(args.reader / name, args.out / name)
    stored = store_fp16(args.reader / "model-int8.onnx", args.out / "model-int8.onnx")
    before, after = OnnxReader(args.reader), OnnxReader(args.out)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "gold.jsonl").read_text().splitlines() if line]
    texts = [json.loads(line)["text"] for line in (ROOT / "index" / "chunks.jsonl").read_text().splitlines() if line]
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if 20 < len(s) < 400]
    rng = np.random.default_rng(0)
    pairs = [(questions[i % len(questions)], list(rng.choice(sentences, 5))) for i in range(args.pairs // 5)]
    gap = np.concatenate([before.score(q, s) - after.score(q, s) for q, s in pairs])
    mb = lambda path: path.stat().st_size / 1e6
    print(f"{stored} weights stored as fp16: {mb(args.reader / 'model-int8.onnx'):.1f} MB -> "
          f"{mb(args.out / 'model-int8.onnx'):.1f} MB")
    print(f"logit gap over {gap.size} pairs: mean {np.abs(gap).mean():.3f}, max {np.abs(gap).max():.3f}")
    for reader in (before, after, before, after):
        start = time.perf_counter()
        for q, s in pairs[:40]:
            reader.score(q, s[:3])
        print(f"{reader.folder}: {(time.perf_counter() - start) / 40 * 1000:.1f} ms for 3 pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
