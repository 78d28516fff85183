"""One default for every collection: the choice rule of eval/README.md over the JSON reports
of `ragcomm eval --grid` (one report per collection, the same candidates in each).

Rule. On each collection, the best single retriever is the best bm25 or dense row (with or
without feedback or sentence scoring) and the reference hybrid is RRF with k = 60. A hybrid
candidate *holds* on a collection when its nDCG@10 is no worse than the best single retriever
less `tolerance` (0.005) and no worse than RRF; it *wins* there when it also beats the best
single retriever by `margin` (0.02). The default is the candidate that holds on every
collection, wins on the most, and then has the highest mean nDCG@10. Leave-one-out: the rule
applied to all collections but one, and the pick scored on the one left out.

    >>> reports = {"a": {"bm25": 0.50, "dense": 0.40, "hybrid-rrf60 bm25s": 0.48, "hybrid-x": 0.53, "hybrid-y": 0.55},
    ...            "b": {"bm25": 0.30, "dense": 0.40, "hybrid-rrf60 bm25s": 0.42, "hybrid-x": 0.43, "hybrid-y": 0.39}}
    >>> choose(reports)["choice"]
    'hybrid-x'
"""
from __future__ import annotations

import json
from pathlib import Path

METRIC = "ndcg@10"
RRF = "hybrid-rrf60 bm25s"
OLD_DEFAULT = "hybrid-weighted0.4 bm25s"  # the default before issue #14
TOLERANCE = 0.005
MARGIN = 0.02


