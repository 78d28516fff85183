"""Question + retrieved passages -> an extractive answer whose every sentence is cited.

    answerer = Answerer(Retriever(load_index("index")))
    answer = answerer.ask("what makes a good commissioning manager?")
    print(answer.text)          # the best sentence first, then at most a few that add to it, each [n]
    answer.citations[0].start   # character offsets of that sentence in its document
    answer.more                 # further sentences, "more from the sources"

Nothing is generated. The `Answerer` corrects the question's slips, retrieves, gathers the
passages' quotable sentences (sentences.py) as candidates, and has them scored and chosen
(choice.py: cosine to the question with the index's embedder, the IDF weight of the question's
terms, the passage's fused score, the asked-for kind of fact), the reader rescoring the best
(reading.py). A sentence that leans on the one before it ("This approach...", "They...") is
quoted with it. Each quote is checked to be exactly `passage[a:b]` before it is cited. Whether
to answer at all is decided by the abstention model (abstention.py, calibrated by `ragcomm eval
--calibrate`); when it abstains, the answer says why and shows the closest passages.
"""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path


from ..backends import analyze
from ..chunking import sentence_spans
from ..reader import DEFAULT_READER, get_reader
from ..search import check_options, check_question
from ..search.spelling import Correction
from ..types import Answer, Hit, page_at
from .abstention import uncovered, CAUTION_TEXT, SIGNALS, agreement, reason, used_signals
from .coverage import CorpusProfile, corpus_signals, question_years
from .definitions import definition_question, defines
from .calibration import load_model
from .choice import DEFINITION, Candidate, Selection, cite, select_sentences
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
DEFINITION_DEPTH = 20  # how far down the fused ranking a defining passage is looked for
LETTER = re.compile(r"[^\W\d_]")
COMMON_SHARE = 0.05  # a capitalised word in more than this share of passages (NHS, PCT) is not a name


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
                best_read.append(read_candidates(self.reader, reading, cands, selection.read, selection.reader,
                                                 selection.read_more, selection.read_until))

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
            for c in more:
                c.defines = defines(c.text, term)
            if any(c.defines for c in more):
                hits.append(hit)
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
