"""The reader as a plug-in: by name or folder, the ONNX export of a trained model, a
sentence-transformers CrossEncoder folder, and the training command kept working on a tiny slice."""
from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ragcomm.reader import Reader, get_reader
from ragcomm.reader.pairs import Group

ROOT = Path(__file__).resolve().parents[2]


def test_none_means_no_reader_and_a_bad_folder_is_a_clear_error(tmp_path):
    assert get_reader("none") is None and get_reader("off") is None
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(RuntimeError, match="has no model-int8.onnx"):
        get_reader(str(tmp_path))
    (tmp_path / "meta.json").write_text("not json")
    with pytest.raises(RuntimeError, match="not a reader folder"):
        get_reader(str(tmp_path))
    with pytest.raises(RuntimeError, match="cannot load the reader"):
        get_reader(str(tmp_path / "no-such-folder"))


GROUPS = [Group("t", "a", "How long do cats sleep?", ["Cats sleep for sixteen hours a day.",
                                                       "Lions are the big cats of Africa."], [1, 0]),
          Group("t", "a", "Which prime number is even?", ["Two is the only even prime number.",
                                                           "A prime has exactly two divisors."], [1, 0]),
          Group("t", "b", "Who painted the ceiling?", ["The chapel has a wooden floor.",
                                                       "Its roof is of slate and lead."], [0, 0])] * 4


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One transformer layer trained for three steps, exported: a real model, not a good one."""
    from ragcomm.reader.onnx import export_reader
    from ragcomm.reader.train import TrainConfig, train_reader

    out = tmp_path_factory.mktemp("reader")
    record = train_reader(GROUPS, out / "torch", TrainConfig(layers=1, max_length=48, max_steps=3, threads=1),
                          log=lambda _m: None)
    export_reader(out / "torch", out / "onnx", 48, {"model_id": "tiny"}, keep_fp32=True)
    return out, record


def test_a_trained_model_exports_and_loads_by_folder_in_both_forms(tiny):
    out, record = tiny
    assert record["steps"] == 3 and record["groups"] == len(GROUPS)
    onnx = get_reader(str(out / "onnx"))
    torch_reader = get_reader(str(out / "torch"))  # a CrossEncoder folder (transformers format)
    assert isinstance(onnx, Reader) and isinstance(torch_reader, Reader)
    assert onnx.model_id == "tiny" and json.loads((out / "onnx" / "meta.json").read_text())["layers"] == 1
    question, sentences = GROUPS[0].question, GROUPS[0].sentences + ["A third sentence, longer than the others."]
    a, b = onnx.score(question, sentences), torch_reader.score(question, sentences)
    assert a.shape == b.shape == (3,) and np.all(np.isfinite(a))
    assert np.allclose(a, b, atol=0.15)  # int8 weights: close to the torch model, not equal
    fp32 = get_reader(str(out / "onnx"), "onnx")
    assert np.allclose(fp32.score(question, sentences), b, atol=1e-3)
    assert onnx.score(question, []).shape == (0,)


def test_training_in_length_sorted_chunks_gives_each_pair_its_own_logit(tiny):
    """Chunks sorted by length (less padding) give the logits of one padded batch, in the pairs' order."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    from ragcomm.reader.train import batch_logits

    model = BertForSequenceClassification.from_pretrained(str(tiny[0] / "torch")).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny[0] / "torch"))
    sentences = [s for g in GROUPS[:3] for s in g.sentences] + ["A much longer sentence than any other here, " * 3]
    questions = [g.question for g in GROUPS[:3] for _ in g.sentences] + ["Why?"]
    with torch.no_grad():
        whole = batch_logits(model, tokenizer, questions, sentences, 48, chunk=0)
        chunked = batch_logits(model, tokenizer, questions, sentences, 48, chunk=3)
        alone = [batch_logits(model, tokenizer, [q], [s], 48, chunk=0).item() for q, s in zip(questions, sentences)]
    assert whole.shape == chunked.shape == (7,)
    assert np.allclose(chunked.numpy(), alone, atol=1e-4) and np.allclose(whole.numpy(), alone, atol=1e-4)
    assert len(set(np.round(alone, 4))) > 1  # the pairs do score differently: the order is tested


def test_a_student_trained_with_a_teacher_learns_the_teachers_scores(tiny, tmp_path):
    """Distillation (`train-reader --teacher`): with the tiny model as teacher, a student trained
    for a few steps ends nearer the teacher's logits than the same student trained without it."""
    from ragcomm.reader.train import TrainConfig, train_reader

    teacher = get_reader(str(tiny[0] / "torch"))
    pairs = [(g.question, s) for g in GROUPS[:3] for s in g.sentences]
    want = np.array([teacher.score(q, [s])[0] for q, s in pairs])
    gaps = {}
    for name, extra in (("alone", {}), ("taught", {"teacher": str(tiny[0] / "torch"), "distill": 20.0})):
        config = TrainConfig(layers=1, max_length=48, max_steps=8, threads=1, lr=1e-3, seed=1, **extra)
        train_reader(GROUPS, tmp_path / name, config, log=lambda _m: None)
        student = get_reader(str(tmp_path / name))
        got = np.array([student.score(q, [s])[0] for q, s in pairs])
        gaps[name] = float(np.mean((got - want) ** 2))
    assert gaps["taught"] < 0.5 * gaps["alone"], gaps
    with pytest.raises(RuntimeError, match="no teacher reader"):
        train_reader(GROUPS, tmp_path / "none", TrainConfig(layers=1, max_steps=1, threads=1, teacher="none"),
                     log=lambda _m: None)


