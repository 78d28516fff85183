"""The reader that ships in the package (ragcomm/reader/model/): it loads from the package alone
(no hub, no network), reads the question and the sentence together (the sentence that answers
scores above a near miss that shares its words), its card says what it learned from, and the
default answerer uses it."""
from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from ragcomm.reader import SHIPPED, get_reader, shipped_available
from ragcomm.reader.onnx import OnnxReader

QUESTION = "How many PCTs were studied?"
SENTENCES = [
    "Qualitative case studies were undertaken in four PCTs in England.",  # answers
    "The animateurs research was funded by the NIHR Service Delivery and Organisation programme.",  # shares words
    "PCTs were abolished in 2013 and replaced by clinical commissioning groups.",  # shares words
    # Known weakness (eval/README.md, "The reader"): asked "How many PCTs were studied in the
    # animateurs research?", the funding sentence, which repeats "animateurs research", wins.
    "The weather in July was warm and dry.",
]


def test_the_shipped_reader_loads_offline_and_is_small(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert shipped_available()
    files = {p.name: p.stat().st_size for p in SHIPPED.iterdir()}
    assert {"model-int8.onnx", "tokenizer.json", "meta.json", "training.json", "MODEL_CARD.md"} <= set(files)
    # The aim was 30 MB; the 6-layer reader is 33.6 MB on disk, its GELU-fed MatMuls fp32 (eval/README.md,
    # "Seventh round": int8 everywhere is 23.0 MB and a little worse). The bound catches an fp32 export (~90 MB).
    assert sum(files.values()) < 36 * 2 ** 20
    # As committed and packaged (git and wheels store it deflated) the model is 28.1 MB, under the aim.
    stored = len(zlib.compress((SHIPPED / "model-int8.onnx").read_bytes(), 6))
    assert stored < 30e6, stored
    reader = get_reader("default")
    assert reader is not None and reader.backend == "onnx-int8"
    logits = np.asarray(reader.score(QUESTION, SENTENCES))
    assert logits.shape == (4,) and np.isfinite(logits).all()
    assert int(np.argmax(logits)) == 0 and logits[0] > 0 > logits[3]


def test_the_reader_reads_the_pair_not_the_sentence_alone():
    """The same sentence scores high for the question it answers and low for one it does not:
    a model of the sentence alone could not do both."""
    reader = get_reader("default")
    sentence = ["Qualitative case studies were undertaken in four PCTs in England."]
    asked = float(reader.score(QUESTION, sentence)[0])
    other = float(reader.score("Who funded the research?", sentence)[0])
    assert asked > other + 1.0


def test_the_card_names_its_data_licences_and_command():
    card = (SHIPPED / "MODEL_CARD.md").read_text()
    record = json.loads((SHIPPED / "training.json").read_text())
    assert "ragcomm train-reader" in card and "CC BY-SA" in card
    assert record["config"]["layers"] == json.loads((SHIPPED / "meta.json").read_text()).get("layers", 3)
    assert record["validation"] and all(v["top1"] > 0.5 for v in record["validation"].values())


def test_the_default_answerer_reads_with_it(real_answerer):
    assert real_answerer.reader is not None
    answer = real_answerer.ask("What is practice based commissioning?")
    assert "reader" in answer.signals and answer.citations


def test_a_pair_scores_the_same_whatever_it_is_read_with():
    """Each pair runs alone (int8 activations are scaled per run: batched, a pair's score moved
    with its batch mates), so a sentence scores the same among others as alone, in order."""
    reader = get_reader("default")
    together = np.asarray(reader.score(QUESTION, SENTENCES))
    alone = np.array([reader.score(QUESTION, [s])[0] for s in SENTENCES])
    assert np.allclose(together, alone, atol=1e-5)
    options = reader.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_the_onnx_threads_can_be_set_for_a_server(monkeypatch):
    """$RAGCOMM_ONNX_THREADS gives each run of the shipped reader (and the embedder) that many
    threads; unset, every core; a bad value is a clear error."""
    from ragcomm.embed.onnx import cpu_count

    monkeypatch.setenv("RAGCOMM_ONNX_THREADS", "1")
    assert OnnxReader(SHIPPED).session.get_session_options().intra_op_num_threads == 1
    monkeypatch.delenv("RAGCOMM_ONNX_THREADS")
    assert OnnxReader(SHIPPED).session.get_session_options().intra_op_num_threads == cpu_count()
    monkeypatch.setenv("RAGCOMM_ONNX_THREADS", "two")
    with pytest.raises(ValueError, match="RAGCOMM_ONNX_THREADS must be a whole number"):
        OnnxReader(SHIPPED)
