"""Choosing an answer's sentences among the candidates: how each is scored (`Selection`), which
lead and which follow (`select_sentences`), and the answer text with its citations (`cite`).

Each candidate sentence of the retrieved passages is scored by its cosine similarity to the
question, the IDF weight of the question's terms it contains, the fused score of its passage,
and whether it holds what the question asks for (a number for "how many", a date for "when", a
name for "who", a definition for "What is X?": definitions.py), marked down when it leans on a
sentence that is not in the passage or only says what a study set out to do. The best leads; a
further one is added only if it brings question terms or the asked-for kind of fact the answer
lacks, within a word budget; the rest go to "more from the sources". extractive.py's `Answerer`
gathers the candidates and has the reader rescore the best of them (reading.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from ..types import Citation, Hit
from .followup import WORD
from .sentences import Sentence

NEAR_DUPLICATE_COSINE = 0.9
NEAR_DUPLICATE_JACCARD = 0.6
DEFINITION = "definition"  # the kind of a definition question (definitions.py)


@dataclass(frozen=True)
class Selection:
    """How sentences are scored and chosen. The defaults were chosen on the gold set's tune
    split with `ragcomm eval --answers --answer-grid ...` (eval/README.md)."""
    similarity: float = 0.3  # weight of the cosine between question and sentence
    lexical: float = 0.5  # weight of the IDF-weighted share of the question's terms in the sentence
    passage: float = 0.4  # weight of the passage's fused score, relative to the best passage's
    kind: float = 0.2  # bonus for holding the asked-for kind of fact (number, date, name) the question lacks
    definition: float = 0.2  # bonus for defining the term a definition question asks about (definitions.py)
    dangling: float = 0.1  # penalty for leaning on a sentence that is not in the passage
    framing: float = 0.2  # penalty for a sentence that says what a study set out to do, not what it found
    context: int = 1  # quote a leaning sentence with up to this many sentences before it (0-2)
    max_words: int = 80  # word budget of the answer (the best sentence always goes in)
    max_sentences: int = 3
    min_gain: float = 0.0  # a further sentence must add this share of the question's term weight (or the kind)
    relative_floor: float = 0.1  # ... and score at least this share of the best sentence's score (0.1 with reader 6)
    more: int = 4  # sentences kept for "more from the sources"
    read: int = 3  # how many of the best-scored candidates the reader reads (answer/reading.py; 3: eval/README.md, "The reader")
    reader: float = 6.0  # weight of the reader's probability that a sentence answers (6-layer reader: eval/README.md)
    read_more: int = 0  # ... and how many more it reads when none of those reads as an answer (reading.py)
    read_until: float = 0.0  # "reads as an answer": the reader's logit at least this


SELECTION_PARAMETERS = tuple(f.name for f in fields(Selection))


@dataclass
class Candidate:
    hit: Hit
    a: int  # offsets in hit.text of the quote (the sentence, or the one before it and the sentence)
    b: int
    text: str  # the quote, exactly hit.text[a:b]
    vector: np.ndarray
    terms: frozenset
    similarity: float = 0.0
    overlap: float = 0.0  # IDF-weighted share of the question's terms
    score: float = 0.0
    facts: dict = field(default_factory=dict)
    leans: bool = False
    before: tuple = ()
    kind_match: bool = False
    framing: bool = False
    before_terms: tuple = ()
    reader: float | None = None  # the reader's logit, when it read this candidate
    defines: bool = False  # it defines the term a definition question asks about

    @classmethod
    def of(cls, hit: Hit, s: Sentence) -> "Candidate":
        """A passage sentence (passage_sentences) as a candidate from this hit."""
        return cls(hit, s.a, s.b, s.text, s.vector, s.terms, facts=s.facts, leans=s.leans, before=s.before,
                   framing=s.framing, before_terms=s.before_terms)

    def context(self, depth: int) -> int:
        """How many of the sentences before it a quote of this one takes (at most `depth`):
        while the sentence so far leans on the one before."""
        n, leans = 0, self.leans
        for _, earlier_leans in self.before[:depth]:
            if not leans:
                break
            n, leans = n + 1, earlier_leans
        return n

    def quoted_terms(self, depth: int) -> frozenset:
        """Its terms and those of the sentences it is quoted with: what "This approach" refers to."""
        return self.terms.union(*self.before_terms[:self.context(depth)])

    @property
    def dangling(self) -> bool:
        """Leans on a sentence that is not in the passage (or leans on one that leans too far)."""
        leans = self.leans
        for _, earlier_leans in self.before:
            if not leans:
                return False
            leans = earlier_leans
        return leans

    @property
    def words(self) -> int:
        return len(WORD.findall(self.text))


def score_candidates(candidates: list[Candidate], query_vector: np.ndarray, weights: dict, kind: str,
                     asked: set, selection: Selection, top_score: float) -> None:
    """Each candidate's similarity, IDF-weighted term share, kind match and score (in place).
    `weights`: the question's terms -> IDF; `asked`: the facts the question itself names."""
    total = sum(weights.values())
    vectors = np.stack([c.vector for c in candidates]) if candidates else np.zeros((0, len(query_vector)))
    sims = vectors @ query_vector
    for c, sim in zip(candidates, sims):
        c.similarity = float(sim)
        terms = c.quoted_terms(selection.context)
        c.overlap = sum(w for t, w in weights.items() if t in terms) / total if total else 0.0
        c.kind_match = c.defines if kind == DEFINITION else bool(kind) and bool(c.facts.get(kind, set()) - asked)
        passage = c.hit.score / top_score if top_score > 0 else 0.0
        c.score = (selection.similarity * c.similarity + selection.lexical * c.overlap
                   + selection.passage * passage
                   + (selection.definition if kind == DEFINITION else selection.kind) * c.kind_match
                   - selection.dangling * c.dangling - selection.framing * c.framing)


