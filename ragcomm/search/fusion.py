"""Fusing ranked lists: pure functions over {item: score} dicts, chosen by name.

    rrf         reciprocal rank fusion: ranks only, k tunable
    weighted    convex combination of min-max-normalised scores
    zscore      convex combination of z-scores (each list's mean 0, standard deviation 1)
    dbsf        distribution-based score fusion: each list scaled from mean - 3 sd to mean + 3 sd

The score fusions take per-list weights; `confidence_weights` turns fixed weights into
per-query ones from the lists' own scores (how far each list's best item stands out from its
top ten), with no labels. An item missing from a list gets that list's lowest normalised score.

    >>> fused = rrf([["a", "b"], ["b", "c"]], k=60)
    >>> ranked(fused)
    ['b', 'a', 'c']
    >>> weighted([{"a": 2.0, "b": 1.0}, {"b": 0.9, "c": 0.5}], [0.6, 0.4])
    {'a': 0.6, 'b': 0.4, 'c': 0.0}
    >>> zscore([{"a": 3.0, "b": 1.0}, {"b": 0.5}], [0.5, 0.5])
    {'a': 0.0, 'b': -0.5}
"""
from __future__ import annotations

import math


def rrf(rankings: list[list], k: int = 60) -> dict:
    """Reciprocal rank fusion: sum over lists of 1 / (k + rank), ranks from 1."""
    fused: dict = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict) -> dict:
    """Scores scaled to [0, 1]; all equal -> all 1."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi == lo:
        return {key: 1.0 for key in scores}
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def _mean_sd(values) -> tuple[float, float]:
    values = list(values)
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def z_scores(scores: dict) -> dict:
    """(score - mean) / standard deviation over the list; all equal -> all 0.

    >>> z_scores({"a": 3.0, "b": 1.0})
    {'a': 1.0, 'b': -1.0}
    """
    if not scores:
        return {}
    mean, sd = _mean_sd(scores.values())
    if sd == 0:
        return {key: 0.0 for key in scores}
    return {key: (v - mean) / sd for key, v in scores.items()}


def dbsf_scores(scores: dict) -> dict:
    """Distribution-based score fusion's scaling: mean - 3 sd -> 0, mean + 3 sd -> 1, clipped;
    all equal -> all 0.5."""
    if not scores:
        return {}
    mean, sd = _mean_sd(scores.values())
    if sd == 0:
        return {key: 0.5 for key in scores}
    return {key: min(1.0, max(0.0, (v - mean + 3 * sd) / (6 * sd))) for key, v in scores.items()}


# What an item a list did not return scores when all of that list's scores are equal (so
# it has no lowest one below the rest): below the items it did return.
FLAT_MISSING = {"min_max": 0.0, "z_scores": -1.0, "dbsf_scores": 0.0}


def combine(score_lists: list[dict], weights: list[float], normalise) -> dict:
    """Weighted sum of normalised scores over the union of the lists. An item a list did not
    return gets that list's lowest normalised score (its true score is no higher), or, when
    the list's scores are all equal, a score below them; an empty list adds nothing.

    >>> combine([{"a": 2.0}, {"a": 0.3, "b": 0.1}], [0.5, 0.5], min_max)
    {'a': 1.0, 'b': 0.0}
    """
    fused = {key: 0.0 for scores in score_lists for key in scores}
    for scores, weight in zip(score_lists, weights):
        if not scores:
            continue
        normal = normalise(scores)
        flat = len(set(scores.values())) == 1
        floor = FLAT_MISSING[normalise.__name__] if flat else min(normal.values())
        for key in fused:
            fused[key] += weight * normal.get(key, floor)
    return fused


def weighted(score_lists: list[dict], weights: list[float]) -> dict:
    """Convex combination of min-max-normalised scores; a missing item scores 0 in that list."""
    return combine(score_lists, weights, min_max)


def zscore(score_lists: list[dict], weights: list[float]) -> dict:
    """Convex combination of z-scores: a list's spread, not only its extremes, sets the scale."""
    return combine(score_lists, weights, z_scores)


def dbsf(score_lists: list[dict], weights: list[float]) -> dict:
    """Distribution-based score fusion (mean +- 3 sd scaled to [0, 1])."""
    return combine(score_lists, weights, dbsf_scores)


def confidence(scores: dict, top: int = 10) -> float:
    """How far a list's best score stands out from its top `top`: (best - mean) / sd over
    them; 0 for fewer than two items or equal scores.

    >>> round(confidence({"a": 10.0, "b": 2.0, "c": 2.0, "d": 2.0}), 3)
    1.732
    """
    best = sorted(scores.values(), reverse=True)[:top]
    if len(best) < 2:
        return 0.0
    mean, sd = _mean_sd(best)
    return (best[0] - mean) / sd if sd > 0 else 0.0


def confidence_weights(score_lists: list[dict], weights: list[float]) -> list[float]:
    """Per-query weights: each fixed weight times its list's `confidence`, rescaled to sum to
    the same total. A list whose best item stands out gets more say; when no list has any
    confidence (empty or flat lists) the fixed weights stand.

    >>> confidence_weights([{"a": 9.0, "b": 1.0, "c": 1.0}, {"a": 1.0, "b": 1.0}], [0.5, 0.5])
    [1.0, 0.0]
    """
    raw = [w * confidence(scores) for scores, w in zip(score_lists, weights)]
    total = sum(raw)
    if total <= 0:
        return list(weights)
    return [sum(weights) * r / total for r in raw]


SCORE_FUSIONS = {"weighted": weighted, "zscore": zscore, "dbsf": dbsf}
FUSIONS = ("rrf", *SCORE_FUSIONS)
WEIGHTINGS = ("fixed", "confidence")


def fuse(fusion: str, score_lists: list[dict], dense_weight: float = 0.5, rrf_k: int = 60,
         weighting: str = "fixed") -> dict:
    """Fuse [BM25 scores, dense scores] (each {item: score}, best first) by name.

    >>> ranked(fuse("zscore", [{"a": 3.0, "b": 1.0}, {"b": 0.9, "a": 0.1}], dense_weight=0.5))
    ['a', 'b']
    """
    if fusion == "rrf":
        return rrf([ranked(scores) for scores in score_lists], k=rrf_k)
    if fusion not in SCORE_FUSIONS:
        raise ValueError(f"unknown fusion '{fusion}' (choose from {', '.join(FUSIONS)})")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting '{weighting}' (choose from {', '.join(WEIGHTINGS)})")
    weights = [1.0 - dense_weight, dense_weight]
    if weighting == "confidence":
        weights = confidence_weights(score_lists, weights)
    return SCORE_FUSIONS[fusion](score_lists, weights)


def ranked(scores: dict) -> list:
    """Keys by descending score, ties broken by key for a stable order."""
    return sorted(scores, key=lambda key: (-scores[key], key))
