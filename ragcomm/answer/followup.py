"""Follow-up questions: one that leans on the previous turn ("what did GPs think of that?") is
made into a standalone query by adding the previous query's content words (no language model).

Its answer must be about both: the earlier topic ("practice budgets") and the new ask ("GPs").
`Focus` holds the two, and `Focus.keep` the candidate sentences that speak of both: one of the
ask's words, and one of the topic's specific words (those in at most a fifth of the passages;
all of its words when none is that specific, as in "practice based commissioning"), in the
sentence, the sentence it is quoted with, or its section heading. When none does, the answerer
says it found nothing on the ask about that topic rather than answer with general sentences.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


ANAPHORA = {"it", "its", "that", "this", "these", "those", "they", "them", "their", "there", "he", "she", "his",
            "her", "such", "same", "former", "latter", "above", "one", "ones"}
FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|what about|how about|what else|anything else|more on|why)\b", re.I)
QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "do", "does",
                  "is", "are", "was", "were", "can", "could", "should", "would", "tell", "me", "about", "think",
                  "say", "said", "find", "found", "know", "known", "much", "many",
                  # how a follow-up asks for views: "what did GPs think / feel / make of it?"
                  "thought", "thinks", "feel", "feels", "felt", "view", "views", "opinion", "opinions", "make",
                  "made", "reckon", "believe", "believed", "react", "reacted", "respond", "responded"}
# Light words that name no topic ("Can practices hold their own budgets?" is about practice budgets)
LIGHT_WORDS = {"own", "get", "gets", "got", "set", "hold", "held", "holds", "work", "works", "worked", "use", "used",
               "uses", "take", "took", "taken", "put", "go", "went", "come", "came", "done", "doing", "each", "other",
               "others", "way", "ways", "thing", "things", "really", "actually", "just", "also", "more", "most",
               "some", "any", "all", "well", "happen", "happened", "mean", "means", "main", "key", "kind", "kinds",
               "sort", "type", "types", "able", "like", "even", "still", "ever", "up"}
COMMON_SHARE = 0.2  # a topic word in more passages than this (commissioning, practice) is not specific
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset:
    from ..backends.analyzer import stopwords

    return stopwords() | QUESTION_WORDS | LIGHT_WORDS


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


@dataclass(frozen=True)
class Focus:
    """A follow-up's own ask ("GPs") and the earlier topic it asks it of ("practice budgets")."""
    ask: tuple
    topic: tuple

    def terms(self, analyzer: str, profile) -> tuple[set, set, bool]:
        """The ask's terms, the topic's terms (folded to their singular), and whether a sentence
        needs just one of the topic's (they are specific) or all of them (none is)."""
        from ..backends import analyze

        ask = {fold(t) for w in self.ask for t in analyze(w, analyzer)}
        # the ask's own words say nothing of the topic ("GP practices" then "what about GPs?")
        topic = list(dict.fromkeys(t for w in self.topic for t in analyze(w, analyzer) if fold(t) not in ask))
        specific = [t for t in topic if profile.df.get(t, 0) <= COMMON_SHARE * profile.passages]
        return ask, {fold(t) for t in specific or topic}, not specific

    def keep(self, candidates: list, analyzer: str, profile, depth: int = 1) -> list:
        """The candidate sentences (answer/choice.py's Candidate) that speak of both the ask and
        the topic: in the sentence, the sentences it is quoted with (up to `depth`) or its section."""
        from ..backends import analyze

        ask, topic, every = self.terms(analyzer, profile)
        kept = []
        for c in candidates:
            said = {fold(t) for t in c.quoted_terms(depth)}
            where = said | {fold(t) for t in analyze(c.hit.section or "", analyzer)}
            if (not ask or ask & said) and (topic <= where if every else topic & where):
                kept.append(c)
        return kept

    def nothing_found(self) -> str:
        """Why a follow-up has no answer, in words.

        >>> Focus(("GPs",), ("practice", "budgets")).nothing_found()
        "none of the closest passages says anything about 'GPs' in connection with 'practice budgets'"
        """
        ask = " ".join(self.ask) or "that"
        return (f"none of the closest passages says anything about '{ask}' in connection with "
                f"'{' '.join(self.topic)}'")


def fold(term: str) -> str:
    """A plural term as its singular, for matching ('gps' and 'gp').

    >>> fold("gps"), fold("ccg")
    ('gp', 'ccg')
    """
    return term[:-1] if len(term) >= 3 and term.endswith("s") else term


def follow_up(question: str, history: list[str] | None = None) -> Focus | None:
    """The ask and the topic of a follow-up, given the previous turns' queries (None when the
    question stands alone).

    >>> follow_up("What did GPs think of that?", ["How were practice budgets set?"])
    Focus(ask=('GPs',), topic=('practice', 'budgets'))
    """
    question = question.strip()
    if not history or not is_follow_up(question):
        return None
    have = {w.lower() for w in WORD.findall(question)}
    topic = [w for w in content_words(history[-1]) if w.lower() not in have]
    if not topic:
        return None
    return Focus(tuple(dict.fromkeys(content_words(question))), tuple(dict.fromkeys(topic)))


def standalone_query(question: str, history: list[str] | None = None) -> str:
    """The query to search for `question`, given the previous turns' queries (oldest first).

    >>> standalone_query("what did GPs think of that?", ["What is practice based commissioning?"])
    'what did GPs think of that? practice based commissioning'
    """
    question = question.strip()
    focus = follow_up(question, history)
    return f"{question} {' '.join(focus.topic)}" if focus else question


def standalone_queries(questions: list[str]) -> list[str]:
    """Queries for a whole conversation: each turn resolved against the ones before it."""
    queries: list[str] = []
    for q in questions:
        queries.append(standalone_query(q, queries))
    return queries
