"""Pseudo-relevance feedback: the top results of a first search reshape the query, with no
labels. Pure functions; the Retriever runs the two searches.

    rm3       BM25: the query's terms mixed with the terms of the top documents (a relevance
              model weighted by each document's first-pass score)
    rocchio   dense: the query vector moved towards the mean of the top documents' vectors

    >>> rm3(["gp"], [(["gp", "fundhold"], 1.0)], terms=2, original_weight=0.5)
    {'gp': 0.75, 'fundhold': 0.25}
"""
from __future__ import annotations

from collections import Counter

import numpy as np

PRFS = ("none", "rm3")
DENSE_PRFS = ("none", "rocchio")


def rm3(query_terms: list[str], feedback: list[tuple[list[str], float]], terms: int = 10,
        original_weight: float = 0.5) -> dict[str, float]:
    """Weighted query terms (summing to 1): `original_weight` on the query's own terms (each
    by its share of the query), the rest on the `terms` strongest terms of the relevance model
    P(w|R) = sum over feedback documents of P(w|d) * the document's share of the first-pass
    scores. `feedback` is [(a document's analysed tokens, its first-pass score)]; ties between
    terms are broken alphabetically, so the expansion is deterministic."""
    query = Counter(query_terms)
    weights = {t: original_weight * n / len(query_terms) for t, n in query.items()} if query_terms else {}
    feedback = [(tokens, score) for tokens, score in feedback if tokens and score > 0]
    total = sum(score for _, score in feedback)
    if not feedback or total <= 0:
        return {t: w / original_weight for t, w in weights.items()} if weights else {}
    model: dict[str, float] = {}
    for tokens, score in feedback:
        for term, n in Counter(tokens).items():
            model[term] = model.get(term, 0.0) + (score / total) * n / len(tokens)
    best = sorted(model, key=lambda t: (-model[t], t))[:terms]
    mass = sum(model[t] for t in best)
    share = (1.0 - original_weight) if weights else 1.0
    for term in best:
        weights[term] = weights.get(term, 0.0) + share * model[term] / mass
    return weights


def rocchio(query_vector: np.ndarray, feedback_vectors: np.ndarray, beta: float = 0.5) -> np.ndarray:
    """The query vector plus `beta` times the mean of the feedback vectors, unit length
    (the query unchanged without feedback).

    >>> [round(float(x), 3) for x in rocchio(np.array([1.0, 0.0]), np.array([[0.0, 1.0]]), beta=1.0)]
    [0.707, 0.707]
    """
    q = np.asarray(query_vector, dtype=np.float32)
    if len(feedback_vectors) == 0:
        return q
    moved = q + beta * np.asarray(feedback_vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(moved))
    return (moved / norm).astype(np.float32) if norm > 0 else q
