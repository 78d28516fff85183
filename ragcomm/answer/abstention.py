"""Whether the documents answer a question: the signals, the model that weighs them, and the
three outcomes it leads to.

The signals (what the corpus covers is coverage.py's):

    reader         the reader's best logit over the candidate sentences (answer/reading.py): how
                   strongly the best sentence answers the question, read together with it
    dense          highest dense cosine among the retrieved candidates
    similarity     cosine of the sentence closest to the question
    support        the best sentence's support: the highest IDF-weighted share of the question's terms
                   in a sentence that holds the asked-for kind of fact (a number for "how many"...)
    agreement      share of BM25's top 10 passages that dense retrieval also has in its top 10
    unknown_names  1 when it names something (a capitalised word, acronym or number) the corpus never uses
    unknown_titles for its names of several capitalised words ("Long Term Plan", "GP at Hand"), the
                   highest share of a name's adjacent word pairs that never occur in the corpus
    unseen_years   1 when it asks about a year the documents never mention

An `AbstentionModel` (logistic, fitted by `ragcomm eval --calibrate`, calibration.py) turns
them into the probability that the documents answer, and two thresholds into an outcome:

    answer    the probability reaches `caution`
    caution   between `threshold` and `caution`: the answer is shown with "the closest passages
              may not answer this: check them"
    decline   below `threshold`, and the signal that pulled hardest that way is one that can
              say the documents do not cover the question (the reader, what the corpus never
              mentions, loose relatedness); a signal that only says retrieval is unsure
              (keyword and meaning search disagree) never declines alone: it cautions

A signal of a retrieval mode the user switched off is not used: with one mode there is no
agreement between two, and with keywords only there is no meaning-search signal.

    >>> question_years("What was the allocation for 2019/20 and 2021?")
    [2019, 2020, 2021]
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .coverage import (ASKING, CorpusProfile, corpus_signals, question_names,  # noqa: F401  (re-exported)
                       question_titles, question_years)

SIGNALS = ("dense", "similarity", "support", "agreement", "unknown_names", "unknown_titles", "unseen_years", "reader")
OUTCOMES = ("answer", "caution", "decline")
# Signals that only say retrieval is unsure: they lower confidence, never decline alone.
UNSURE_ONLY = {"agreement"}
# Signals that belong to a retrieval mode: not used when that mode is switched off.
MODE_SIGNALS = {"agreement": {"hybrid"}, "dense": {"hybrid", "dense"}}


def used_signals(signals: dict, mode: str | None) -> dict:
    """The signals without those of a mode the user switched off (mode None: hybrid)."""
    mode = mode or "hybrid"
    return {k: v for k, v in signals.items() if k not in MODE_SIGNALS or mode in MODE_SIGNALS[k]}


def agreement(lexical: list, dense: list, n: int = 10) -> float:
    """Share of BM25's top n candidates that are also in the dense top n (0 without BM25 hits)."""
    top = [i for i, _ in lexical[:n]]
    return len(set(top) & {i for i, _ in dense[:n]}) / len(top) if top else 0.0


# ---------------------------------------------------------------- the model

