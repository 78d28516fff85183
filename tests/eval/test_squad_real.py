"""`ragcomm eval --answers --squad` through the whole pipeline (real model, real FAISS, the
shipped answerer and abstention model) on a seeded sample of one SQuAD 2.0 validation article:
figures stay above floors set from the measured values, and a rerun opens the cached index and
gives the same answers (the paired test against the first run finds no difference).

Measured (Private_school, --sample 60 --seed 0: 31 answerable, 29 unanswerable): evidence
cited 0.903 (28 of 31), first 0.806 (25 of 31), answered 1.000, abstained 0.103 (3 of 29),
balanced accuracy 0.552, AUROC 0.687, right passage in the top 5 1.000, verbatim 1.000."""
import json
from pathlib import Path

import pytest

from ragcomm.cli import main
from ragcomm.eval import squad_corpus

ROOT = Path(__file__).resolve().parents[2]
SQUAD2 = ROOT / "train" / "qa" / "squad2_dev_part.json.gz"  # in the repository (train/README.md)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SQUAD2.exists(), reason="train/qa is missing from this checkout")]


def test_a_sample_of_a_validation_article_through_the_whole_pipeline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(squad_corpus, "default_cache", lambda: tmp_path / "cache")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    args = ["eval", "--answers", "--squad", str(SQUAD2), "--articles", "Private_school", "--sample", "60",
            "--seed", "0"]
    assert main([*args, "--json", str(first)]) == 0
    out, err = capsys.readouterr()
    assert "| default |" in out and "| answerable | 31 |" in out and "| unanswerable | 29 |" in out
    assert "building the index of 1 article" in err and "60/60 questions" in err
    data = json.loads(first.read_text())
    s = data["answerers"][0]
    assert (s["answerable"], s["unanswerable"]) == (31, 29) and not data["notes"]
    assert data["articles"] == ["Private_school"] and data["sample"] == 60
    assert s["verbatim"] == 1.0  # every cited sentence is its document's text at its offsets
    assert s["evidence_cited"] >= 0.80
    assert s["evidence_first"] >= 0.65
    assert s["answered_when_answerable"] >= 0.90
    assert s["passage_top5"] >= 0.90
    assert s["balanced_accuracy"] >= 0.50
    assert s["auroc"] >= 0.55
    assert s["evidence_cited"] <= s["answer_in_one_sentence"]  # the ceiling holds
    assert s["latency_ms"]["p50"] > 0

    assert main([*args, "--baseline", str(first), "--json", str(second)]) == 0
    out, err = capsys.readouterr()
    assert "opening the index of 1 article" in err and "building" not in err
    assert "cited vs baseline" in out
    again = json.loads(second.read_text())["answerers"][0]
    for metric in ("evidence_cited", "evidence_first", "correct", "passage_top5"):
        assert again["significance"][f"{metric}_vs_baseline"]["difference"] == 0.0
    for qid, row in again["per_question"].items():
        assert {k: v for k, v in row.items() if k != "ms"} == \
            {k: v for k, v in s["per_question"][qid].items() if k != "ms"}
