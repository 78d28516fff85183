"""Fusing ranked lists: pure functions over {item: score} dicts.

    >>> fused = rrf([["a", "b"], ["b", "c"]], k=60)
    >>> ranked(fused)
    ['b', 'a', 'c']
    >>> weighted([{"a": 2.0, "b": 1.0}, {"b": 0.9, "c": 0.5}], [0.6, 0.4])
    {'a': 0.6, 'b': 0.4, 'c': 0.0}
"""
from __future__ import annotations


def rrf(rankings: list[list], k: int = 60) -> dict:
    """Reciprocal rank fusion: sum over lists of 1 / (k + rank), ranks from 1."""
    fused: dict = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict) -> dict:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi == lo:
        return {key: 1.0 for key in scores}
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def weighted(score_lists: list[dict], weights: list[float]) -> dict:
    """Convex combination of min-max-normalised scores; a missing item scores 0 in that list."""
    fused: dict = {}
    for scores, weight in zip(score_lists, weights):
        for key, v in min_max(scores).items():
            fused[key] = fused.get(key, 0.0) + weight * v
    for scores in score_lists:
        for key in scores:
            fused.setdefault(key, 0.0)
    return fused


def ranked(scores: dict) -> list:
    """Keys by descending score, ties broken by key for a stable order."""
    return sorted(scores, key=lambda key: (-scores[key], key))