def test_readers_joined_by_a_comma_are_one_reader_scoring_their_mean(tiny):
    """`--reader default,DIR` (and `--teacher default,DIR`): the shipped reader and a trained
    folder as an ensemble, whose logit for each pair is the mean of the two readers' own."""
    folder = str(tiny[0] / "onnx")
    shipped, other = get_reader("default"), get_reader(folder)
    both = get_reader(f"default, {folder}")
    assert isinstance(both, Reader) and both.model_id == f"{shipped.model_id}+tiny"
    question, sentences = GROUPS[0].question, list(GROUPS[0].sentences) + ["The weather in July was warm."]
    want = (shipped.score(question, sentences) + other.score(question, sentences)) / 2
    got = both.score(question, sentences)
    assert got.shape == (3,) and np.allclose(got, want, atol=1e-6)
    assert not np.allclose(got, shipped.score(question, sentences))  # the second reader does count
    assert both.score(question, []).shape == (0,)
    assert get_reader("default,") is shipped  # one name left: that reader itself
    with pytest.raises(RuntimeError, match="cannot load the reader"):
        get_reader(f"default,{tiny[0] / 'no-such-folder'}")


def test_the_card_of_a_distilled_reader_gives_its_teacher_in_the_command():
    from ragcomm.eval.reader import card
    from ragcomm.reader import SHIPPED

    record = json.loads((SHIPPED / "training.json").read_text())
    assert "--teacher" not in card(record)
    record["config"] = {**record["config"], "teacher": "default", "distill": 1.0}
    text = card(record)
    assert "--teacher default --distill 1.0" in text and "teacher reader 'default'" in text
    assert "--restate" not in text and "--restate" in card({**record, "restate": True})


def test_a_question_too_long_for_the_pair_still_scores(tiny):
    onnx = get_reader(str(tiny[0] / "onnx"))
    scores = onnx.score("why " * 400 + "do cats sleep?", ["Cats sleep for sixteen hours a day."])
    assert scores.shape == (1,) and np.isfinite(scores[0])


def test_the_training_command_runs_on_a_tiny_slice(real_index, tmp_path):
    """`ragcomm train-reader` end to end (groups, in-domain groups, training, export, figures) for
    two steps: training itself is too slow for the suite, the command must keep working."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("corpus", "eval", "train"):
        (home / name).symlink_to(ROOT / name)
    (home / "index").symlink_to(real_index.index_dir)
    out = tmp_path / "out"
    env = {**os.environ, "RAGCOMM_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "ragcomm", "train-reader", "--out", str(out), "--layers", "1",
                           "--max-length", "48", "--limit", "24", "--max-steps", "2", "--per-source", "5",
                           "--threads", "1", "--in-domain", "--written", "1", "--written-more", "1", "--restate"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((out / "training.json").read_text())
    assert record["steps"] == 2 and set(record["validation"]) >= {"squad2", "covid", "pubmedqa", "medquad"}
    assert record["validation_seed"] == 0
    assert record["in_domain"] and record["written"] == 1 and record["written_more"] == 1 and record["restate"]
    restated = re.search(r"restated questions added as negatives: (\d+)", done.stdout + done.stderr)
    assert restated and int(restated.group(1)) > 5000
    own = re.search(r"in-domain groups .*?: (\d+)", done.stdout + done.stderr)
    written = re.search(r"written groups \(train/questions.jsonl\): (\d+)", done.stdout + done.stderr)
    more = re.search(r"written groups \(train/questions-more.jsonl\): (\d+)", done.stdout + done.stderr)
    assert own and written and more and int(own.group(1)) > 50 and int(written.group(1)) > 300
    assert record["groups_by_kind"]["in_domain"] == int(own.group(1))
    assert record["groups_by_kind"]["written"] == int(written.group(1)) and record["groups_by_kind"]["public"] > 10000
    assert record["groups_by_kind"]["written_more"] == int(more.group(1)) > 300
    assert 0 <= record["gold_heldout"]["today"] <= 1 and record["gold_heldout"]["answerable"] > 30
    assert (out / "onnx" / "model-int8.onnx").is_file()
    bad = subprocess.run([sys.executable, "-m", "ragcomm", "train-reader", "--layers", "9"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--layers must be 1-6" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "ragcomm", "train-reader", "--chunk", "-1"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--chunk must be 0" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "ragcomm", "train-reader", "--written-more", "-1"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--written-more must be 0" in bad.stderr and "Traceback" not in bad.stderr
