"""How well a reader scores held-out groups: does it put the answering sentence first, and
does its best score tell answerable questions from unanswerable ones?

    >>> from ragcomm.reader.pairs import Group
    >>> groups = [Group("t", "a", "q1", ["x", "y"], [0, 1]), Group("t", "a", "q2", ["x", "y"], [0, 0])]
    >>> scores = {"q1": [0.5, 2.0], "q2": [-1.0, 0.2]}
    >>> group_figures(lambda q, s: scores[q], groups)
    {'groups': 2, 'answerable': 1, 'top1': 1.0, 'mrr': 1.0, 'auroc': 1.0, 'answered_at_0': 1.0, 'declined_at_0': 0.0}
"""
from __future__ import annotations

import numpy as np


def auroc(positives, negatives) -> float | None:
    """Probability that a positive scores above a negative (ties count half)."""
    if not len(positives) or not len(negatives):
        return None
    p = np.asarray(positives, dtype=float)[:, None]
    n = np.asarray(negatives, dtype=float)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def group_figures(score, groups) -> dict:
    """score(question, sentences) -> logits. Top-1 and MRR of the positives over the
    answerable groups; AUROC of each group's best logit, answerable against not; the share of
    answerable groups whose best logit is above 0 and of unanswerable ones below it."""
    top1, rr, best_pos, best_neg = [], [], [], []
    for g in groups:
        s = np.asarray(score(g.question, list(g.sentences)), dtype=float)
        if not len(s):
            continue
        if g.answerable:
            order = np.argsort(-s, kind="stable")
            ranks = [r for r, i in enumerate(order, 1) if g.labels[i]]
            top1.append(float(ranks[0] == 1))
            rr.append(1.0 / ranks[0])
            best_pos.append(float(s.max()))
        else:
            best_neg.append(float(s.max()))
    area = auroc(best_pos, best_neg)
    out = {"groups": len(top1) + len(best_neg), "answerable": len(top1),
           "top1": round(float(np.mean(top1)), 4) if top1 else None,
           "mrr": round(float(np.mean(rr)), 4) if rr else None,
           "auroc": round(area, 4) if area is not None else None,
           "answered_at_0": round(float(np.mean([b > 0 for b in best_pos])), 4) if best_pos else None,
           "declined_at_0": round(float(np.mean([b <= 0 for b in best_neg])), 4) if best_neg else None}
    return out
