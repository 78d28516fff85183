"""bench/reader_average.py (eval/README.md, eleventh round): the soup of two trained runs is the
mean of their weights, exported as a reader that loads and scores; runs of different shapes are
refused."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

GROUPS_TEXT = [("How long do cats sleep?", ["Cats sleep for sixteen hours a day.", "Lions are big cats."], [1, 0]),
               ("Which prime is even?", ["Two is the only even prime.", "A prime has two divisors."], [1, 0])]


def bench():
    spec = importlib.util.spec_from_file_location("reader_average", ROOT / "bench" / "reader_average.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_soup_is_the_mean_of_two_runs_and_reads(tmp_path, capsys):
    from safetensors.torch import load_file

    from ragcomm.reader import get_reader
    from ragcomm.reader.pairs import Group
    from ragcomm.reader.train import TrainConfig, train_reader

    groups = [Group("t", "a", q, s, y) for q, s, y in GROUPS_TEXT] * 4
    for seed in (0, 1):
        train_reader(groups, tmp_path / f"run{seed}" / "torch",
                     TrainConfig(layers=1, max_length=48, max_steps=3, threads=1, lr=1e-3, seed=seed), log=lambda _m: None)
    runs = [tmp_path / "run0", tmp_path / "run1"]
    bench().main(["soup", str(tmp_path / "soup"), *map(str, runs)])
    printed = capsys.readouterr().out
    assert printed.count("of the mean's norm away from it") == 2
    a, b = (load_file(str(r / "torch" / "model.safetensors")) for r in runs)
    mean = load_file(str(tmp_path / "soup" / "torch" / "model.safetensors"))
    key = "classifier.weight"
    assert not np.allclose(a[key].numpy(), b[key].numpy())  # the two seeds differ: the mean is tested
    for k in (key, "bert.encoder.layer.0.output.dense.weight"):
        assert np.allclose(mean[k].numpy(), (a[k].numpy() + b[k].numpy()) / 2, atol=1e-6)
    meta = json.loads((tmp_path / "soup" / "onnx" / "meta.json").read_text())
    assert meta["layers"] == 1 and meta["max_length"] == 48 and len(meta["runs"]) == 2
    reader = get_reader(str(tmp_path / "soup" / "onnx"))
    assert np.isfinite(reader.score(*GROUPS_TEXT[0][:2])).all()
    with pytest.raises(SystemExit):
        bench().main(["soup", str(tmp_path / "one"), str(runs[0])])
    assert "give at least two runs" in capsys.readouterr().err


def test_runs_of_different_shapes_are_refused(tmp_path):
    from ragcomm.reader.pairs import Group
    from ragcomm.reader.train import TrainConfig, train_reader

    groups = [Group("t", "a", q, s, y) for q, s, y in GROUPS_TEXT]
    for layers in (1, 2):
        train_reader(groups, tmp_path / f"l{layers}" / "torch",
                     TrainConfig(layers=layers, max_length=48, max_steps=1, threads=1), log=lambda _m: None)
    with pytest.raises(SystemExit, match="do not share one architecture"):
        bench().main(["soup", str(tmp_path / "soup"), str(tmp_path / "l1"), str(tmp_path / "l2")])