def with_context(c: Candidate, depth: int) -> Candidate:
    """The candidate quoted from the start of the sentence(s) before it that it leans on
    (at most `depth` of them, in the same passage)."""
    n = c.context(depth)
    if not n:
        return c
    a = c.before[n - 1][0]
    return replace(c, a=a, text=c.hit.text[a:c.b], before=())


def select_sentences(candidates: list[Candidate], query_vector: np.ndarray, query_terms, kind: str = "",
                     selection: Selection = Selection(), asked: set = frozenset(),
                     top_score: float | None = None, rescore=None) -> tuple[list[Candidate], list[Candidate]]:
    """The answer's quotes, best first, and the next best ones for "more from the sources".

    `query_terms` maps each of the question's terms to its weight (IDF); a plain set weighs
    them equally. The best candidate always leads. A further one is added when it scores at
    least `relative_floor` of the best, is not a near-duplicate, adds at least `min_gain`
    of the term weight the answer lacks (or the asked-for kind of fact it lacks), and keeps
    the answer within `max_words`. `rescore(candidates)` may change their scores (in place)
    before they are ranked."""
    weights = query_terms if isinstance(query_terms, dict) else {t: 1.0 for t in query_terms}
    if top_score is None:
        top_score = max((c.hit.score for c in candidates), default=0.0)
    score_candidates(candidates, query_vector, weights, kind, asked, selection, top_score)
    if rescore is not None:  # the reader, say (answer/reading.py), on top of the scores above
        rescore(candidates)
    ranked = sorted(candidates, key=lambda c: (-c.score, c.hit.rank, c.a))
    total = sum(weights.values()) or 1.0
    chosen: list[Candidate] = []
    extra: list[Candidate] = []
    covered: set = set()
    words = 0
    for c in ranked:
        after = None  # the chosen quote that this sentence continues
        if selection.context and c.leans:
            wide = with_context(c, selection.context)
            # What it leans on is quoted already: the sentence alone continues that quote.
            after = next((o for o in chosen if (wide is not c and overlaps(wide, o) and not overlaps(c, o))
                          or follows(c, o)), None)
            c = c if after else wide
        if any(overlaps(c, o) or near_duplicate(c, o) for o in chosen + extra):
            continue
        gain = sum(w for t, w in weights.items() if t in c.terms and t not in covered) / total
        adds_kind = c.kind_match and not any(o.kind_match for o in chosen)
        fits = (not chosen or (c.score >= selection.relative_floor * chosen[0].score
                               and (gain >= selection.min_gain or adds_kind)
                               and words + c.words <= selection.max_words))
        if fits and len(chosen) < selection.max_sentences:
            chosen.insert(chosen.index(after) + 1 if after else len(chosen), c)
            covered |= set(c.terms)
            words += c.words
        elif len(extra) < selection.more:
            extra.append(c)
        if len(chosen) >= selection.max_sentences and len(extra) >= selection.more:
            break
    return chosen, extra


def follows(x: Candidate, y: Candidate) -> bool:
    """Whether x starts right where y ends in their document (y from another passage, say)."""
    return x.hit.doc_id == y.hit.doc_id and 0 <= (x.hit.start + x.a) - (y.hit.start + y.b) <= 2


def overlaps(x: Candidate, y: Candidate) -> bool:
    return x.hit.doc_id == y.hit.doc_id and x.hit.start + x.a < y.hit.start + y.b and y.hit.start + y.a < x.hit.start + x.b


def near_duplicate(x: Candidate, y: Candidate) -> bool:
    if float(x.vector @ y.vector) >= NEAR_DUPLICATE_COSINE:
        return True
    union = x.terms | y.terms
    return bool(union) and len(x.terms & y.terms) / len(union) >= NEAR_DUPLICATE_JACCARD


def cite(chosen: list[Candidate], markers: dict | None = None, page_at=None) -> tuple[str, list[Citation], list[Hit]]:
    """Answer text with [n] after each quote, its citations and the passages newly cited
    (`markers`, chunk_id -> n, carries the numbering on from an earlier call).
    `page_at(doc_id, offset)` gives a citation its page of the original file."""
    markers = {} if markers is None else markers
    sources: list[Hit] = []
    citations, parts = [], []
    for c in chosen:
        hit = c.hit
        sentence = hit.text[c.a:c.b]
        if not sentence or sentence != c.text or len(hit.text) != hit.end - hit.start:
            continue  # never cite what is not verbatim in its passage (and so in its document)
        if hit.chunk_id not in markers:
            markers[hit.chunk_id] = len(markers) + 1
            sources.append(hit)
        n = markers[hit.chunk_id]
        citations.append(Citation(n, hit.doc_id, hit.chunk_id, hit.source, sentence, hit.start + c.a,
                                  hit.start + c.b, c.a, c.b, round(c.score, 4), round(c.similarity, 4),
                                  round(c.overlap, 4), page_at(hit.doc_id, hit.start + c.a) if page_at else None))
        parts.append(f"{sentence} [{n}]")
    return " ".join(parts), citations, sources
