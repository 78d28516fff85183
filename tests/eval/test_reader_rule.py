"""The reader's shipping rule over two run folders of hand-made reports (ragcomm/eval/reader_rule.py)."""
import itertools
import json

import pytest

from ragcomm.eval import reader_rule as rr


def write_run(folder, outcomes: dict):
    """outcomes: report name -> list of (cited, first) per answerable question; one unanswerable too."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in outcomes.items():
        per = {f"q{i}": {"answerable": True, "answered": True, "evidence_cited": float(c), "evidence_first": float(f)}
               for i, (c, f) in enumerate(rows)}
        per["u"] = {"answerable": False, "answered": False, "evidence_cited": 0.0, "evidence_first": 0.0}
        (folder / f"{name}.json").write_text(json.dumps({"answerers": [{"name": "default", "per_question": per}]}))
    return folder


BASE = {"heldout-gold": [(1, 1), (1, 0)], "heldout-outside": [(1, 0), (0, 0)],
        "heldout-paraphrases": [(1, 1), (0, 0)], "squad-all": [(1, 1)] * 90 + [(0, 0)] * 10,
        "covidqa-test": [(1, 1), (1, 0)]}


def test_a_reader_better_on_the_small_sets_passes_with_hand_computed_means(tmp_path):
    new = dict(BASE, **{"heldout-gold": [(1, 1), (1, 1)], "heldout-outside": [(1, 1), (0, 0)]})
    result = rr.compare_runs(write_run(tmp_path / "a", BASE), write_run(tmp_path / "b", new))
    # first: (0.5 + 0 + 0.5 + 0.9) / 4 = 0.475 -> (1 + 0.5 + 0.5 + 0.9) / 4 = 0.725
    assert result["means"]["evidence_first"] == {"before": 0.475, "after": 0.725}
    assert result["means"]["evidence_cited"] == {"before": pytest.approx((1 + 0.5 + 0.5 + 0.9) / 4, abs=1e-4),
                                                 "after": pytest.approx((1 + 0.5 + 0.5 + 0.9) / 4, abs=1e-4)}
    # pooled over the 106 answerable questions: first 92 -> 94
    assert result["pooled"]["evidence_first"] == {"before": round(92 / 106, 4), "after": round(94 / 106, 4)}
    assert result["sets"]["heldout-gold"]["evidence_first"]["better"] == 1
    assert result["sets"]["heldout-gold"]["evidence_first"]["questions"] == 2  # the unanswerable one is left out
    assert result["passes"]
    assert "passes - ship" in rr.report(result, "a", "b")


def test_a_gain_on_squad_alone_does_not_outvote_a_loss_on_the_small_sets(tmp_path):
    # SQuAD +5 questions of 100 (first 0.90 -> 0.95); outside loses its one first (0.5 -> 0 on 2 questions)
    new = dict(BASE, **{"squad-all": [(1, 1)] * 95 + [(0, 0)] * 5, "heldout-paraphrases": [(1, 0), (0, 0)]})
    result = rr.compare_runs(write_run(tmp_path / "a", BASE), write_run(tmp_path / "b", new))
    assert result["means"]["evidence_first"]["after"] < result["means"]["evidence_first"]["before"]
    assert result["pooled"]["evidence_first"]["after"] > result["pooled"]["evidence_first"]["before"]
    assert not result["checks"]["mean first rises"] and not result["passes"]
    assert rr.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1


def test_covid_falling_by_more_than_the_tolerance_fails(tmp_path):
    new = dict(BASE, **{"heldout-gold": [(1, 1), (1, 1)], "covidqa-test": [(1, 0), (1, 0)]})
    result = rr.compare_runs(write_run(tmp_path / "a", BASE), write_run(tmp_path / "b", new))
    assert result["checks"]["mean first rises"]
    assert not result["checks"]["covidqa-test within 0.01"] and not result["passes"]


def test_a_missing_or_foreign_report_is_a_clear_error(tmp_path, capsys):
    base = write_run(tmp_path / "a", BASE)
    partial = write_run(tmp_path / "b", {k: v for k, v in BASE.items() if k != "covidqa-test"})
    with pytest.raises(rr.RuleError, match="covidqa-test.json is missing"):
        rr.compare_runs(base, partial)
    (partial / "covidqa-test.json").write_text('{"not": "a report"}')
    assert rr.main([str(base), str(partial)]) == 2
    assert "is not a report of 'ragcomm eval --answers --json'" in capsys.readouterr().err


def test_false_alarm_matches_every_way_the_changed_questions_can_go():
    for discordant, questions, tolerance in ((4, 100, 0.01), (7, 200, 0.01), (9, 375, 0.01), (6, 50, 0.05)):
        fails = sum(1 for signs in itertools.product((1, -1), repeat=discordant)
                    if -sum(signs) > tolerance * questions)  # worse - better
        assert rr.false_alarm(discordant, questions, tolerance) == pytest.approx(fails / 2 ** discordant)
    assert rr.false_alarm(4, 100, 0.01) == pytest.approx(5 / 16)  # 3 or 4 of 4 worse: (4 + 1) / 16
    assert rr.false_alarm(0, 100, 0.01) == 0.0
    assert rr.false_alarm(2, 1000, 0.01) == 0.0  # 2 changes can never cost 10 questions


def test_the_report_prints_the_false_alarm_of_each_guard(tmp_path):
    new = dict(BASE, **{"covidqa-test": [(1, 1), (1, 1)]})  # one question better on first
    result = rr.compare_runs(write_run(tmp_path / "a", BASE), write_run(tmp_path / "b", new))
    # one discordant question of 2: it fails when worse - better > 0.02, i.e. the one goes worse
    assert result["false_alarm"]["covidqa-test evidence_first"] == 0.5
    assert result["false_alarm"]["covidqa-test evidence_cited"] == 0.0
    assert "covidqa-test evidence_first 0.50" in rr.report(result, "a", "b")


def test_several_runs_a_side_are_averaged_question_by_question(tmp_path):
    seed1 = dict(BASE, **{"heldout-gold": [(1, 0), (1, 0)]})  # the same recipe, another seed: gold first 0.5 -> 0
    new = dict(BASE, **{"heldout-gold": [(1, 1), (1, 1)]})
    a0, a1 = write_run(tmp_path / "a0", BASE), write_run(tmp_path / "a1", seed1)
    b0, b1 = write_run(tmp_path / "b0", new), write_run(tmp_path / "b1", new)
    result = rr.compare_runs(f"{a0},{a1}", [b0, b1])
    gold = result["sets"]["heldout-gold"]["evidence_first"]
    # question 0: first 1 and 0 over the two seeds -> 0.5; question 1: 0 and 0 -> 0. Mean 0.25 -> 1.0
    assert (gold["before"], gold["after"], gold["better"], gold["worse"]) == (0.25, 1.0, 2, 0)
    # one seed alone: 0.5 -> 1.0
    assert rr.compare_runs(a0, b0)["sets"]["heldout-gold"]["evidence_first"]["before"] == 0.5
    assert rr.main([f"{a0},{a1}", f"{b0},{b1}"]) == 0
    partial = write_run(tmp_path / "b2", {k: v for k, v in new.items() if k != "covidqa-test"})
    with pytest.raises(rr.RuleError, match="covidqa-test.json is missing"):
        rr.compare_runs(f"{a0},{a1}", f"{b0},{partial}")
