"""Is each sentence of a generated answer supported by the passages it cites?

A model's answer is split into sentences and their [n] markers (`split_claims`); each
sentence is then held to `Rule` against the passages it cites (`check_claims`):

- it cites at least one passage, and only passages that exist (an invented [7] fails);
- every number in it is in the cited passages (150 hours, not 15);
- most of its content words (stemmed, stopwords out) are in the cited passages;
- it is close in meaning (cosine, same embedder as the index) to one sentence of those
  passages, its evidence;
- it is negated where its evidence is, and only there ("did not hinder" vs "hindered").

The thresholds were chosen on the gold set with hand-made unsupported sentences
(eval/support.jsonl; `python -m ragcomm.eval.support rules` prints the measurement).

    >>> [(c.text, c.markers) for c in split_claims("GPs led it. [1] Nurses helped [2][3].")]
    [('GPs led it.', [1]), ('Nurses helped.', [2, 3])]
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np

from ..backends import analyze
from ..chunking import sentence_spans
from ..types import SentenceSupport


@dataclass(frozen=True)
class Rule:
    """When a sentence counts as supported by the passages it cites."""
    min_similarity: float = 0.7  # cosine with its best sentence or clause in the cited passages
    min_coverage: float = 0.9  # share of its content words found in the cited passages
    numbers: bool = True  # every number must be in the cited passages
    negation: bool = True  # negated exactly where its best sentence is

    def as_dict(self) -> dict:
        return asdict(self)


RULE = Rule()

# [3], [1, 2], [1-3]; "[Passage 2]" and "[Source 2]" are read as [2].
MARKER = re.compile(r"\[\s*(?:passage|source|doc(?:ument)?)?\s*(\d+(?:\s*[,;\-–]\s*\d+)*)\s*\]", re.I)
# A full stop followed by markers: the markers belong to the sentence before it.
MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*" + MARKER.pattern + r")+)", re.I)
LIST_PREFIX = re.compile(r"^[ \t]*(?:[-*•]+|\d+[.)])[ \t]+", re.M)
NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|nobody|nothing|cannot|without)\b|n't\b", re.I)
UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = {**{w: i for i, w in enumerate(UNITS)}, **{w: 20 + 10 * i for i, w in enumerate(TENS)}}
NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:(?:,|[^\S\n])\d{3})+(?!\d)|\d+(?:\.\d+)?|\b[a-z]+(?:-[a-z]+)?\b", re.I)
# Long sentences also count by their clauses: a model often says one part of a long sentence.
CLAUSE_BREAK = re.compile(r"[;:,]\s+|\s[-–—]\s")
WINDOW = 3  # clauses
MIN_CLAUSE_WORDS = 4


@dataclass
class Claim:
    text: str  # the sentence without its markers
    markers: list  # passage numbers, in the order cited, without repeats


@dataclass
class Passage:
    """A numbered passage as the model saw it, with its sentences and their vectors."""
    number: int
    chunk_id: str
    text: str
    spans: list  # [(a, b)] sentences of text
    vectors: np.ndarray  # one unit vector per span
    terms: frozenset  # its content terms


def _marker_numbers(group: str) -> list[int]:
    """'1, 2' -> [1, 2]; '1-3' -> [1, 2, 3]."""
    found = []
    for part in re.split(r"[,;]", group):
        ends = [int(x) for x in re.findall(r"\d+", part)]
        if len(ends) == 2 and ends[0] <= ends[1] <= ends[0] + 20:
            found.extend(range(ends[0], ends[1] + 1))
        else:
            found.extend(ends)
    return found


def split_claims(output: str) -> list[Claim]:
    """The sentences of a model's answer with the passage numbers each cites. Markers after a
    full stop go with the sentence before it; bullets and numbering are dropped; a line of
    markers alone joins the sentence above it."""
    text = LIST_PREFIX.sub("", output.replace("**", ""))
    text = MARKERS_AFTER_STOP.sub(lambda m: " " + m.group(2).strip() + m.group(1), text)
    claims: list[Claim] = []
    for a, b in sentence_spans(text):
        piece = text[a:b]
        markers = [n for m in MARKER.finditer(piece) for n in _marker_numbers(m.group(1))]
        words = " ".join(MARKER.sub(" ", piece).split())
        words = re.sub(r"\s+([.,;:!?])", r"\1", words)
        if not re.search(r"\w", words):
            if claims and markers:  # markers on a line of their own
                claims[-1].markers = list(dict.fromkeys(claims[-1].markers + markers))
            continue
        if words.endswith(":") and not markers and len(words.split()) <= 4:
            continue  # a heading such as "Answer:"
        claims.append(Claim(words, list(dict.fromkeys(markers))))
    return claims


def numbers(text: str) -> set[str]:
    """Numbers written in digits or in words below a hundred, thousands separators dropped.

    >>> sorted(numbers("Three roles, 1 662 000 people, 100,000 to 500,000; 2.5% in 2006; sixty-six per cent."))
    ['100000', '1662000', '2.5', '2006', '3', '500000', '66']
    """
    found = set()
    for m in NUMBER.finditer(text):
        token = m.group(0).lower()
        if token[0].isdigit():
            found.add(re.sub(r"[,\s]", "", token))
            continue
        tens, _, unit = token.partition("-")
        if tens in NUMBER_WORDS and (not unit or (tens in TENS and unit in UNITS[1:10])):
            found.add(str(NUMBER_WORDS[tens] + (NUMBER_WORDS[unit] if unit else 0)))
    return found


def negated(text: str) -> bool:
    return bool(NEGATION.search(text.replace("’", "'")))


def evidence_spans(text: str) -> list[tuple[int, int]]:
    """What a generated sentence is compared with: each sentence of the passage and, for a
    sentence of several clauses, each run of up to WINDOW consecutive clauses (split at ; :
    dashes and commas), since a model often says one part of a long sentence.

    >>> t = "Aims: to plan care, to buy it. Then stop."
    >>> [t[a:b] for a, b in evidence_spans(t)]
    ['Aims: to plan care, to buy it.', 'Then stop.', 'Aims: to plan care', 'to plan care, to buy it.']
    """
    sentences = sentence_spans(text)
    spans = list(sentences)
    for a, b in sentences:
        pieces, start = [], a
        for m in CLAUSE_BREAK.finditer(text, a, b):
            pieces.append((start, m.start()))
            start = m.end()
        pieces.append((start, b))
        for size in range(1, min(WINDOW, len(pieces) - 1) + 1):
            for i in range(len(pieces) - size + 1):
                x, y = pieces[i][0], pieces[i + size - 1][1]
                if len(text[x:y].split()) >= MIN_CLAUSE_WORDS:
                    spans.append((x, y))
    return spans


def make_passage(number: int, chunk_id: str, text: str, encode, analyzer: str = "english") -> Passage:
    """A passage with its evidence spans embedded by `encode(list of str) -> unit vectors`."""
    spans = evidence_spans(text)
    vectors = encode([text[a:b] for a, b in spans]) if spans else np.zeros((0, 1), dtype=np.float32)
    return Passage(number, chunk_id, text, spans, np.asarray(vectors), frozenset(analyze(text, analyzer)))


def check_claims(claims: list[Claim], passages: list[Passage], encode, rule: Rule = RULE,
                 analyzer: str = "english") -> list[SentenceSupport]:
    """Each claim checked against the passages it cites (passage numbers start at 1)."""
    by_number = {p.number: p for p in passages}
    vectors = encode([c.text for c in claims]) if claims else []
    results = []
    for claim, vector in zip(claims, vectors):
        support, facts = measure(claim, vector, by_number, analyzer)
        support.reason = support.reason or verdict(support, facts, rule)
        support.supported = not support.reason
        results.append(support)
    return results


@dataclass
class Facts:
    """What the rule looks at beyond similarity and coverage."""
    missing_numbers: list
    claim_negated: bool
    evidence_negated: bool


def measure(claim: Claim, vector: np.ndarray, passages: dict, analyzer: str = "english"
            ) -> tuple[SentenceSupport, Facts | None]:
    """The claim's best evidence in the passages it cites, with its similarity and coverage;
    reason already set (and Facts None) when it cites nothing or a passage that does not exist."""
    result = SentenceSupport(claim.text, list(claim.markers), False, "")
    invented = [n for n in claim.markers if n not in passages]
    if not claim.markers:
        result.reason = "cites no passage"
    elif invented:
        result.reason = f"cites a passage that does not exist: {', '.join(f'[{n}]' for n in invented)}"
    if result.reason:
        return result, None
    cited = [passages[n] for n in claim.markers]
    best = None
    for p in cited:
        if len(p.spans):
            sims = p.vectors @ vector
            i = int(np.argmax(sims))
            if best is None or sims[i] > best[0]:
                best = (float(sims[i]), p, p.spans[i])
    if best is None:
        result.reason = "the cited passage is empty"
        return result, None
    sim, p, (a, b) = best
    result.marker, result.chunk_id, result.evidence = p.number, p.chunk_id, p.text[a:b]
    result.passage_start, result.passage_end, result.similarity = a, b, round(sim, 4)
    terms = set(analyze(claim.text, analyzer))
    known = frozenset().union(*(p.terms for p in cited))
    result.coverage = round(len(terms & known) / len(terms), 4) if terms else 0.0
    missing = sorted(numbers(claim.text) - numbers(" ".join(p.text for p in cited)))
    return result, Facts(missing, negated(claim.text), negated(result.evidence))


def verdict(support: SentenceSupport, facts: Facts, rule: Rule = RULE) -> str:
    """'' when the measured claim passes the rule, else why it does not."""
    if rule.numbers and facts.missing_numbers:
        return f"numbers not in the cited passage: {', '.join(facts.missing_numbers)}"
    if support.coverage < rule.min_coverage:
        return f"words not in the cited passage (coverage {support.coverage:.2f} < {rule.min_coverage:g})"
    if support.similarity < rule.min_similarity:
        return f"no sentence of the cited passage says this (similarity {support.similarity:.2f} < {rule.min_similarity:g})"
    if rule.negation and facts.claim_negated != facts.evidence_negated:
        return "negated where its evidence is not" if facts.claim_negated else "its evidence is negated and it is not"
    return ""
