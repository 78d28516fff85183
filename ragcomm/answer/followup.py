"""Follow-up questions: one that leans on the previous turn ("what did GPs think of that?") is
made into a standalone query by adding the previous query's content words (no language model).
"""
from __future__ import annotations

import re
from functools import lru_cache


ANAPHORA = {"it", "its", "that", "this", "these", "those", "they", "them", "their", "there", "he", "she", "his",
            "her", "such", "same", "former", "latter", "above", "one", "ones"}
FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|what about|how about|what else|anything else|more on|why)\b", re.I)
QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "do", "does",
                  "is", "are", "was", "were", "can", "could", "should", "would", "tell", "me", "about", "think",
                  "say", "said", "find", "found", "know", "known", "much", "many"}
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset:
    from ..backends.analyzer import stopwords

    return stopwords() | QUESTION_WORDS


def content_words(text: str) -> list[str]:
    stop = _stopwords()
    return [w for w in WORD.findall(text) if w.lower() not in stop and w.lower() not in ANAPHORA]


def is_follow_up(question: str) -> bool:
    """Leans on the previous turn: a pronoun with little else, or 'and/what about ...'."""
    words = [w.lower() for w in WORD.findall(question)]
    content = content_words(question)
    if FOLLOW_UP_START.match(question) and len(content) <= 4:
        return True
    return any(w in ANAPHORA for w in words) and len(content) <= 3


def standalone_query(question: str, history: list[str] | None = None) -> str:
    """The query to search for `question`, given the previous turns' queries (oldest first).

    >>> standalone_query("what did GPs think of that?", ["What is practice based commissioning?"])
    'what did GPs think of that? practice based commissioning'
    """
    question = question.strip()
    if not history or not is_follow_up(question):
        return question
    have = {w.lower() for w in WORD.findall(question)}
    topic = [w for w in content_words(history[-1]) if w.lower() not in have]
    return f"{question} {' '.join(dict.fromkeys(topic))}".strip() if topic else question


def standalone_queries(questions: list[str]) -> list[str]:
    """Queries for a whole conversation: each turn resolved against the ones before it."""
    queries: list[str] = []
    for q in questions:
        queries.append(standalone_query(q, queries))
    return queries
