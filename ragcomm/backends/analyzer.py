"""One analyzer for BM25 indexing and querying, whichever backend scores.

    >>> analyze("The GPs were commissioning services")
    ['gps', 'were', 'commiss', 'servic']
    >>> analyze("The GPs", "plain")
    ['the', 'gps']
"""
from __future__ import annotations

import re
from functools import lru_cache

ANALYZERS = ("english", "plain")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def analyze(text: str, analyzer: str = "english") -> list[str]:
    """Tokens for BM25. 'english': lowercase words of 2+ characters, English stopwords
    removed, Snowball stemmer (as bm25s.tokenize does). 'plain': lowercase \\w+ tokens."""
    text = text.lower()
    if analyzer == "plain":
        return re.findall(r"\w+", text)
    if analyzer != "english":
        raise ValueError(f"unknown analyzer '{analyzer}' (choose from {', '.join(ANALYZERS)})")
    stop = stopwords()
    words = [w for w in re.findall(r"(?u)\b\w\w+\b", text) if w not in stop]
    return _stemmer().stemWords(words)
