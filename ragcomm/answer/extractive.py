"""Question + retrieved passages -> an extractive answer whose every sentence is cited.

    answerer = Answerer(Retriever(load_index("index")))
    answer = answerer.ask("what makes a good commissioning manager?")
    print(answer.text)          # 2-5 sentences copied verbatim, each followed by [n]
    answer.citations[0].start   # character offsets of that sentence in its document

Nothing is generated. Sentences of the retrieved passages are scored by cosine similarity
to the question (same embedder as the index) plus the share of the question's BM25 terms
they contain; near-duplicates are dropped; the chosen ones are grouped by passage and
shown in document order. Each is checked to be exactly `passage[a:b]` before it is cited.
When the best dense score of any retrieved passage is below a calibrated threshold, the
answer abstains and shows the closest passages instead.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..backends import analyze
from ..chunking import sentence_spans
from ..search import check_options, check_question
from ..types import Answer, Citation, Hit, page_at
from .calibration import load_threshold
from .followup import WORD, standalone_queries, standalone_query

ABSTAIN_TEXT = ("The documents do not appear to answer this question. "
                "The closest passages are shown instead; check them before relying on them.")
SIMILARITY_WEIGHT = 0.5  # the rest goes to lexical overlap (0.3-0.9 cite the gold evidence equally often)
MIN_WORDS = 6  # shorter pieces are headings, labels or fragments, not answers
NEAR_DUPLICATE_COSINE = 0.9
NEAR_DUPLICATE_JACCARD = 0.6
# A second guard: abstain when even the best sentence is a poor match (on the gold set every
# answerable question's best sentence scores >= 0.37; 5 of 12 unanswerable ones stay below 0.32).
MIN_SENTENCE_SCORE = 0.32


@dataclass
class Candidate:
    hit: Hit
    a: int  # offsets in hit.text
    b: int
    text: str  # the sentence as split and embedded
    vector: np.ndarray
    terms: frozenset
    similarity: float = 0.0
    overlap: float = 0.0
    score: float = 0.0


def is_answer_sentence(text: str) -> bool:
    """Whole sentences of prose, not headings, labels or reference fragments."""
    end = text.rstrip()[-1:]
    return len(WORD.findall(text)) >= MIN_WORDS and end not in (":", "?")


def select_sentences(candidates: list[Candidate], query_vector: np.ndarray, query_terms: set,
                     min_sentences: int = 2, max_sentences: int = 5, relative_floor: float = 0.7) -> list[Candidate]:
    """The few sentences that best answer the query, near-duplicates removed, best first.

    Score = SIMILARITY_WEIGHT * cosine(query, sentence) + (1 - SIMILARITY_WEIGHT) * share of
    the query's terms in the sentence. Beyond `min_sentences`, a sentence is kept only if it
    scores at least `relative_floor` times the best one."""
    for c in candidates:
        c.similarity = float(c.vector @ query_vector)
        c.overlap = len(query_terms & c.terms) / len(query_terms) if query_terms else 0.0
        c.score = SIMILARITY_WEIGHT * c.similarity + (1 - SIMILARITY_WEIGHT) * c.overlap
    ranked = sorted(candidates, key=lambda c: (-c.score, c.hit.rank, c.a))
    chosen: list[Candidate] = []
    for c in ranked:
        if len(chosen) >= max_sentences:
            break
        if len(chosen) >= min_sentences and c.score < relative_floor * chosen[0].score:
            break
        if any(near_duplicate(c, o) for o in chosen):
            continue
        chosen.append(c)
    return chosen


def near_duplicate(x: Candidate, y: Candidate) -> bool:
    if float(x.vector @ y.vector) >= NEAR_DUPLICATE_COSINE:
        return True
    union = x.terms | y.terms
    return bool(union) and len(x.terms & y.terms) / len(union) >= NEAR_DUPLICATE_JACCARD


def reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Grouped by document (the one holding the best sentence first), then in text order."""
    first = {}
    for i, c in enumerate(chosen):
        first.setdefault(c.hit.doc_id, i)
    return sorted(chosen, key=lambda c: (first[c.hit.doc_id], c.hit.start + c.a))


