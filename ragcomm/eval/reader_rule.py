"""The rule a new reader must pass to ship, applied to two runs of `eval/reader.sh`.

Each run folder holds the reports of one reader (heldout-gold.json, heldout-outside.json,
heldout-paraphrases.json, squad-all.json, covidqa-test.json, and others it may have). The
rule, written before the seventh round's first result (the sixth round's, plus COVID-QA test;
eval/README.md, "The reader"):

- the mean of evidence-first over the four rule sets (gold, outside and paraphrases held out,
  SQuAD's 8 validation articles) rises, and the mean of evidence-cited does not fall;
- SQuAD all 8 and COVID-QA test each within `tolerance` (0.01) on cited and on first.

Each set's change is tested question by question (paired randomisation test, stats.py).
Reported beside the rule when both runs have them: SQuAD's 4 report articles, COVID-QA dev and
the questions written outside the project on ../shared/realdocs (realdocs-outside).
Also printed, not part of the rule: the same shares pooled over every answerable question of
the four sets (SQuAD's 1,085 weigh 25 times gold's 43 there), and for each guard how often a
candidate that changes nothing on average would fail it by chance alone (`false_alarm`).

    python -m ragcomm.eval.reader_rule reports/reader-eval-shipped reports/reader-eval-new

Either side may be several runs, comma-separated (one per training seed, say): each question's
cited and first are then averaged over them, so two recipes are compared by their seeds' mean
rather than by one seed's luck (eval/README.md, "Tenth round").

    python -m ragcomm.eval.reader_rule shipped-seed0,shipped-seed1 new-seed0,new-seed1
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from .answers import paired_values, report_rows
from .stats import randomisation_test

RULE_SETS = ("heldout-gold", "heldout-outside", "heldout-paraphrases", "squad-all")
WITHIN = ("squad-all", "covidqa-test")
REPORTED = RULE_SETS + ("squad-report", "covidqa-test", "covidqa-dev", "realdocs-outside")
METRICS = ("evidence_cited", "evidence_first")


class RuleError(ValueError):
    """A run folder lacks a report the rule needs, or a report is not one of `eval --answers`."""


def runs(side) -> list[Path]:
    """One run folder, or several (a list, or a comma-separated string)."""
    if isinstance(side, (list, tuple)):
        return [Path(f) for f in side]
    return [Path(f) for f in str(side).split(",") if f]


def rows_of(side, name: str) -> dict | None:
    """qid -> record of the report's default row, or None if a folder has no such report. Over
    several runs: the questions all of them asked, with cited and first averaged over the runs."""
    folders = runs(side)
    if not folders:
        raise RuleError("no run folder given")
    tables = []
    for folder in folders:
        path = folder / f"{name}.json"
        if not path.exists():
            return None
        try:
            tables.append(report_rows(path))
        except ValueError as exc:
            raise RuleError(f"{path} is not a report of 'ragcomm eval --answers --json': {exc}") from None
    if len(tables) == 1:
        return tables[0]
    common = [q for q in tables[0] if all(q in t for t in tables[1:])]
    return {q: dict(tables[0][q], **{m: sum(float(t[q][m]) for t in tables) / len(tables) for m in METRICS})
            for q in common}


def false_alarm(discordant: int, questions: int, tolerance: float) -> float:
    """The chance that a candidate with no effect fails a guard "within `tolerance`" on a set
    of `questions`: each of the `discordant` questions that change goes either way with
    probability 1/2, and it fails when worse - better exceeds `tolerance` x `questions`.
    Over several runs a side a question may move by a fraction; counting it as a whole one
    makes the figure an upper bound.

    >>> false_alarm(0, 375, 0.01)
    0.0
    >>> round(false_alarm(4, 100, 0.01), 4)  # fails when worse - better >= 2: 3 or 4 of 4 worse
    0.3125
    """
    if discordant <= 0 or questions <= 0:
        return 0.0
    limit = tolerance * questions + 1e-9  # worse - better = 2 worse - discordant must exceed this
    fails = sum(math.comb(discordant, worse) for worse in range(discordant + 1)
                if 2 * worse - discordant > limit)
    return fails / 2 ** discordant


def compare_runs(base, new, tolerance: float = 0.01) -> dict:
    """Per set: the paired shares before and after, p, better / worse; the rule's means and verdict.
    `base` and `new`: a run folder each, or several (`runs`) whose questions are averaged."""
    sets, paired = {}, {}  # paired: (set, metric) -> (before, after) per question, for the pooled shares
    for name in REPORTED:
        before, after = rows_of(base, name), rows_of(new, name)
        if before is None or after is None:
            if name in RULE_SETS or name in WITHIN:
                raise RuleError(f"{name}.json is missing from {base if before is None else new}")
            continue
        entry = {}
        for metric in METRICS:
            a, b = paired_values(after, before, metric)
            a, b = np.array(a), np.array(b)
            paired[name, metric] = (b, a)
            entry[metric] = {"questions": len(a), "before": round(float(b.mean()), 4) if len(a) else 0.0,
                             "after": round(float(a.mean()), 4) if len(a) else 0.0,
                             "better": int((a > b).sum()), "worse": int((a < b).sum()),
                             "p": randomisation_test(a, b) if len(a) else 1.0}
        sets[name] = entry
    means, pooled = {}, {}
    for metric in METRICS:
        part = [sets[n][metric] for n in RULE_SETS]
        means[metric] = {side: round(float(np.mean([p[side] for p in part])), 4) for side in ("before", "after")}
        pooled[metric] = {side: round(float(np.concatenate([paired[n, metric][i] for n in RULE_SETS]).mean()), 4)
                          for i, side in enumerate(("before", "after"))}
    checks = {
        "mean first rises": means["evidence_first"]["after"] > means["evidence_first"]["before"],
        "mean cited does not fall": means["evidence_cited"]["after"] >= means["evidence_cited"]["before"],
    }
    for name in WITHIN:
        checks[f"{name} within {tolerance}"] = all(
            sets[name][m]["after"] >= sets[name][m]["before"] - tolerance - 1e-9 for m in METRICS)
    alarms = {f"{name} {metric}": round(false_alarm(sets[name][metric]["better"] + sets[name][metric]["worse"],
                                                    sets[name][metric]["questions"], tolerance), 3)
              for name in WITHIN for metric in METRICS}
    return {"sets": sets, "means": means, "pooled": pooled, "checks": checks, "false_alarm": alarms,
            "passes": all(checks.values())}


def report(result: dict, base: str, new: str) -> str:
    lines = [f"Before: {base}; after: {new}. Cited / first over answerable questions; p: paired "
             "randomisation test; +/-: questions better / worse.", "",
             "| set | questions | cited before -> after | p | +/- | first before -> after | p | +/- |",
             "|---|---|---|---|---|---|---|---|"]
    for name, entry in result["sets"].items():
        c, f = entry["evidence_cited"], entry["evidence_first"]
        lines.append(f"| {name} | {c['questions']} | {c['before']:.3f} -> {c['after']:.3f} | {c['p']:.2f} | "
                     f"+{c['better']}/-{c['worse']} | {f['before']:.3f} -> {f['after']:.3f} | {f['p']:.2f} | "
                     f"+{f['better']}/-{f['worse']} |")
    m, p = result["means"], result["pooled"]
    lines += ["", f"Mean of the four rule sets: cited {m['evidence_cited']['before']:.4f} -> "
                  f"{m['evidence_cited']['after']:.4f}, first {m['evidence_first']['before']:.4f} -> "
                  f"{m['evidence_first']['after']:.4f}.",
              f"Pooled over their answerable questions (not the rule): cited {p['evidence_cited']['before']:.4f} -> "
              f"{p['evidence_cited']['after']:.4f}, first {p['evidence_first']['before']:.4f} -> "
              f"{p['evidence_first']['after']:.4f}.", ""]
    lines += [f"- {name}: {'yes' if ok else 'NO'}" for name, ok in result["checks"].items()]
    if result.get("false_alarm"):
        lines += ["", "Chance that a candidate with no effect fails each guard, with as many questions changing "
                      "(not the rule): " + ", ".join(f"{k} {v:.2f}" for k, v in result["false_alarm"].items()) + "."]
    lines += ["", f"Rule: {'passes - ship' if result['passes'] else 'fails - do not ship'}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Does a new reader pass the shipping rule? (two eval/reader.sh runs)")
    p.add_argument("base", help="reports of the shipped reader (eval/reader.sh OUT=...); several, comma-separated, "
                                "are averaged per question (one per seed)")
    p.add_argument("new", help="reports of the candidate reader (or several, comma-separated)")
    p.add_argument("--tolerance", type=float, default=0.01)
    args = p.parse_args(argv)
    try:
        result = compare_runs(args.base, args.new, args.tolerance)
    except RuleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(result, str(args.base), str(args.new)))
    return 0 if result["passes"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
