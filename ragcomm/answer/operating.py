"""The abstention model fitted on several question sets at once, and its operating point.

Questions written by the project (the gold tune split) are not enough to set where to
decline: questions written by other people (eval/outside.jsonl, the paraphrases with their
casual wording and typos, SQuAD's crowdworkers on other documents) fall elsewhere. So the
model is fitted on all of them, each set weighing the same in total, and its probabilities
are cross-validated (each question's from a model that never saw it). The two thresholds
follow from what a wrong outcome costs the user:

    threshold (decline below)  the highest that declines at most `max_declined` of the answerable
                               questions of every set: a refused answerable question costs most
    caution (caution below)    the lowest that declines or cautions at least the target share of
                               the unanswerable questions of every set that has a target (an
                               unanswered question shown with a caution costs less than a
                               confident wrong answer, more than a plain answer)

    >>> p = np.array([0.9, 0.8, 0.7, 0.2, 0.1]); y = np.array([1, 1, 1, 0, 0])
    >>> round(decline_threshold(p, y, 0.0), 3), round(caution_threshold(p, y, 1.0), 3)
    (0.7, 0.2)
"""
from __future__ import annotations

import hashlib
import math

import numpy as np

from .abstention import SIGNALS, AbstentionModel, standardise
from .calibration import DIRECTION, L2, auroc, signed_logistic

MAX_DECLINED = 0.015  # under the 1 in 50 that may be refused, with a margin for new questions


def fold_of(key: str, folds: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % folds


def decline_threshold(p: np.ndarray, y: np.ndarray, max_declined: float) -> float:
    """The highest threshold that declines at most `max_declined` of the answerable (p < t)."""
    pos = np.sort(p[y == 1])
    if not len(pos):
        return 0.0
    allowed = int(math.floor(max_declined * len(pos) + 1e-9))
    return float(pos[min(allowed, len(pos) - 1)])


def caution_threshold(p: np.ndarray, y: np.ndarray, target: float) -> float:
    """The lowest threshold that puts at least `target` of the unanswerable below it (p < t)."""
    neg = np.sort(p[y == 0])
    if not len(neg) or target <= 0:
        return 0.0
    need = min(len(neg), int(math.ceil(target * len(neg) - 1e-9)))
    return float(neg[need - 1]) + 1e-6


def outcome_table(p: np.ndarray, y: np.ndarray, threshold: float, caution: float) -> dict:
    """Answered / cautioned / declined counts for answerable and unanswerable questions."""
    out = {}
    for side, mask in (("answerable", y == 1), ("unanswerable", y == 0)):
        q = p[mask]
        out[side] = {"answer": int(np.sum(q >= caution)), "caution": int(np.sum((q >= threshold) & (q < caution))),
                     "decline": int(np.sum(q < threshold))}
    return out


def fit_pooled(sets: dict, features=SIGNALS, l2: float = L2, folds: int = 10, max_declined: float = MAX_DECLINED,
               targets: dict | None = None) -> tuple[AbstentionModel, dict]:
    """The model over several question sets: `sets` maps a name to (signals by qid, answerable
    qids); `targets` maps a set's name to the share of its unanswerable questions that must be
    declined or cautioned. Returns the model (fitted on everything) and the report: the
    cross-validated AUROC and outcome table of each set at the chosen thresholds."""
    targets = targets or {}
    keys, rows, labels, weights, names = [], [], [], [], []
    for name, (signals, answerable) in sets.items():
        qids = sorted(signals)
        for q in qids:
            keys.append(f"{name}:{q}")
            rows.append([float(signals[q].get(f, 0.0)) for f in features])
            labels.append(1.0 if q in answerable else 0.0)
            weights.append(1.0 / max(1, len(qids)))
            names.append(name)
    x, y, w, names = np.array(rows), np.array(labels), np.array(weights), np.array(names)
    if len(set(y)) < 2:
        raise ValueError("calibration needs answerable and unanswerable questions")
    w = w * len(w) / w.sum()  # each set the same total weight, rows summing to their number
    mean, scale = standardise(x)
    z = (x - mean) / scale
    signs = np.array([DIRECTION.get(f, 0) for f in features])
    fold = np.array([fold_of(k, folds) for k in keys])
    held = np.zeros(len(y))
    for f in range(folds):
        test = fold == f
        if test.any():
            coef, b = signed_logistic(z[~test], y[~test], signs, l2, w[~test])
            held[test] = 1 / (1 + np.exp(-np.clip(z[test] @ coef + b, -50, 50)))
    coef, b = signed_logistic(z, y, signs, l2, w)
    threshold = min(decline_threshold(held[names == n], y[names == n], max_declined) for n in sets
                    if (y[names == n] == 1).any())
    caution = max([threshold] + [caution_threshold(held[names == n], y[names == n], targets[n]) for n in sets
                                 if n in targets and (y[names == n] == 0).any()])
    report = {"features": list(features), "l2": l2, "folds": folds, "max_declined": max_declined,
              "targets": targets, "threshold": round(threshold, 4), "caution": round(caution, 4),
              "coefficients": dict(zip(features, [round(float(c), 6) for c in coef])), "sets": {}}
    for n in sets:
        m = names == n
        pos, neg = held[m & (y == 1)], held[m & (y == 0)]
        area = auroc(list(pos), list(neg))
        report["sets"][n] = {"questions": int(m.sum()), "answerable": int((m & (y == 1)).sum()),
                             "auroc": None if math.isnan(area) else round(area, 4),
                             "outcomes": outcome_table(held[m], y[m], threshold, caution)}
    model = AbstentionModel(list(features), [round(float(v), 6) for v in mean], [round(float(v), 6) for v in scale],
                            [round(float(c), 6) for c in coef], round(b, 6), round(threshold, 4),
                            caution=round(caution, 4))
    return model, report