def cite(chosen: list[Candidate], page_at=None) -> tuple[str, list[Citation], list[Hit]]:
    """Answer text with [n] after each sentence, its citations and the cited passages.
    `page_at(doc_id, offset)` gives a citation its page of the original file."""
    markers: dict[str, int] = {}
    sources: list[Hit] = []
    citations, parts = [], []
    for c in reading_order(chosen):
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

    Sentence vectors are computed the first time a passage is retrieved (or all at once
    with `warm()`), so repeated and later questions cost one query embedding, a BM25 and a
    FAISS search, and a few dot products."""

    def __init__(self, retriever, threshold: float | None = None, calibration: Path | None = None):
        self.retriever = retriever
        self.threshold = load_threshold(calibration) if threshold is None else float(threshold)
        self._position = {c.chunk_id: i for i, c in enumerate(retriever.index.chunks)}
        self._sentences: dict[int, list[tuple[int, int, np.ndarray, frozenset]]] = {}
        self._lock = threading.Lock()

    @property
    def embedder(self):
        return self.retriever.embedder

    def sentences(self, chunk_ids: list[int]) -> dict[int, list]:
        """(a, b, text, vector, terms) of each answer-worthy sentence of these chunks, cached."""
        missing = [i for i in dict.fromkeys(chunk_ids) if i not in self._sentences]
        if missing:
            analyzer = self.retriever.index.lexical.analyzer
            spans = {i: [(a, b) for a, b in sentence_spans(self.retriever.index.chunks[i].text)
                         if is_answer_sentence(self.retriever.index.chunks[i].text[a:b])] for i in missing}
            texts = [self.retriever.index.chunks[i].text[a:b] for i in missing for a, b in spans[i]]
            with self._lock:
                vectors = self.embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
            row = 0
            for i in missing:
                entries = []
                for a, b in spans[i]:
                    text = self.retriever.index.chunks[i].text[a:b]
                    entries.append((a, b, text, vectors[row], frozenset(analyze(text, analyzer))))
                    row += 1
                self._sentences[i] = entries
        return {i: self._sentences[i] for i in chunk_ids}

    def page_at(self, doc_id: str, offset: int) -> int | None:
        """The page of the original file at a document offset (None for unpaged files)."""
        return page_at(self.retriever.index.documents.get(doc_id, {}).get("pages") or [], offset)

    def warm(self, batch: int = 8) -> None:
        """Embed the sentences of every passage now (the app does this in the background, in
        small batches so that questions asked meanwhile are not held up for long)."""
        ids = list(range(len(self.retriever.index.chunks)))
        for start in range(0, len(ids), batch):
            self.sentences(ids[start:start + batch])

    def ask(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
            fusion: str | None = None, history: list[str] | None = None, max_sentences: int = 5) -> Answer:
        """Retrieve k passages for the question (resolved against `history`, the previous
        questions, oldest first) and answer from them."""
        question = check_question(question)
        r = self.retriever
        check_options(r.settings, mode, fusion, k)
        previous = standalone_queries([check_question(h) for h in history or [] if h and h.strip()])
        query = standalone_query(question, previous)

        # One query vector serves dense retrieval, the abstention signal and sentence scoring.
        query_vector = self.embedder.encode_query(query)
        retrieval = r.retrieve(query, k, mode, filters, fusion, query_vector=query_vector, dense_signal=True)
        hits, evidence = retrieval.hits, retrieval.max_dense

        answer = Answer(question, query, "", True, hits=hits, evidence=float(evidence), threshold=self.threshold)
        if hits and evidence >= self.threshold:
            positions = [self._position[h.chunk_id] for h in hits]
            cached = self.sentences(positions)
            candidates, seen = [], set()
            for hit, i in zip(hits, positions):  # best-ranked passage keeps a shared sentence
                for a, b, text, vector, terms in cached[i]:
                    key = (hit.doc_id, hit.start + a, hit.start + b)
                    if key not in seen:
                        seen.add(key)
                        candidates.append(Candidate(hit, a, b, text, vector, terms))
            query_terms = set(analyze(query, r.index.lexical.analyzer))
            chosen = select_sentences(candidates, query_vector, query_terms, max_sentences=max_sentences)
            if chosen and chosen[0].score >= MIN_SENTENCE_SCORE:
                answer.text, answer.citations, answer.sources = cite(chosen, self.page_at)
                answer.abstained = not answer.citations
        if answer.abstained:
            answer.text = ABSTAIN_TEXT if hits else "No passages matched (check the filters)."
            answer.sources = hits[:3]
            if not looks_english(question):
                answer.note = "The documents are in English: try asking in English."
        return answer


def looks_english(text: str) -> bool:
    """Mostly Latin letters and at least one common English word (for a helpful note only)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or sum(ch.isascii() for ch in letters) < 0.8 * len(letters):
        return False
    words = {w.lower() for w in WORD.findall(text)}
    return len(words) < 3 or bool(words & {"the", "a", "of", "and", "in", "to", "what", "how", "why", "is", "are",
                                           "do", "does", "did", "who", "which", "for", "on", "with", "was", "were"})
