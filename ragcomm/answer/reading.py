"""The reader (ragcomm/reader/) applied to the answer's candidate sentences.

Sentence scoring in choice.py looks at the question and each sentence apart (cosine,
term weights, the passage's rank). The reader reads them together, which costs more, so it
reads only the `Selection.read` best-scored candidates; its probability that a sentence
answers (the sigmoid of its logit) is added to their score with weight `Selection.reader`.
When none of them reads as an answer (best logit below `Selection.read_until`), it reads the
next `Selection.read_more` too: a second look that costs only the questions that need it.
The best logit it gave is the answerability signal "reader" (abstention.py).

    >>> sigmoid(0.0), round(sigmoid(2.0), 3)
    (0.5, 0.881)
"""
from __future__ import annotations

import math


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def quote(c) -> str:
    """What the reader reads of a candidate: a sentence that leans on the one before it
    ("It entails ...") with that sentence, as it is trained (reader/context.py) and quoted."""
    return c.hit.text[c.before[0][0]:c.b] if c.leans and c.before else c.text


def read_candidates(reader, question: str, candidates: list, read: int, weight: float,
                    more: int = 0, until: float = 0.0) -> float | None:
    """Score the `read` best candidates (by their current score) with the reader, and the
    `more` after them if the best logit so far is below `until`; add `weight` x its
    probability to their score (in place). The best logit, or None if none was read."""
    if reader is None or not candidates or read <= 0:
        return None
    ranked = sorted(candidates, key=lambda c: (-c.score, c.hit.rank, c.a))
    best = None
    for part in (ranked[:read], ranked[read:read + max(0, more)]):
        if not part or (best is not None and best >= until):
            break
        logits = reader.score(question, [quote(c) for c in part])
        for c, z in zip(part, logits):
            c.reader = float(z)
            c.score += weight * sigmoid(float(z))
        best = float(max(logits)) if best is None else max(best, float(max(logits)))
    return best
