"""The data that flows through the pipeline, as plain dataclasses.

    Document  a citable record of a corpus file, with its cleaned text
    Chunk     a token-sized passage of a document, with character offsets into its text
    Hit       a retrieved chunk, with every retriever's rank and score
    Citation  a sentence of a hit quoted in an answer, with its offsets
    Answer    the answer to a question: text, citations, sources, abstention
    Generation  a language model's answer and how each of its sentences was checked
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Document:
    doc_id: str
    title: str
    text: str  # cleaned text; chunk offsets point into it
    source: str  # source file, relative to the corpus folder
    metadata: dict = field(default_factory=dict)
    sections: list = field(default_factory=list)  # [(offset in text, heading), ...]
    pages: list = field(default_factory=list)  # [(offset in text, page of the original file), ...]; [] if unpaged

    def section_at(self, offset: int) -> str:
        """The heading in force at a character offset ('' before the first heading).

        >>> Document("d", "T", "Intro text. Methods text.", "d.txt", sections=[(12, "Methods")]).section_at(15)
        'Methods'
        """
        current = ""
        for start, heading in self.sections:
            if start > offset:
                break
            current = heading
        return current

    def page_at(self, offset: int) -> int | None:
        """The page (1-based) of the original file holding a character offset, None if unknown.

        >>> Document("d", "T", "On page one. On page two.", "d.pdf", pages=[(0, 1), (13, 2)]).page_at(15)
        2
        """
        return page_at(self.pages, offset)


def page_at(pages: list, offset: int) -> int | None:
    """The page in force at `offset` of a page map [(offset, page), ...] (None if empty)."""
    current = pages[0][1] if pages else None
    for start, page in pages:
        if start > offset:
            break
        current = page
    return current


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    text: str
    start: int  # character offsets into the document's cleaned text
    end: int
    section: str
    n_tokens: int
    page_start: int | None = None  # pages of the original file (1-based) the chunk spans, where known
    page_end: int | None = None


@dataclass
class Hit:
    rank: int
    score: float
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    source: str
    start: int
    end: int
    metadata: dict = field(default_factory=dict)
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None
    fused_score: float | None = None
    page_start: int | None = None  # pages of the original file (1-based), where known
    page_end: int | None = None
    reader: float | None = None  # the reader's best logit for the passage, when it reranked it (search/rerank.py)

    def to_dict(self) -> dict:
        return asdict(self)

    def record_line(self, sep: str = " · ") -> str:
        """Where the record was published: journal, year, PMID, DOI and kind, where known.

        >>> Hit(1, 1.0, "c", "d", "T", "", "", "s", 0, 0, {"journal": "BMJ Open", "year": 2014,
        ...     "pmid": "25320000"}).record_line()
        'BMJ Open · 2014 · PMID 25320000'
        """
        m = self.metadata
        parts = [m.get("journal"), str(m["year"]) if m.get("year") else None,
                 f"PMID {m['pmid']}" if m.get("pmid") else None, f"doi:{m['doi']}" if m.get("doi") else None,
                 m.get("kind")]
        return sep.join(p for p in parts if p)


@dataclass
class Citation:
    marker: int
    doc_id: str
    chunk_id: str
    source: str
    sentence: str
    start: int  # offsets of the sentence in the document's cleaned text
    end: int
    passage_start: int  # offsets of the sentence in the cited passage (hit.text)
    passage_end: int
    score: float
    similarity: float
    overlap: float
    page: int | None = None  # page of the original file (1-based) the sentence is on, where known


@dataclass
class SentenceSupport:
    """One sentence of a generated answer and the passage sentence that best supports it."""
    sentence: str  # as generated, its [n] markers taken out
    markers: list  # the passage numbers it cited
    supported: bool
    reason: str  # why it is not supported ('' when it is)
    marker: int | None = None  # the cited passage holding the best supporting sentence
    chunk_id: str | None = None
    evidence: str = ""  # that passage sentence, verbatim
    passage_start: int | None = None  # its offsets in the passage (hit.text)
    passage_end: int | None = None
    similarity: float = 0.0  # cosine between the sentence and the evidence
    coverage: float = 0.0  # share of the sentence's content words found in the cited passages


@dataclass
class Generation:
    """How a generated answer was made and checked (Answer.generated)."""
    generator: str  # "openai"
    model: str
    output: str  # the model's text as received
    sentences: list = field(default_factory=list)  # [SentenceSupport]
    fallback: bool = False  # True: the extractive answer is shown instead
    reason: str = ""  # why the fallback was used
    seconds: float = 0.0

    @property
    def kept(self) -> int:
        return sum(s.supported for s in self.sentences)

    def to_dict(self) -> dict:
        return {**asdict(self), "kept": self.kept, "checked": len(self.sentences)}


@dataclass
class Answer:
    question: str
    query: str  # what was actually searched (differs for follow-ups and corrected slips)
    text: str
    abstained: bool
    citations: list = field(default_factory=list)  # [Citation]
    sources: list = field(default_factory=list)  # [Hit]: cited passages in marker order, or closest ones
    hits: list = field(default_factory=list)  # [Hit]: everything retrieved
    evidence: float = 0.0  # best dense cosine among retrieved candidates (one of the abstention signals)
    threshold: float = 0.0  # on `confidence`: below it the answer abstains
    note: str = ""
    index: dict = field(default_factory=dict)  # the index version answered from: generation, built_at, ...
    confidence: float | None = None  # probability that the documents answer (the abstention model's)
    signals: dict = field(default_factory=dict)  # abstention signal -> value (answer/abstention.py)
    decided_by: str = ""  # the signal (or rule) that decided to answer or abstain
    reason: str = ""  # why it abstained, in words, for the user
    more: list = field(default_factory=list)  # [Citation]: further sentences, "more from the sources"
    more_sources: list = field(default_factory=list)  # [Hit]: passages cited only in `more`
    generated: Generation | None = None  # set when a language model was asked (answer/generate.py)
    corrected: list = field(default_factory=list)  # [(typed, corrected)]: the question's slips (search/spelling.py)
    marked: dict = field(default_factory=dict)  # chunk_id -> [(start, end)]: a declined answer's closest sentences
    outcome: str = ""  # "answer", "caution" (answered, evidence weak) or "decline" (answer/abstention.py)
    caution: str = ""  # for outcome "caution": what to check, in words, shown above the answer

    def markers(self) -> dict:
        """chunk_id -> marker number of each cited passage."""
        return {c.chunk_id: c.marker for c in self.citations}

    def to_dict(self) -> dict:
        markers = self.markers()
        sources = []
        for hit in self.sources:
            spans = [[c.passage_start, c.passage_end] for c in self.citations if c.chunk_id == hit.chunk_id] \
                or [list(span) for span in self.marked.get(hit.chunk_id, [])]
            sources.append({**hit.to_dict(), "marker": markers.get(hit.chunk_id), "highlights": spans})
        more_markers = {c.chunk_id: c.marker for c in self.more}
        more_sources = [{**hit.to_dict(), "marker": more_markers.get(hit.chunk_id),
                         "highlights": [[c.passage_start, c.passage_end] for c in self.more if c.chunk_id == hit.chunk_id]}
                        for hit in self.more_sources]
        outcome = self.outcome or ("decline" if self.abstained else "answer")
        row = {"question": self.question, "query": self.query,
               "corrected": [{"from": a, "to": b} for a, b in self.corrected],
               "answer": self.text, "abstained": self.abstained, "outcome": outcome, "caution": self.caution,
                "citations": [asdict(c) for c in self.citations], "sources": sources,
                "evidence": {"signal": "answerability" if self.confidence is not None else "max_dense_score",
                             "value": round(self.confidence if self.confidence is not None else self.evidence, 4),
                             "threshold": self.threshold, "decided_by": self.decided_by, "reason": self.reason,
                             "max_dense_score": round(self.evidence, 4), "signals": self.signals},
                "more": {"text": " ".join(f"{c.sentence} [{c.marker}]" for c in self.more),
                         "citations": [asdict(c) for c in self.more], "sources": more_sources},
                "note": self.note, **({"index": self.index} if self.index else {})}
        if self.generated is not None:
            row["generated"] = self.generated.to_dict()
        return row
