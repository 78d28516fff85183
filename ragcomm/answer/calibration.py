"""The abstention model: stored in eval/calibration.json by `ragcomm eval --calibrate`, read
by the answerer; the logistic regression it is (standardised signals, L2, each weight kept to
its expected sign) and the threshold rule of retrieval-only evaluations (`choose_threshold`).
Fitting on several question sets and choosing the decline and caution thresholds is
operating.py's.

    >>> auroc([0.9, 0.8], [0.3, 0.85])
    0.75
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..config import home
from .abstention import AbstentionModel

DEFAULT_THRESHOLD = 0.35  # max dense cosine, without a calibration file: out-of-domain questions score < 0.3
SIGNAL = "max_dense_score"  # the single-signal format of earlier calibration files
MODEL = "abstention_model"
L2 = 10.0  # chosen on the tune split's leave-one-out figures (eval/README.md)
# The way each signal should push: +1 the higher the more answerable, -1 the less.
DIRECTION = {"dense": 1, "similarity": 1, "support": 1, "agreement": 1, "unknown_names": -1, "unknown_titles": -1,
             "unseen_years": -1, "reader": 1}


def calibration_path(path=None) -> Path:
    return Path(path) if path else home() / "eval" / "calibration.json"


def load_model(path: Path | None = None) -> AbstentionModel:
    """The abstention model in eval/calibration.json (written by `ragcomm eval --calibrate`);
    an earlier single-threshold file ({"signal": "max_dense_score", "threshold": x}) or no
    file at all gives the one-signal rule: answer when the best dense cosine reaches it."""
    path = calibration_path(path)
    try:
        data = json.loads(path.read_text())
        if data.get("signal") == MODEL:
            m = data["model"]
            return AbstentionModel(list(m["features"]), [float(x) for x in m["mean"]], [float(x) for x in m["scale"]],
                                   [float(x) for x in m["coef"]], float(m["intercept"]), float(m["threshold"]),
                                   str(path), float(m["caution"]) if m.get("caution") is not None else None)
        if data.get("signal") == SIGNAL and isinstance(data.get("threshold"), (int, float)):
            return AbstentionModel.single("dense", float(data["threshold"]), str(path))
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    return AbstentionModel.single("dense", DEFAULT_THRESHOLD)


def load_threshold(path: Path | None = None) -> float:
    """The best-dense-cosine threshold of a single-signal calibration file; DEFAULT_THRESHOLD
    otherwise (kept for callers of the earlier format)."""
    try:
        data = json.loads(calibration_path(path).read_text())
        if data.get("signal") == SIGNAL and isinstance(data.get("threshold"), (int, float)):
            return float(data["threshold"])
    except (OSError, ValueError, AttributeError):
        pass
    return DEFAULT_THRESHOLD


def auroc(positives, negatives) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    p = np.asarray(positives, dtype=float)[:, None]
    n = np.asarray(negatives, dtype=float)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def choose_threshold(signals: dict, answerable: set, signal: str = SIGNAL, target: float = 0.0) -> dict | None:
    """How well a threshold on one score separates answerable from unanswerable questions,
    and the threshold that maximises balanced accuracy while answering at least `target` of
    the answerable ones (the middle of the best run of cuts, halfway between observed values)."""
    pos = [s for q, s in signals.items() if q in answerable and s is not None]
    neg = [s for q, s in signals.items() if q not in answerable and s is not None]
    if not pos or not neg:
        return None
    values = sorted(set(pos) | set(neg))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    scored = []
    for t in cuts:
        kept = float(np.mean([s >= t for s in pos]))
        abstained = float(np.mean([s < t for s in neg]))
        scored.append(((kept + abstained) / 2 if kept >= target else -1.0, t, kept, abstained))
    best_score = max(s[0] for s in scored)
    best = [s for s in scored if s[0] >= best_score - 1e-12]
    score, t, kept, abstained = best[(len(best) - 1) // 2]
    return {"signal": signal, "auroc": round(auroc(pos, neg), 4), "threshold": round(float(t), 4),
            "answerable_answered": round(kept, 4), "unanswerable_abstained": round(abstained, 4),
            "balanced_accuracy": round((kept + abstained) / 2, 4), "answerable": len(pos), "unanswerable": len(neg),
            "answerable_mean": round(float(np.mean(pos)), 4), "unanswerable_mean": round(float(np.mean(neg)), 4)}


def logistic(z: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 100,
             weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and intercept of an L2-penalised logistic regression (Newton's method), each
    row counted `weights` times (1 by default)."""
    x = np.hstack([z, np.ones((len(z), 1))])
    r = np.ones(len(z)) if weights is None else np.asarray(weights, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        gradient = x.T @ (r * (p - y)) + penalty * w
        hessian = (x * (r * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def signed_logistic(z: np.ndarray, y: np.ndarray, signs: np.ndarray, l2: float = L2,
                    weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """`logistic`, with each weight kept to its expected sign (0: either): a feature whose
    fitted weight points the wrong way (rewarding a question for naming what the corpus
    never mentions, say) is left out and the rest refitted. With few questions, collinear
    signals otherwise trade places on noise."""
    active = np.ones(z.shape[1], dtype=bool)
    while True:
        w_active, b = logistic(z[:, active], y, l2, weights=weights)
        w = np.zeros(z.shape[1])
        w[active] = w_active
        wrong = active & (signs * w < 0)
        if not wrong.any():
            return w, b
        active &= ~wrong


def write_calibration(path, report: dict, configuration: str, model: str, measured_on: str,
                      abstention: AbstentionModel | None = None) -> dict:
    """Store the abstention model (or, without one, the single dense threshold of `report`)."""
    if abstention is not None:
        data = {"signal": MODEL, "model": abstention.to_dict(),
                "description": "logistic regression over the answerer's abstention signals (ragcomm/answer/"
                               "abstention.py), standardised; below the threshold on its probability the "
                               "answerer abstains"}
    else:
        data = {"signal": SIGNAL, "threshold": report["threshold"],
                "description": "highest dense (cosine) score among the retrieved candidates; "
                               "below the threshold the question is treated as not answerable from the corpus"}
    data.update({"measured_on": measured_on, "configuration": configuration, "model_id": model,
                 **{k: report[k] for k in ("auroc", "threshold", "caution", "answerable_answered",
                                           "unanswerable_abstained", "balanced_accuracy", "answerable", "unanswerable",
                                           "l2", "max_declined", "targets", "sets") if k in report},
                 "created": datetime.now(timezone.utc).date().isoformat()})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
    return data
