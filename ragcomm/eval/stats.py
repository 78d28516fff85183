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


def paired_t_test(a, b) -> float:
    from scipy.stats import ttest_rel

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2 or not np.any(d):
        return 1.0
    p = float(ttest_rel(a, b).pvalue)
    return 1.0 if math.isnan(p) else p
