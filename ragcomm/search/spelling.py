"""Spelling tolerance on the keyword side: a question's slips ("wat is practise based
comissioning") are corrected against the words of the indexed passages before searching, so
that a typo does not cost BM25 the passage (the dense side reads the corrected text too).

    speller = Speller.of_index(index)
    speller.correct("wat is practise based comissioning")
    # Correction(query='what is practise based commissioning',
    #            changes=(('wat', 'what'), ('comissioning', 'commissioning')))

A word is left as typed when the corpus has it or its stem (BM25 matches it already), when it is
a known English word (pyspellchecker's English list, its stem is, or its American spelling is:
"organisation"), when it holds a digit or a capital after its first letter (PCT, NHSmail:
acronyms and names), when it is a contraction ("aren't") or when it is one letter. Otherwise it
becomes the closest word (edit distance 1, or 2 from 8 letters on; a swap of two letters counts 1)
among the corpus words seen at least twice (or known to English) and a short list of question
words, question words first on a tie, then the most frequent in the corpus; a word of 2 or 3
letters is only ever corrected to a question word ("wat" -> "what", "hw" -> "how"). A correctly
spelled question comes back unchanged.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

WORD = re.compile(r"([A-Za-z]+)(['’][A-Za-z]+)?")  # a word, and its possessive or contraction
# Common words of questions, most frequent first: candidates for short slips ("wat", "hw", "teh")
# and never corrected themselves.
QUESTION_WORDS = ("what", "how", "why", "who", "which", "when", "where", "whose", "whom", "is", "are", "was", "were",
                  "do", "does", "did", "can", "could", "should", "would", "will", "has", "have", "had", "the", "and",
                  "about", "there", "their", "they", "this", "that", "these", "those", "with", "from", "for", "into",
                  "tell", "explain", "describe", "list", "give", "many", "much", "between", "because", "between",
                  "difference", "example", "examples", "mean", "means", "meant", "happen", "happened", "think")
SHORT = 3  # words of 2-3 letters are corrected to question words only: too many corpus words are that close
LONG_WORD = 8  # from this many letters a word may be 2 edits from its correction
MIN_COUNT = 2  # a corpus word seen once may be a slip itself: a correction only when English knows it
ENGLISH_COMMON = 1000  # a word rarer than this in English ("wat") may still be a slip for a question word
# British spellings whose American form the English list has: organisation, programme, centre, colour
BRITISH = ((re.compile(r"is(e|ed|es|ing|ation|ations|er|ers)$"), r"iz\1"), (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
           (re.compile(r"our(s|ed|ing|ite|ites|able)?$"), r"or\1"), (re.compile(r"tre(s)?$"), r"ter\1"),
           (re.compile(r"mme(s)?$"), r"m\1"), (re.compile(r"ence$"), "ense"), (re.compile(r"ogue(s)?$"), r"og\1"),
           (re.compile(r"ll(ed|ing|er|ers)$"), r"l\1"), (re.compile(r"ae"), "e"), (re.compile(r"oe"), "e"))


@lru_cache(maxsize=1)
def english() -> dict:
    """English words -> how often they occur (pyspellchecker's list), loaded once."""
    from spellchecker import SpellChecker

    return dict(SpellChecker(language="en", distance=1).word_frequency.items())


@lru_cache(maxsize=1)
def english_stems() -> dict:
    """English word -> its stem ("analytics" is known by "analytic"'s stem)."""
    words = list(english())
    return dict(zip(words, stems(words)))


@lru_cache(maxsize=1)
def english_by_stem() -> dict:
    """Stem -> the English words that have it."""
    out: dict = {}
    for word, stem in english_stems().items():
        out.setdefault(stem, []).append(word)
    return out


INFLECTION_DISTANCE = 3  # a word known by its stem is this close to an English word of that stem


def english_inflection(word: str, stem: str) -> bool:
    """Whether the word is an inflection of an English word: it shares that word's stem and is
    within INFLECTION_DISTANCE edits of it ("analytics" of "analytic"). A slip can share a stem
    with an unrelated word: "commisioning" and "commiserative" both stem to "commis".

    >>> english_inflection("analytics", "analyt"), english_inflection("commisioning", "commis")
    (True, False)
    """
    return any(distance(word, other) <= INFLECTION_DISTANCE for other in english_by_stem().get(stem, ()))


def stems(words) -> list[str]:
    """Snowball stems, as BM25's analyzer makes them."""
    from ..backends.analyzer import _stemmer

    return _stemmer().stemWords(list(words))


def american(word: str) -> set[str]:
    """American spellings a British word may have.

    >>> sorted(american("organisations")), sorted(american("programme")), sorted(american("behaviour"))
    (['organizations'], ['program'], ['behavior'])
    """
    return {pattern.sub(repl, word) for pattern, repl in BRITISH if pattern.search(word)} - {word}


def distance(a: str, b: str) -> int:
    """Edit distance where swapping two neighbouring letters counts 1 (optimal string alignment).

    >>> distance("comissioning", "commissioning"), distance("whcih", "which"), distance("wat", "what")
    (1, 1, 1)
    """
    from rapidfuzz.distance import OSA

    return OSA.distance(a, b)


@dataclass(frozen=True)
class Correction:
    """A question as it will be searched, and the words changed (typed, corrected)."""
    query: str
    changes: tuple = ()

    def to_dict(self) -> dict:
        return {"query": self.query, "corrected": [{"from": a, "to": b} for a, b in self.changes]}


class Speller:
    """Corrects slips against a corpus vocabulary (word -> count)."""

    def __init__(self, counts: Counter):
        self.counts = Counter({w: n for w, n in counts.items() if len(w) >= 2})
        self.stems: Counter = Counter()  # stem -> how often the corpus uses its words
        for (w, n), stem in zip(self.counts.items(), stems(self.counts)):
            self.stems[stem] += n
        self._candidates: list[str] | None = None

    @classmethod
    def of_index(cls, index) -> "Speller":
        """The vocabulary of the indexed passages (with their document titles and sections), as
        BM25 sees them."""
        counts: Counter = Counter()
        for i in range(len(index.chunks)):
            counts.update(m.group(1).lower() for m in WORD.finditer(index.chunk_text_for_index(i)))
        return cls(counts)

    def warm(self) -> None:
        """Load the English list, its stems and the candidates now, not at the first slip."""
        self.candidates()
        english_by_stem()

    def known(self, word: str) -> bool:
        """The corpus has the word (or its stem: BM25 matches it), or English does (in either
        spelling, or as an inflection of one of its words), or it is a question word."""
        w = word.lower()
        [stem] = stems([w])
        if w in self.counts or w in QUESTION_WORDS or stem in self.stems:
            return True
        common = english()
        if len(w) <= 4 and common.get(w, 0) < ENGLISH_COMMON and any(distance(w, q) <= 1 for q in QUESTION_WORDS):
            return False  # a rare word a letter away from a question word is taken for a slip ("wat")
        return w in common or any(v in common for v in american(w)) or english_inflection(w, stem)

    def candidates(self) -> list[str]:
        """Words a slip may become: question words, corpus words seen twice (or known to English),
        and common English words whose stem the corpus has ("hosts" where it says "hosted")."""
        if self._candidates is None:
            common = english()
            words = [w for w, n in self.counts.items() if len(w) > SHORT and (n >= MIN_COUNT or w in common)]
            inflected = [w for w, stem in english_stems().items() if len(w) > SHORT and stem in self.stems
                         and w.isalpha() and common[w] >= ENGLISH_COMMON]
            self._candidates = list(dict.fromkeys([*QUESTION_WORDS, *words, *inflected]))
        return self._candidates

    def frequency(self, word: str) -> int:
        """How common a candidate is: in the corpus (the word, and the words of its stem) and in English."""
        [stem] = stems([word])
        return (self.counts.get(word, 0) + 1) * (self.stems.get(stem, 0) + 1) * (english().get(word, 0) + 1)

    def suggest(self, word: str) -> str | None:
        """The correction of one word, or None to leave it as typed: the nearest candidate;
        on a tie a question word, then one with the same first letter (slips rarely hit it),
        then the one the corpus uses most, then the most common (corpus stem and English)."""
        if len(word) < 2 or not word.isalpha() or any(ch.isupper() for ch in word[1:]) \
                or self.known(word):
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        w = word.lower()
        choices = list(QUESTION_WORDS) if len(w) <= SHORT else self.candidates()
        limit = 2 if len(w) >= LONG_WORD else 1
        found = process.extract(w, choices, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not found:
            return None
        rank = {q: i for i, q in enumerate(QUESTION_WORDS)}
        best = min(found, key=lambda m: (m[1], rank.get(m[0], len(rank)), m[0][0] != w[0], -self.counts[m[0]],
                                         -self.frequency(m[0]), m[0]))[0]
        return best.capitalize() if word[:1].isupper() else best

    def correct(self, question: str) -> Correction:
        """The question with its slips corrected (only the misspelt words change, in place).

        >>> speller = Speller(Counter({"practice": 9, "based": 9, "commissioning": 20, "commissioners": 4, "budgets": 3}))
        >>> speller.correct("wat is practise based comissioning?")
        Correction(query='what is practise based commissioning?', changes=(('wat', 'what'), ('comissioning', 'commissioning')))
        >>> speller.correct("What is practice based commissioning?").changes
        ()
        >>> speller.correct("Why aren't comissioners' budgetts shared?").query
        "Why aren't commissioners' budgets shared?"
        """
        changes, parts, at = [], [], 0
        for m in WORD.finditer(question):
            word, tail = m.group(1), m.group(2)
            if tail and tail[1:].lower() != "s":
                continue  # a contraction: "aren't", "they've"
            fixed = self.suggest(word)
            if fixed and fixed.lower() != word.lower():
                parts.append(question[at:m.start()] + fixed)
                at = m.start() + len(word)
                changes.append((word, fixed))
        if not changes:
            return Correction(question)
        return Correction("".join(parts) + question[at:], tuple(changes))