def load_reports(paths) -> tuple[dict, dict, dict]:
    """{collection: {candidate: nDCG@10}}, {collection: {candidate: latency p50 ms}} and
    {collection: {candidate: entry}} from `ragcomm eval --json` files."""
    scores, latency, entries = {}, {}, {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        name = Path(data["dataset"]).name if data["kind"] == "beir" else "gold"
        rows = data["configurations"]
        scores[name] = {r["candidate"]: r[METRIC] for r in rows}
        latency[name] = {r["candidate"]: r["latency_ms"]["p50"] for r in rows}
        entries[name] = {r["candidate"]: r for r in rows}
    return scores, latency, entries


def is_single(candidate: str) -> bool:
    return not candidate.startswith("hybrid")


def standing(scores: dict, candidate: str, tolerance: float = TOLERANCE, margin: float = MARGIN) -> dict:
    """How one candidate does on one collection against its best single retriever and RRF."""
    singles = [c for c in scores if is_single(c)]
    if not singles:
        raise ValueError("the rule compares each hybrid with the best single retriever: run --modes bm25,dense "
                         "(or grid rows with mode bm25 and dense) in every report")
    best_name = max(singles, key=lambda c: scores[c])
    best, value = scores[best_name], scores[candidate]
    rrf = scores.get(RRF, float("-inf"))
    return {METRIC: value, "best_single": best_name, "best_single_score": best, "rrf": scores.get(RRF),
            "over_best_single": round(value - best, 4),
            "holds": value >= best - tolerance and value >= rrf, "wins": value >= best + margin}


def choose(reports: dict, tolerance: float = TOLERANCE, margin: float = MARGIN) -> dict:
    """The rule over {collection: {candidate: nDCG@10}}: the choice and every candidate's record.
    Only hybrid candidates present in every report compete."""
    common = set.intersection(*(set(s) for s in reports.values()))
    candidates = sorted(c for c in common if not is_single(c))
    if not candidates:
        raise ValueError("no hybrid candidate was run on every collection")
    records = {}
    for c in candidates:
        per = {name: standing(scores, c, tolerance, margin) for name, scores in reports.items()}
        records[c] = {"holds_on": sum(p["holds"] for p in per.values()), "wins_on": sum(p["wins"] for p in per.values()),
                      "mean": sum(p[METRIC] for p in per.values()) / len(per), "collections": per}
    order = sorted(candidates, key=lambda c: (-records[c]["holds_on"], -records[c]["wins_on"], -records[c]["mean"], c))
    return {"choice": order[0], "order": order, "records": records, "collections": sorted(reports),
            "tolerance": tolerance, "margin": margin}


def leave_one_out(reports: dict, tolerance: float = TOLERANCE, margin: float = MARGIN) -> list[dict]:
    """For each collection: the rule's pick from the others, and how it does on this one."""
    out = []
    for held in sorted(reports):
        seen = {k: v for k, v in reports.items() if k != held}
        pick = choose(seen, tolerance, margin)["choice"]
        out.append({"left_out": held, "pick": pick, **standing(reports[held], pick, tolerance, margin)})
    return out


def significance(entries: dict, choice: str, baselines=(RRF, OLD_DEFAULT), trials: int = 10_000) -> list[dict]:
    """The choice against the best single retriever, RRF and the old default on each collection:
    the difference in nDCG@10 and a paired randomisation test over the per-query scores."""
    from .stats import randomisation_test

    out = []
    for name in sorted(entries):
        rows = entries[name]
        singles = [c for c in rows if is_single(c)]
        best = max(singles, key=lambda c: rows[c][METRIC])
        for other in (best, *baselines):
            if other not in rows or other == choice or "per_query" not in rows[choice]:
                continue
            qids = sorted(rows[choice]["per_query"])
            a = [rows[choice]["per_query"][q][METRIC] for q in qids]
            b = [rows[other]["per_query"].get(q, {}).get(METRIC, 0.0) for q in qids]
            out.append({"collection": name, "against": other, "difference": round(rows[choice][METRIC] - rows[other][METRIC], 4),
                        "p_randomisation": randomisation_test(a, b, trials)})
    return out


SUMMARY_METRICS = ("ndcg@10", "mrr@10", "hit@5", "recall@100")


def summary(entries: dict, choice: str, baselines=(OLD_DEFAULT, RRF)) -> list[dict]:
    """Per collection: the choice, the old default, RRF and the best single retriever, with
    SUMMARY_METRICS (those the report has) and p50 latency.

    >>> rows = {"a": {"bm25": {"ndcg@10": 0.5, "mrr@10": 0.6, "latency_ms": {"p50": 1.0}},
    ...               "hybrid-x": {"ndcg@10": 0.55, "mrr@10": 0.7, "latency_ms": {"p50": 9.0}}}}
    >>> [(r["role"], r["candidate"], r["mrr@10"]) for r in summary(rows, "hybrid-x")]
    [('choice', 'hybrid-x', 0.7), ('best single', 'bm25', 0.6)]
    """
    out = []
    for name in sorted(entries):
        rows = entries[name]
        best = max((c for c in rows if is_single(c)), key=lambda c: rows[c][METRIC])
        roles = [("choice", choice), ("old default", baselines[0]), ("RRF", baselines[1]), ("best single", best)]
        for role, candidate in roles:
            if candidate in rows:
                row = rows[candidate]
                out.append({"collection": name, "role": role, "candidate": candidate,
                            **{m: row.get(m) for m in SUMMARY_METRICS}, "p50_ms": row["latency_ms"]["p50"]})
    return out


def markdown(reports: dict, latency: dict, choice: dict, loo: list[dict], tests: list[dict] = (),
             summary_rows: list[dict] = ()) -> str:
    """Every candidate on every collection (nDCG@10, p50 ms), the choice and leave-one-out."""
    names = choice["collections"]
    rows = sorted(set.intersection(*(set(s) for s in reports.values())),
                  key=lambda c: (not is_single(c), c))
    lines = ["| candidate | " + " | ".join(f"{n} nDCG@10 (p50 ms)" for n in names) + " | holds on | wins on |",
             "|---|" + "---|" * (len(names) + 2)]
    for c in rows:
        rec = choice["records"].get(c)
        cells = []
        for n in names:
            mark = ""
            if rec:
                st = rec["collections"][n]
                mark = " ✓" if st["wins"] else ("" if st["holds"] else " ✗")
            cells.append(f"{reports[n][c]:.4f}{mark} ({latency[n][c]:.1f})")
        held = f"{rec['holds_on']}/{len(names)}" if rec else "—"
        won = f"{rec['wins_on']}/{len(names)}" if rec else "—"
        name = f"**{c}**" if c == choice["choice"] else c
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {held} | {won} |")
    lines += ["", f"Choice: **{choice['choice']}** (✓ = best single + {choice['margin']}, "
                  f"✗ = below best single - {choice['tolerance']} or below RRF).", "",
              "| left out | pick from the others | its nDCG@10 there | best single there | RRF there | holds | wins |",
              "|---|---|---|---|---|---|---|"]
    for r in loo:
        rrf = "—" if r["rrf"] is None else f"{r['rrf']:.4f}"  # no RRF row in the reports (eval/rerank.json)
        lines.append(f"| {r['left_out']} | {r['pick']} | {r[METRIC]:.4f} | {r['best_single_score']:.4f} "
                     f"({r['best_single']}) | {rrf} | {'yes' if r['holds'] else 'no'} | "
                     f"{'yes' if r['wins'] else 'no'} |")
    if tests:
        lines += ["", "The choice against the best single retriever, RRF and the old default (paired randomisation "
                      "test, 10,000 sign flips, nDCG@10 per query):", "",
                  "| collection | against | difference | p |", "|---|---|---|---|"]
        lines += [f"| {t['collection']} | {t['against']} | {t['difference']:+.4f} | {t['p_randomisation']:.3f} |"
                  for t in tests]
    if summary_rows:
        lines += ["", "Per collection: the choice beside the old default, RRF and the best single retriever:", "",
                  "| collection | | candidate | " + " | ".join(SUMMARY_METRICS) + " | p50 ms |",
                  "|---|---|---|" + "---|" * (len(SUMMARY_METRICS) + 1)]
        for r in summary_rows:
            cells = " | ".join("—" if r[m] is None else f"{r[m]:.4f}" for m in SUMMARY_METRICS)
            lines.append(f"| {r['collection']} | {r['role']} | {r['candidate']} | {cells} | {r['p50_ms']:.1f} |")
    return "\n".join(lines)
