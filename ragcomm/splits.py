"""Which questions and articles are held out: one rule each, shared by training and evaluation.

A question or article keeps its side of a split when others are added, because the side
depends only on its own id or title (a hash), never on a random draw over the whole set.

    >>> split_of("q01"), split_of("q02")
    ('heldout', 'tune')
    >>> squad_split("Prime_number"), squad_split("Normans")
    ('validation', 'train')
"""
from __future__ import annotations

import hashlib
import re


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


PARAPHRASE = re.compile(r"-p\d+$")


def split_of(qid: str) -> str:
    """'tune' or 'heldout' for a question, fixed by its id alone (held out when the SHA-256 of
    the id is odd). A rewording ('q01-p1', eval/paraphrases.jsonl) takes its original's side,
    so that a question tuned on is never checked again in other words as if held out.

    >>> split_of("q01-p2") == split_of("q01"), split_of("q02-p1") == split_of("q02")
    (True, True)
    """
    return "heldout" if _digest(PARAPHRASE.sub("", qid)) % 2 else "tune"


def tune_half(qid: str) -> str:
    """The half of the tune split a question belongs to: 'train' (the reader may learn from it,
    `ragcomm train-reader --in-domain`) or 'calibrate' (never learned from: it chooses how the
    reader's score is weighed and calibrates abstention). A rewording goes with its original.

    >>> sorted({tune_half(q) for q in ("q02", "q04", "q06", "q08", "q10", "q12")})
    ['calibrate', 'train']
    >>> tune_half("q02-p1") == tune_half("q02")
    True
    """
    return "train" if _digest("half:" + PARAPHRASE.sub("", qid)) % 2 else "calibrate"


# The SQuAD 2.0 articles held out for validation: the 8 of the 25 in ../shared/qa (and
# train/qa) whose titles have the smallest SHA-256. Every other SQuAD article, including the
# 13 that only the SQuAD 1.1 file holds, is for training. tests/reader/test_pairs.py checks
# that this list follows from the rule.
SQUAD_VALIDATION = ("French_and_Indian_War", "Private_school", "Jacksonville,_Florida", "Prime_number",
                    "Amazon_rainforest", "Fresno,_California", "Sky_(United_Kingdom)", "Victoria_(Australia)")


def squad_validation_articles(squad2_titles, n: int = 8) -> tuple[str, ...]:
    """The rule behind SQUAD_VALIDATION: the n titles with the smallest SHA-256 (hex order)."""
    return tuple(sorted(squad2_titles, key=lambda t: hashlib.sha256(t.encode()).hexdigest())[:n])


def squad_split(title: str) -> str:
    """'validation' for the held-out SQuAD articles, else 'train'."""
    return "validation" if title in SQUAD_VALIDATION else "train"


def hashed_split(key: str, share: int = 10) -> str:
    """'validation' for about 1 in `share` keys (an abstract's id, a MedQuAD focus), else 'train'."""
    return "validation" if _digest(key) % share == 0 else "train"
