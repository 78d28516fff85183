"""Paired significance tests over per-query scores.

    >>> randomisation_test([1, 1, 1, 1], [1, 1, 1, 1])
    1.0
"""
from __future__ import annotations

import math

import numpy as np


def randomisation_test(a, b, trials: int = 10_000, seed: int = 0) -> float:
    """Two-sided paired randomisation (sign-flip) test of mean(a) == mean(b): the p-value."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0 or not np.any(d):
        return 1.0
    observed = abs(d.mean())
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(trials, len(d)))
    permuted = np.abs((signs * d).mean(axis=1))
    return float((1 + np.sum(permuted >= observed - 1e-12)) / (trials + 1))


def proportion_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a share (scipy's): how far a figure over n questions may
    be from the share over all such questions.

    >>> [round(x, 4) for x in proportion_interval(31, 43)]
    [0.5731, 0.8325]
    """
    if n <= 0:
        return None
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def paired_t_test(a, b) -> float:
    from scipy.stats import ttest_rel

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2 or not np.any(d):
        return 1.0
    p = float(ttest_rel(a, b).pvalue)
    return 1.0 if math.isnan(p) else p
