"""Question + retrieved passages -> an extractive answer whose every sentence is cited.

    answerer = Answerer(Retriever(load_index("index")))
    answer = answerer.ask("what makes a good commissioning manager?")
    print(answer.text)          # the best sentence first, then at most a few that add to it, each [n]
    answer.citations[0].start   # character offsets of that sentence in its document
    answer.more                 # further sentences, "more from the sources"

Nothing is generated. Each sentence of the retrieved passages is scored (`Selection`) by
its cosine similarity to the question (same embedder as the index), the BM25 weight (IDF)
of the question's terms it contains, the fused score of its passage, and whether it holds
what the question asks for (a number for "how many", a date for "when", a name for "who");
a sentence that leans on the one before it ("This approach...", "They...") is quoted with
it, or marked down when that one is not in the passage. The best sentence leads; a further
one is added only if it brings question terms or the asked-for kind of fact the answer
lacks, within a word budget; the rest go to `Answer.more`. Each quote is checked to be
exactly `passage[a:b]` before it is cited. Whether to answer at all is decided by the
abstention model (abstention.py, calibrated by `ragcomm eval --calibrate`); when it
abstains, the answer says why and shows the closest passages.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..backends import analyze
from ..chunking import sentence_spans
from ..reader import DEFAULT_READER, get_reader
from ..search import check_options, check_question
from ..search.spelling import Correction
from ..types import Answer, Citation, Hit, page_at
from .abstention import uncovered, CAUTION_TEXT, SIGNALS, agreement, reason, used_signals
from .coverage import CorpusProfile, corpus_signals, question_years
from .definitions import definition_question, defines
from .calibration import load_model
from .closest import marked_sentences
from .followup import WORD, follow_up, standalone_queries, standalone_query
from .reading import read_candidates
from .sentences import Sentence, passage_sentences, question_kind

ABSTAIN_TEXT = ("The documents do not appear to answer this question. "
                "The closest passages are shown instead; check them before relying on them.")


def abstain_text(why: str = "") -> str:
    """The abstention message, with the reason when there is one.

    >>> abstain_text("the documents never mention 'Healthwatch'")[:86]
    "The documents do not appear to answer this question: they never mention 'Healthwatch'."
    """
    if not why:
        return ABSTAIN_TEXT
    why = why.replace("the documents ", "they ", 1) if why.startswith("the documents ") else why
    return ABSTAIN_TEXT.replace("this question.", f"this question: {why}.", 1)


def caution_text(why: str = "") -> str:
    """The caution shown above an answer whose evidence is weak, with the reason.

    >>> caution_text("keyword and meaning search disagree about the closest passages")
    'The closest passages may not answer this: check them (keyword and meaning search disagree about the closest passages).'
    """
    return CAUTION_TEXT.replace("check them.", f"check them ({why}).") if why else CAUTION_TEXT


NO_SENTENCE_TEXT = ("The closest passages hold no sentence that reads as an answer (only headings, lists or "
                    "fragments); they are shown instead.")
NEAR_DUPLICATE_COSINE = 0.9
DEFINITION = "definition"  # the kind of a definition question (definitions.py)
DEFINITION_DEPTH = 20  # how far down the fused ranking a defining passage is looked for
NEAR_DUPLICATE_JACCARD = 0.6
LETTER = re.compile(r"[^\W\d_]")
COMMON_SHARE = 0.05  # a capitalised word in more than this share of passages (NHS, PCT) is not a name


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
    relative_floor: float = 0.4  # ... and score at least this share of the best sentence's score
    more: int = 4  # sentences kept for "more from the sources"
    read: int = 3  # how many of the best-scored candidates the reader reads (answer/reading.py; 3: eval/README.md, "The reader")
    reader: float = 1.0  # weight of the reader's probability that a sentence answers


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


# ---------------------------------------------------------------- choosing sentences

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


# ---------------------------------------------------------------- the whole ask

class Answerer:
    """Answers questions over one Retriever, caching sentence vectors per passage.

    Sentence vectors are the retriever's (search/sentences.py): read from the index when it
    stores them, else embedded the first time a passage is retrieved (or all at once with
    `warm()`), so repeated and later questions cost one query embedding, a BM25 and a FAISS
    search, and a few dot products."""

    def __init__(self, retriever, threshold: float | None = None, calibration: Path | None = None,
                 selection: Selection | None = None, reader=DEFAULT_READER):
        self.retriever = retriever
        # a Reader (ragcomm/reader/), or a name for get_reader: "default" (shipped), "none", a folder
        self.reader = get_reader(reader) if isinstance(reader, str) else reader
        self.model = load_model(calibration)
        self.threshold = self.model.threshold if threshold is None else float(threshold)
        self.selection = selection or Selection()
        self._position = {c.chunk_id: i for i, c in enumerate(retriever.index.chunks)}
        self._sentences: dict[int, list[Sentence]] = {}
        self._profile: CorpusProfile | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self):
        return self.retriever.embedder

    @property
    def profile(self) -> CorpusProfile:
        """Term document frequencies and years of the indexed passages (computed once)."""
        if self._profile is None:
            profile = CorpusProfile.of(self.retriever.index)
            with self._lock:
                self._profile = self._profile or profile
        return self._profile

    def sentences(self, chunk_ids: list[int]) -> dict[int, list[Sentence]]:
        """The answer-worthy sentences of these chunks, cached."""
        missing = [i for i in dict.fromkeys(chunk_ids) if i not in self._sentences]
        if missing:
            analyzer = self.retriever.index.lexical.analyzer
            profile = self.profile
            limit = COMMON_SHARE * profile.passages

            def common(word):
                return any(profile.df.get(t, 0) > limit for t in analyze(word, analyzer))

            chunks, documents = self.retriever.index.chunks, self.retriever.index.documents
            # The retriever's sentence vectors: stored in the index, else embedded once per passage.
            for i, vectors in zip(missing, self.retriever.sentences.get(missing)):
                headings = (documents.get(chunks[i].doc_id, {}).get("title", ""), chunks[i].section)
                sentences = passage_sentences(chunks[i].text, analyzer, common, headings)
                spans = sentence_spans(chunks[i].text)
                if len(vectors) != len(spans):  # stored by a version that split sentences otherwise
                    with self._lock:
                        vectors = self.embedder.encode([chunks[i].text[a:b] for a, b in spans])
                row = {b: j for j, (_, b) in enumerate(spans)}  # by end: a quote may leave out a label
                for sentence in sentences:
                    sentence.vector = vectors[row[sentence.b]]
                self._sentences[i] = sentences
        return {i: self._sentences[i] for i in chunk_ids}

    def page_at(self, doc_id: str, offset: int) -> int | None:
        """The page of the original file at a document offset (None for unpaged files)."""
        return page_at(self.retriever.index.documents.get(doc_id, {}).get("pages") or [], offset)

    def reuse_sentences(self, earlier: "Answerer") -> int:
        """Take the cached sentence vectors of passages that an answerer over an earlier
        version of the index holds too, unchanged (same id and text, same embedder and
        analyzer), so that a reloaded index answers at once; how many passages were reused."""
        a, b = self.retriever, earlier.retriever
        if (a.index.model_id, a.index.embed_backend, a.index.lexical.analyzer) != \
                (b.index.model_id, b.index.embed_backend, b.index.lexical.analyzer):
            return 0
        before = {(c.chunk_id, c.text): i for i, c in enumerate(b.index.chunks)}
        reused = 0
        for i, c in enumerate(a.index.chunks):
            j = before.get((c.chunk_id, c.text))
            if j is not None and j in earlier._sentences:
                self._sentences[i] = earlier._sentences[j]
                reused += 1
        return reused

    def warm(self, batch: int = 8) -> None:
        """Embed the sentences of every passage now (the app does this in the background, in
        small batches so that questions asked meanwhile are not held up for long)."""
        ids = list(range(len(self.retriever.index.chunks)))
        for start in range(0, len(ids), batch):
            self.sentences(ids[start:start + batch])

    def ask(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
            fusion: str | None = None, history: list[str] | None = None, max_sentences: int | None = None,
            selection: Selection | dict | None = None, spelling: bool = True) -> Answer:
        """Retrieve k passages for the question (resolved against `history`, the previous
        questions, oldest first; slips corrected unless `spelling=False`) and answer from them,
        or abstain."""
        question = check_question(question)
        r = self.retriever
        mode, fusion = check_options(r.settings, mode, fusion, k)
        selection = self._selection(selection, max_sentences)
        # Slips corrected against the corpus vocabulary (search/spelling.py), earlier turns too.
        correct = r.correct if spelling else Correction
        previous = standalone_queries([correct(check_question(h)).query for h in history or [] if h and h.strip()])
        correction = correct(question)
        query = standalone_query(correction.query, previous)
        focus = follow_up(correction.query, previous)  # a follow-up: its ask and the earlier topic
        profile = self.profile

        # One query vector serves dense retrieval, the abstention signals and sentence scoring.
        query_vector = self.embedder.encode_query(query)
        retrieval = r.retrieve(query, k, mode, filters, fusion, query_vector=query_vector, dense_signal=True,
                               spelling=False)
        hits = retrieval.hits
        answer = Answer(question, query, "", True, hits=hits, evidence=float(retrieval.max_dense),
                        threshold=self.threshold, corrected=list(correction.changes))
        terms = profile.content_terms(query)
        numbers_only = bool(terms) and not any(LETTER.search(t) for t in terms)
        signals, found = corpus_signals(query, profile)
        signals["dense"] = float(retrieval.max_dense)
        signals["agreement"] = agreement(retrieval.lexical, retrieval.dense)
        chosen, extra, candidates, off_topic = [], [], [], False
        if hits and terms and not numbers_only:
            candidates = self._candidates(hits)
            asked = {w.lower() for w in WORD.findall(query)} | {str(y) for y in question_years(query)}
            weights = {t: profile.idf(t) for t in terms}
            kind = question_kind(query)
            term, reading = ("", query) if kind or focus else definition_question(correction.query)
            if term:  # the reader reads it as "What is TERM?" (definitions.py)
                kind = DEFINITION
                candidates += self._defining(term, candidates, hits, retrieval, k, mode, fusion)
            best_read = []

            def rescore(cands):
                best_read.append(read_candidates(self.reader, reading, cands, selection.read, selection.reader))

            chosen, extra = select_sentences(candidates, query_vector, weights, kind, selection, asked,
                                             top_score=max(h.score for h in hits),
                                             rescore=rescore if self.reader is not None else None)
            if best_read and best_read[0] is not None:
                signals["reader"] = best_read[0]
            signals["similarity"] = max((c.similarity for c in candidates), default=0.0)
            # The best share of the question's term weight in a sentence that holds the asked-for fact.
            signals["support"] = max((c.overlap for c in candidates if c.kind_match or kind in ("", DEFINITION)),
                                     default=0.0)
            if focus:  # a follow-up is answered from sentences on both its ask and the earlier topic
                on_topic = focus.keep(candidates, r.index.lexical.analyzer, profile, selection.context)
                off_topic = not on_topic
                chosen, extra = select_sentences(on_topic, query_vector, weights, kind, selection, asked,
                                                 top_score=max(h.score for h in hits),
                                                 rescore=rescore if self.reader is not None else None) \
                    if on_topic else ([], [])
        # every signal, 0 when it could not be measured; the reader's only when a reader read
        signals = {name: round(float(signals.get(name, 0.0)), 4) for name in SIGNALS
                   if name != "reader" or name in signals}
        answer.signals = signals
        used = used_signals(signals, mode or r.settings.mode)
        outcome, answer.decided_by, confidence = self.model.decide(used, self.threshold)
        outcome, answer.decided_by = uncovered(outcome, answer.decided_by, found, signals)
        answer.confidence = round(confidence, 4)
        answer.outcome = outcome if chosen else "decline"
        if answer.outcome != "decline":
            markers: dict = {}
            answer.text, answer.citations, answer.sources = cite(chosen, markers, self.page_at)
            answer.abstained = not answer.citations
            if not answer.abstained:
                more_text, answer.more, answer.more_sources = cite(extra, markers, self.page_at)
                if outcome == "caution":
                    answer.reason = reason(answer.decided_by, found)
                    answer.caution = caution_text(answer.reason)
            else:
                answer.outcome = "decline"
        if answer.abstained:
            answer.sources = hits[:3]
            # the closest passages' best sentences, marked (answer/closest.py)
            answer.marked = marked_sentences(answer.sources, sorted(candidates, key=lambda c: (-c.score, c.hit.rank)),
                                             weights={t: profile.idf(t) for t in terms}, analyzer=profile.analyzer)
            if not hits:
                answer.text, answer.decided_by = "No passages matched (check the filters).", "no passages"
            elif not terms:
                answer.text, answer.decided_by = ("The question has no words to search for beyond common ones: "
                                                  "say what it is about."), "no content words"
            elif numbers_only:
                answer.text, answer.decided_by = ("The question is only numbers: say what you want to know about "
                                                  "them."), "numbers only"
            elif off_topic:
                answer.reason, answer.decided_by = focus.nothing_found(), "follow-up not covered"
                answer.text = abstain_text(answer.reason)
            elif not chosen:
                answer.text, answer.decided_by = NO_SENTENCE_TEXT, "no answer sentence"
            else:
                answer.reason = reason(answer.decided_by, found)
                answer.text = abstain_text(answer.reason)
            if not looks_english(question):
                answer.note = "The documents are in English: try asking in English."
        return answer

    def _selection(self, selection, max_sentences) -> Selection:
        if isinstance(selection, dict):
            selection = replace(self.selection, **selection)
        selection = selection or self.selection
        return replace(selection, max_sentences=max_sentences) if max_sentences else selection

    def _defining(self, term: str, candidates: list[Candidate], hits: list[Hit], retrieval, k: int, mode: str,
                  fusion: str) -> list[Candidate]:
        """Mark the candidates that define `term`. When none does, the first passage further
        down the fused ranking (to DEFINITION_DEPTH) that holds a defining sentence joins `hits`
        (at its own rank) and its sentences are returned as further candidates."""
        for c in candidates:
            c.defines = defines(c.text, term)
        if any(c.defines for c in candidates) or len(hits) < k:
            return []
        seen = {h.chunk_id for h in hits}
        for hit in self.retriever.fuse(retrieval.lexical, retrieval.dense, mode, fusion, DEFINITION_DEPTH)[k:]:
            if hit.chunk_id in seen:
                continue
            more = self._candidates([hit])
            if any(defines(c.text, term) for c in more):
                hits.append(hit)
                for c in more:
                    c.defines = defines(c.text, term)
                return more
        return []

    def _candidates(self, hits: list[Hit]) -> list[Candidate]:
        positions = [self._position[h.chunk_id] for h in hits]
        cached = self.sentences(positions)
        candidates, seen = [], set()
        for hit, i in zip(hits, positions):  # best-ranked passage keeps a shared sentence
            for s in cached[i]:
                key = (hit.doc_id, hit.start + s.a, hit.start + s.b)
                if key not in seen:
                    seen.add(key)
                    candidates.append(Candidate.of(hit, s))
        return candidates


def looks_english(text: str) -> bool:
    """Mostly Latin letters and at least one common English word (for a helpful note only)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or sum(ch.isascii() for ch in letters) < 0.8 * len(letters):
        return False
    words = {w.lower() for w in WORD.findall(text)}
    return len(words) < 3 or bool(words & {"the", "a", "of", "and", "in", "to", "what", "how", "why", "is", "are",
                                           "do", "does", "did", "who", "which", "for", "on", "with", "was", "were"})
