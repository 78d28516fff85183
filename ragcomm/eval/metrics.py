"""Runs + qrels -> metrics, with trec_eval's definitions (pytrec_eval).

Runs and qrels have ranx's shapes, {query_id: {doc_id: score}}; metric names are
"ndcg@10", "recall@100", "mrr@10", "mrr", "map", "hit@5", "p@10".

    >>> qrels = {"q1": {"d1": 1}}
    >>> run = {"q1": {"d2": 0.9, "d1": 0.5}}
    >>> mean_scores(evaluate(run, qrels, ["mrr@10", "hit@1"]))
    {'mrr@10': 0.5, 'hit@1': 0.0}
"""
from __future__ import annotations

import numpy as np

GOLD_METRICS = ("ndcg@10", "recall@5", "recall@10", "recall@100", "mrr@10", "map", "hit@1", "hit@5")
BEIR_METRICS = ("ndcg@10", "recall@5", "recall@10", "recall@100", "mrr@10", "mrr", "map", "hit@5")
CURVE_KS = tuple(range(1, 101))


def _trec_measure(name: str) -> tuple[str, str]:
    """('ndcg@10') -> (pytrec_eval measure, result key): ('ndcg_cut.10', 'ndcg_cut_10')."""
    base, _, cut = name.lower().partition("@")
    table = {"ndcg": "ndcg_cut", "recall": "recall", "hit": "success", "p": "P", "map": "map_cut"}
    if not cut:
        full = {"map": "map", "mrr": "recip_rank", "ndcg": "ndcg", "r-precision": "Rprec"}
        if base not in full:
            raise ValueError(f"unknown metric '{name}'")
        return full[base], full[base]
    if base == "mrr":  # reciprocal rank of the run cut at k: see evaluate()
        return "recip_rank", "recip_rank"
    if base not in table or not cut.isdigit() or int(cut) < 1:
        raise ValueError(f"unknown metric '{name}' (e.g. ndcg@10, recall@100, mrr@10, map, hit@5)")
    return f"{table[base]}.{int(cut)}", f"{table[base]}_{int(cut)}"


def check_metric(name: str) -> str:
    """The name if it is a metric this module computes; else ValueError."""
    _trec_measure(name)
    return name


def trec_order(scores: dict) -> list:
    """Items in trec_eval's order: score descending, ties by doc id descending."""
    return sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def truncate(run: dict, k: int) -> dict:
    return {q: dict(trec_order(docs)[:k]) for q, docs in run.items()}


def evaluate(run: dict, qrels: dict, metrics=GOLD_METRICS) -> dict:
    """Per-query scores {qid: {metric: value}} for every judged query (grade > 0 somewhere);
    a query the run does not answer scores 0. Ties are ordered as trec_eval orders them."""
    import pytrec_eval

    judged = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()
              if any(int(g) > 0 for g in docs.values())}
    run = {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if q in judged}
    out = {q: {} for q in judged}
    plain, cut_rr = [], []
    for m in metrics:
        (cut_rr if m.lower().startswith("mrr@") else plain).append(m)
    groups = [(plain, run)] + [([m], truncate(run, int(m.split("@")[1]))) for m in cut_rr]
    for names, this_run in groups:
        if not names:
            continue
        measures = {_trec_measure(m)[0] for m in names}
        results = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(this_run) if this_run else {}
        for q in judged:
            for m in names:
                out[q][m] = float(results.get(q, {}).get(_trec_measure(m)[1], 0.0))
    return {q: {m: scores[m] for m in metrics} for q, scores in out.items()}  # in the order asked for


def mean_scores(per_query: dict, metrics=None) -> dict:
    """Mean of each metric over queries."""
    if not per_query:
        return {m: 0.0 for m in metrics or ()}
    names = metrics or next(iter(per_query.values())).keys()
    return {m: float(np.mean([scores[m] for scores in per_query.values()])) for m in names}


def recall_curve(run: dict, qrels: dict, ks=CURVE_KS) -> list[float]:
    """Mean Recall@k for each k."""
    names = [f"recall@{k}" for k in ks]
    means = mean_scores(evaluate(run, qrels, names), names)
    return [means[n] for n in names]


def ranks_to_run(ranked: dict) -> dict:
    """{qid: [(doc_id, score), ...] best first} -> a run whose scores keep exactly that order
    (depth - rank), so that trec_eval sees the ranking the user sees, ties included."""
    return {q: {d: float(len(items) - r) for r, (d, _) in enumerate(items)} for q, items in ranked.items()}
