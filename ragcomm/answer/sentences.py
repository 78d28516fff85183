"""The sentences of a passage an answer may quote, and what a question asks for.

A passage is split into sentences (chunking.sentence_spans); the answer-worthy ones (whole
sentences of prose, not headings, labels or reference fragments: hygiene.py) are kept with what
the answerer's choice needs of each: its terms, the numbers, dates and names it holds, whether
it leans on the sentence before ("This approach..."), and whether it only says what a study set
out to do. `question_kind` says which kind of fact a question asks for (a number for "how
many", a date for "when", a name for "who"); choice.py scores and chooses among them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..backends import analyze
from ..chunking import sentence_spans
from ..reader.context import LABEL, leans_back
from .coverage import question_names, question_years
from .followup import WORD
from .hygiene import label_end, unquotable

MIN_WORDS = 6  # shorter pieces are headings, labels or fragments, not answers
HEADING_WORDS = 12  # shorter than this and no closing punctuation: a heading run into the text
SENTENCE_END = ".!;)\"'”’"

NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
                "thousand", "million", "billion", "half", "third", "quarter", "dozen", "percent", "per"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"}
NUMBER = re.compile(r"\d")
KIND_PATTERNS = (
    ("number", re.compile(r"\bhow (many|much|long|big|large|often)\b|\bwhat (percentage|proportion|share|number|"
                          r"size|fraction|amount)\b|\bnumber of\b", re.I)),
    ("date", re.compile(r"\bwhen (did|was|were|is|are|will|does|do|had|has|have|would|should)\b|\b(what|which) "
                        r"(year|date|month)\b|\b(since|by|until) when\b", re.I)),
    # "Who ...?", "..., to whom ...?", not "staff who are moved" (a relative clause asks for no name)
    ("name", re.compile(r"(?:^|[,;:(]\s*|\b(?:and|but|so|to|by|for|from|with|of|about|on|in|at)\s+)"
                        r"(who|whom|whose)\b|\bwhich (\w+ )?(organi[sz]ation|body|bodies|trust|pct|ccg|act|"
                        r"programme|program|fund|agency|company|firm|team|committee|report|study|theory|person|"
                        r"people|author|authors)\b", re.I)),
)


def question_kind(question: str) -> str:
    """What a question asks for: 'number', 'date', 'name' or '' (anything).

    >>> question_kind("How many GPs were interviewed?"), question_kind("When did PCTs start?")
    ('number', 'date')
    >>> question_kind("Who leads the hub?"), question_kind("When GPs are excluded, what do members need?")
    ('name', '')
    >>> question_kind("What did it warn about staff who are moved?"), question_kind("By whom was it set up?")
    ('', 'name')
    """
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return ""


def fact_kinds(text: str, common=lambda word: False) -> dict:
    """The numbers, dates and names a sentence holds, each as a set of lower-cased strings.

    >>> sorted(fact_kinds("In March 2005, 41 managers met the Audit Commission.")["number"])
    ['41']
    """
    words = WORD.findall(text)
    years = {str(y) for y in question_years(text)}
    dates = years | {w.lower() for w in words if w.lower() in MONTHS}
    numbers = {w.lower() for w in words if (NUMBER.search(w) and w not in years) or w.lower() in NUMBER_WORDS}
    body = LABEL.sub("", text)
    names = {w.lower() for w in question_names(body) if not NUMBER.search(w) and not common(w)}
    return {"number": numbers, "date": dates, "name": names}


FRAMING = re.compile(
    r"^\s*(?:(?:OBJECTIVES?|AIMS?|PURPOSE|BACKGROUND|INTRODUCTION|CONTEXT)\b[^:]*:|To (?:\w+ )?(?:explore|examine|"
    r"identify|determine|investigate|assess|describe|review|analy[sz]e|evaluate|understand|ascertain|apply)\b|"
    r"(?:This|The|Our|In this) (?:\w+ )?(?:study|paper|article|review|report|research|project)\b[^.]{0,40}?\b(?:aims?|"
    r"explores?|explored|examines?|examined|investigates?|investigated|sets? out|presents?|describes?|considers?|"
    r"seeks?|sought|purpose)\b|The (?:aims?|objectives?|purpose) (?:of|are|is|was|were)\b)", re.I)


def frames(text: str) -> bool:
    """Whether a sentence says what a study set out to do rather than what it found.

    >>> frames("OBJECTIVES: To examine the behaviours of managers."), frames("This study explored attitudes.")
    (True, True)
    >>> frames("RESULTS: Many CCGs were reluctant to outsource.")
    False
    """
    return bool(FRAMING.search(text))


def is_answer_sentence(text: str) -> bool:
    """Whole sentences of prose, not headings, labels or reference fragments: at least
    MIN_WORDS words, not ending in ':' or '?', and a short one ends like a sentence.

    >>> is_answer_sentence("Case study – Brighton and Hove PCT"), is_answer_sentence("Fifty-one learners and ten supervisors took part.")
    (False, True)
    """
    end, words = text.rstrip()[-1:], len(WORD.findall(text))
    if words < MIN_WORDS or end in (":", "?") or unquotable(text[label_end(text):]):  # hygiene.py
        return False
    return words >= HEADING_WORDS or end in SENTENCE_END


@dataclass
class Sentence:
    """An answer-worthy sentence of a passage, as cached: offsets in the passage, vector,
    terms, facts, whether it leans back, and the sentences before it in the passage that
    it may need ((start, leans back), nearest first; prose only, at most MAX_CONTEXT)."""
    a: int
    b: int
    text: str
    vector: np.ndarray
    terms: frozenset
    facts: dict
    leans: bool
    before: tuple = ()
    framing: bool = False
    before_terms: tuple = ()  # the terms of each sentence of `before`


MAX_CONTEXT = 2


def letters(text: str) -> str:
    """Its letters and digits, lower-cased: what two spellings of one heading share."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def passage_sentences(text: str, analyzer: str = "english", common=lambda word: False,
                      headings: tuple = ()) -> list[Sentence]:
    """The answer-worthy sentences of a passage with what selection needs to know of each
    (the vector is left for the caller to fill: the embedder is the index's). A line that is
    one of `headings` (its document's title, its section's heading) and does not end like a
    sentence names a topic and answers nothing: it is left out. (A record without a title of
    its own is known by its opening sentence, which stays quotable.)

    >>> [(s.text, s.leans, s.before) for s in passage_sentences(
    ...     "Managers acted as animateurs in four PCTs. This approach involved managing groups of people.")]
    [('Managers acted as animateurs in four PCTs.', False, ()), ('This approach involved managing groups of people.', True, ((0, False),))]
    >>> [s.text for s in passage_sentences("Leadership of CCG networks in England: a mixed-methods study of six CCGs"
    ...     "\\n\\nLocality groups brought the leaders closer to frontline staff.", headings=("Leadership of CCG "
    ...     "networks in England: a mixed-methods study of six CCGs",))]
    ['Locality groups brought the leaders closer to frontline staff.']
    """
    spans = sentence_spans(text)
    ends, out = {a + label_end(text[a:b]): b for a, b in spans}, []
    titles = {letters(h) for h in headings if h} - {""}
    for j, (a, b) in enumerate(spans):
        sentence = text[a:b]
        heading = letters(sentence) in titles and sentence.rstrip()[-1:] not in SENTENCE_END
        if is_answer_sentence(sentence) and not heading:
            leans, before = leans_back(sentence), preceding(text, spans, j)
            before_terms = tuple(frozenset(analyze(text[start:ends[start]], analyzer)) for start, _ in before) \
                if leans else ()
            cut = a + label_end(sentence)  # a section label is left out of the quote, offsets verbatim
            out.append(Sentence(cut, b, text[cut:b], None, frozenset(analyze(sentence, analyzer)),
                                fact_kinds(sentence, common), leans, before, frames(sentence), before_terms))
    return out


def preceding(text: str, spans: list, j: int) -> tuple:
    """(start, leans back) of the prose sentences before spans[j], nearest first."""
    out = []
    for a, b in reversed(spans[max(0, j - MAX_CONTEXT):j]):
        if not is_answer_sentence(text[a:b]):
            break  # a heading, label, contact line...: what comes before it is another topic
        out.append((a + label_end(text[a:b]), leans_back(text[a:b])))
    return tuple(out)
