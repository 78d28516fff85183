"""The abstention threshold: chosen from answerable and unanswerable questions' signals,
stored in eval/calibration.json by `ragcomm eval --calibrate`, read by the answerer.

    >>> auroc([0.9, 0.8], [0.3, 0.85])
    0.75
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..config import home

DEFAULT_THRESHOLD = 0.35  # max dense cosine; out-of-domain questions score < 0.3 on the seed corpus
SIGNAL = "max_dense_score"


def load_threshold(path: Path | None = None) -> float:
    """The abstention threshold from eval/calibration.json ({"signal": "max_dense_score",
    "threshold": x}), written by `ragcomm eval --calibrate`; DEFAULT_THRESHOLD without it."""
    path = Path(path) if path else home() / "eval" / "calibration.json"
    try:
        data = json.loads(path.read_text())
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


def choose_threshold(signals: dict, answerable: set) -> dict | None:
    """How well a threshold on the signal separates answerable from unanswerable questions,
    and the threshold that maximises balanced accuracy (answered answerable + abstained
    unanswerable, each as a rate), halfway between two observed values."""
    pos = [s for q, s in signals.items() if q in answerable and s is not None]
    neg = [s for q, s in signals.items() if q not in answerable and s is not None]
    if not pos or not neg:
        return None
    values = sorted(set(pos) | set(neg))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    best = None
    for t in cuts:
        kept = np.mean([s >= t for s in pos])
        abstained = np.mean([s < t for s in neg])
        score = (kept + abstained) / 2
        if best is None or score > best[0] + 1e-12:
            best = (score, t, kept, abstained)
    score, t, kept, abstained = best
    return {"signal": SIGNAL, "auroc": round(auroc(pos, neg), 4), "threshold": round(float(t), 4),
            "answerable_answered": round(float(kept), 4), "unanswerable_abstained": round(float(abstained), 4),
            "balanced_accuracy": round(float(score), 4), "answerable": len(pos), "unanswerable": len(neg),
            "answerable_mean": round(float(np.mean(pos)), 4), "unanswerable_mean": round(float(np.mean(neg)), 4)}


def write_calibration(path, report: dict, configuration: str, model: str, measured_on: str) -> dict:
    data = {"signal": SIGNAL, "threshold": report["threshold"], "measured_on": measured_on,
            "configuration": configuration, "model": model,
            "description": "highest dense (cosine) score among the retrieved candidates; "
                           "below the threshold the question is treated as not answerable from the corpus",
            **{k: report[k] for k in ("auroc", "answerable_answered", "unanswerable_abstained",
                                      "balanced_accuracy", "answerable", "unanswerable")},
            "created": datetime.now(timezone.utc).date().isoformat()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
    return data
