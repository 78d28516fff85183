"""bench/reader_fp16.py (eval/README.md, ninth round): the shipped reader with its fp32 MatMul
weights stored as fp16 is under the 30 MB aim and reads as the shipped one does, up to rounding."""
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "ragcomm" / "reader" / "model"


def test_fp16_storage_shrinks_the_file_and_keeps_the_logits_close(tmp_path):
    spec = importlib.util.spec_from_file_location("reader_fp16", ROOT / "bench" / "reader_fp16.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from ragcomm.reader.onnx import OnnxReader

    for name in ("tokenizer.json", "meta.json"):
        (tmp_path / name).write_bytes((SHIPPED / name).read_bytes())
    assert bench.store_fp16(SHIPPED / "model-int8.onnx", tmp_path / "model-int8.onnx") == 6
    assert (tmp_path / "model-int8.onnx").stat().st_size < 30e6 < (SHIPPED / "model-int8.onnx").stat().st_size
    question = "What is practice based commissioning?"
    sentences = ["It entails the allocation of an indicative budget to a practice, to commission services.",
                 "Interviews were conducted in four primary care trusts in 2008."]
    before, after = OnnxReader(SHIPPED).score(question, sentences), OnnxReader(tmp_path).score(question, sentences)
    assert np.abs(before - after).max() < 0.3 and not np.array_equal(before, after)
    assert after[0] > after[1]
