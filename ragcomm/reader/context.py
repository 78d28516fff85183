"""What a sentence needs to be read: a sentence that opens by pointing back ("This approach
...", "It entails ...") is read, and quoted, with the sentence before it. The reader is
trained on these quotes (pairs.py) and given them by the answerer (answer/reading.py).

    >>> text = "Practice based commissioning is a policy. It entails an indicative budget."
    >>> [text[a:b] for a, b in quotes(text, [(0, 41), (42, 74)])]
    ['Practice based commissioning is a policy.', 'Practice based commissioning is a policy. It entails an indicative budget.']
"""
from __future__ import annotations

import re

WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
LABEL = re.compile(r"^\s*(?:[A-Z][A-Z/ ]+:\s*)+")  # "RESULTS: ", "DESIGN AND SETTING: "
# Words that open a sentence whose subject is in the sentence before ("This approach...", "They...").
# A connective ("However, ...", "Moreover, ...") relates a sentence to the one before but leaves it
# readable alone, so it is not leaning: quoting the sentence before would only spend the word budget.
LEANING = {"this", "these", "those", "they", "them", "their", "it", "its", "such", "he", "she", "his", "her",
           "both", "here", "there"}
# "This study...", "This paper...": the document itself, not the sentence before.
SELF_REFERENCE = re.compile(r"^\W*(?:this|these|our) (?:\w+ )?(?:study|studies|paper|article|review|report|research|"
                            r"evaluation|survey|analysis|project)\b", re.I)


def leans_back(text: str) -> bool:
    """Whether a sentence opens by pointing back ("This approach...", "They..."); a connective
    ("However, ...") or the document naming itself ("This study...") reads alone.

    >>> leans_back("This approach involved active management."), leans_back("RESULTS: They were paid.")
    (True, True)
    >>> leans_back("Managers adopted many behaviours."), leans_back("CONCLUSIONS: This study drew out elements.")
    (False, False)
    """
    body = LABEL.sub("", text)
    first = WORD.search(body)
    return bool(first) and first.group(0).lower() in LEANING and not SELF_REFERENCE.match(body)


def quotes(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each sentence's quote: its own span, or, when it leans back, from the start of the
    sentence before it (one sentence of context, as the answerer quotes it by default)."""
    out = []
    for j, (a, b) in enumerate(spans):
        out.append((spans[j - 1][0], b) if j and leans_back(text[a:b]) else (a, b))
    return out