@dataclass
class AbstentionModel:
    """P(the documents answer) = sigmoid(intercept + sum coef * (signal - mean) / scale); a
    signal that is missing (or not used) counts as its mean. Below `threshold` the answerer
    declines, below `caution` it answers with a caution (`decide`)."""
    features: list
    mean: list
    scale: list
    coef: list
    intercept: float
    threshold: float
    source: str = "built-in"
    caution: float | None = None  # None: no caution band (answer at or above threshold)

    @classmethod
    def single(cls, feature: str, cut: float, source: str = "built-in") -> "AbstentionModel":
        """One signal against a threshold (the rule before the model: best dense cosine >= cut)."""
        return cls([feature], [cut], [0.05], [1.0], 0.0, 0.5, source)

    def contributions(self, signals: dict) -> dict:
        return {f: c * (signals.get(f, m) - m) / s
                for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef)}

    def probability(self, signals: dict) -> float:
        z = self.intercept + sum(self.contributions(signals).values())
        return float(1 / (1 + math.exp(-max(-50.0, min(50.0, z)))))

    def decided_by(self, signals: dict, abstained: bool) -> str:
        """The signal that pulled hardest towards the decision taken."""
        parts = self.contributions(signals)
        if not parts:
            return ""
        return min(parts, key=parts.get) if abstained else max(parts, key=parts.get)

    def decide(self, signals: dict, threshold: float | None = None) -> tuple[str, str, float]:
        """(outcome, the signal that decided it, probability) for these (used) signals. A decline
        that only a signal of unsure retrieval pulls towards is a caution instead."""
        p = self.probability(signals)
        low = self.threshold if threshold is None else threshold
        high = max(low, self.caution if self.caution is not None else low)
        if p >= high:
            return "answer", self.decided_by(signals, abstained=False), p
        parts = {f: c for f, c in self.contributions(signals).items() if c < 0}
        against = min(parts, key=parts.get) if parts else ""
        if p >= low:
            return "caution", against, p
        refusing = {f: c for f, c in parts.items() if f not in UNSURE_ONLY}
        if not refusing:
            return "caution", against, p
        return "decline", min(refusing, key=refusing.get), p

    def to_dict(self) -> dict:
        out = {"features": self.features, "mean": self.mean, "scale": self.scale, "coef": self.coef,
               "intercept": self.intercept, "threshold": self.threshold}
        if self.caution is not None:
            out["caution"] = self.caution
        return out


REASONS = {
    "reader": "no sentence of the closest passages reads as an answer to it",
    "dense": "the closest passages are only loosely related to the question",
    "similarity": "no sentence of the closest passages is close to the question in meaning",
    "support": "few of the question's key terms stand together in any sentence of the closest passages",
    "agreement": "keyword and meaning search disagree about the closest passages",
}
CAUTION_TEXT = "The closest passages may not answer this: check them."


COVERAGE = ("unseen_years", "unknown_names", "unknown_titles")  # what the corpus never mentions (coverage.py)


def uncovered(outcome: str, decided: str, found: dict, signals: dict | None = None) -> tuple[str, str]:
    """A question about a year, name or title the documents never mention: a decline says so
    (the reason a user can check), and a weak answer (caution) is declined when, besides,
    no sentence reads to the reader as an answer (its best logit below 0): the documents
    clearly do not cover it. A title counts only when none of its word pairs occurs in the
    documents ("Greater Manchester PCTs" is half known: they say "Greater Manchester primary
    care trusts (PCTs)").

    >>> uncovered("caution", "reader", {"unseen_years": [2024]}, {"reader": -1.5})
    ('decline', 'unseen_years')
    >>> uncovered("caution", "reader", {"unseen_years": [2024]}, {"reader": 0.8})
    ('caution', 'reader')
    >>> uncovered("decline", "dense", {"unknown_names": ["Francis"]})
    ('decline', 'unknown_names')
    >>> uncovered("caution", "reader", {"unknown_titles": ["Greater Manchester PCTs"]}, {"unknown_titles": 0.5})
    ('caution', 'reader')
    """
    signals = signals or {}
    if outcome not in ("caution", "decline") or (outcome == "caution" and signals.get("reader", -1.0) >= 0):
        return outcome, decided
    for name in COVERAGE:
        if found.get(name) and (name != "unknown_titles" or signals.get(name, 1.0) >= 1.0):
            return "decline", name
    return outcome, decided


def reason(decided: str, found: dict) -> str:
    """A sentence for the user: why the answerer declined (or cautions). Each is true of what
    was found: names and years the corpus never has (coverage.py counts everything a user
    can see of a document), or what the signals measured."""
    if decided == "unknown_names" and found.get("unknown_names"):
        return "the documents never mention " + ", ".join(f"'{w}'" for w in found["unknown_names"][:5])
    if decided == "unknown_titles" and found.get("unknown_titles"):
        return "the documents never name " + ", ".join(f"'{t}'" for t in found["unknown_titles"][:3])
    if decided == "unseen_years" and found.get("unseen_years"):
        return "the documents never mention " + ", ".join(str(y) for y in found["unseen_years"])
    return REASONS.get(decided, "the evidence is weak")


def standardise(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)
