"""Question -> ranked, cited passages: BM25, dense, or a fusion of both.

    retriever = Retriever(load_index("index"))
    for hit in retriever.search("what makes a good commissioning manager?", k=3):
        print(hit.rank, hit.doc_id, hit.section, hit.bm25_rank, hit.dense_rank)

Every hit carries its components (BM25 rank and score, dense rank and score, fused score)
so that a reader can see why it ranked where it did. A question's slips are corrected against
the corpus vocabulary first (search/spelling.py; `retriever.correct(question)` says how it
was searched, `spelling=False` searches it as typed).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends import analyze
from ..config import RETRIEVAL_FIELDS, Settings
from ..index import Index, IndexMismatch
from ..types import Hit
from .filters import chunk_mask
from .fusion import FUSIONS, WEIGHTINGS, fuse, ranked
from .prf import DENSE_PRFS, PRFS, rm3, rocchio
from .rerank import rerank
from .sentences import SENTENCE_MODES, SentenceVectors, combine_sentence
from .spelling import Correction, Speller

MODES = ("hybrid", "bm25", "dense")
MAX_QUESTION_CHARS = 2000


class QueryError(ValueError):
    """A question that cannot be searched; the message says why."""


def check_question(question) -> str:
    """The question, stripped; QueryError if it is not text, empty or too long.

    >>> check_question("  What is PBC?  ")
    'What is PBC?'
    """
    if not isinstance(question, str):
        raise QueryError("the question must be text")
    question = question.replace("\x00", " ").strip()
    if not question:
        raise QueryError("the question is empty: type a question")
    if len(question) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS})")
    return question


def check_options(settings: Settings, mode: str | None, fusion: str | None, k) -> tuple[str, str]:
    """The mode and fusion to use (defaults from settings); QueryError for bad values."""
    mode = mode or settings.mode
    fusion = fusion or settings.fusion
    if mode not in MODES:
        raise QueryError(f"unknown mode '{mode}' (choose from {', '.join(MODES)})")
    if fusion not in FUSIONS:
        raise QueryError(f"unknown fusion '{fusion}' (choose from {', '.join(FUSIONS)})")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise QueryError("k must be a positive whole number")
    check_retrieval_settings(settings)
    return mode, fusion


FILTER_TEXT_KEYS = ("doc_id", "source", "kind")
FILTER_YEAR_KEYS = ("year_from", "year_to")
FILTER_FLAG_KEYS = ("include_undated",)


def check_filters(filters, names: dict | None = None) -> dict | None:
    """Filters with checked types (years as whole numbers); QueryError naming the bad one
    (by `names[key]` when given: a front end's own name for a filter).

    >>> check_filters({"year_from": "2010", "kind": ["report"], "include_undated": True})
    {'year_from': 2010, 'kind': ['report'], 'include_undated': True}
    >>> check_filters({"year_from": "abc"})
    Traceback (most recent call last):
    ...
    ragcomm.search.retriever.QueryError: year_from must be a year (a whole number such as 2012), not 'abc'
    """
    if filters is None:
        return None
    if not isinstance(filters, dict):
        raise QueryError("filters must be an object of field -> value")
    checked = {}
    for key, value in filters.items():
        if not isinstance(key, str):
            raise QueryError(f"filter names must be text, not {key!r}")
        if value in (None, "", [], ()):
            continue
        name = (names or {}).get(key, key)
        if key in FILTER_FLAG_KEYS:
            if not isinstance(value, bool):
                raise QueryError(f"{name} must be true or false, not {str(value)[:40]!r}")
            checked[key] = value
        elif key in FILTER_YEAR_KEYS:
            year = value
            if isinstance(year, str) and year.strip().isdigit():
                year = int(year)
            elif isinstance(year, float) and year.is_integer():
                year = int(year)
            if isinstance(year, bool) or not isinstance(year, int) or not 0 <= year <= 9999:
                raise QueryError(f"{name} must be a year (a whole number such as 2012), not {str(value)[:40]!r}")
            checked[key] = year
        else:
            allowed = (str,) if key in FILTER_TEXT_KEYS else (str, int)
            values = value if isinstance(value, (list, tuple)) else [value]
            if not all(isinstance(v, allowed) and not isinstance(v, bool) for v in values):
                raise QueryError(f"{name} must be text or a list of text, not {str(value)[:60]!r}")
            checked[key] = value
    return checked


def check_retrieval_settings(settings: Settings) -> None:
    """QueryError for a retrieval setting out of its range (names or numbers)."""
    for name, allowed in (("fusion", FUSIONS), ("weighting", WEIGHTINGS), ("prf", PRFS), ("dense_prf", DENSE_PRFS),
                          ("dense_sentences", SENTENCE_MODES), ("mode", MODES)):
        if getattr(settings, name) not in allowed:
            raise QueryError(f"unknown {name.replace('_', ' ')} '{getattr(settings, name)}' "
                             f"(choose from {', '.join(allowed)})")
    if not 0.0 <= settings.dense_weight <= 1.0 or not 0.0 <= settings.prf_weight <= 1.0:
        raise QueryError("the dense weight and the PRF weight must be between 0 and 1")
    if min(settings.rrf_k, settings.prf_docs, settings.prf_terms, settings.rocchio_docs, settings.candidates) < 1:
        raise QueryError("rrf_k, the feedback document and term counts and candidates must be at least 1")
    if settings.rocchio_beta < 0:
        raise QueryError("the Rocchio beta must not be negative")


def recorded_settings(index: Index, base: Settings | None = None) -> Settings:
    """`base` (default: the defaults) with the retrieval settings the index records, if any."""
    recorded = index.manifest.get("retrieval") or {}
    return (base or Settings()).replace(**{k: v for k, v in recorded.items() if k in RETRIEVAL_FIELDS})


@dataclass
class Retrieval:
    """One search: the fused hits and each retriever's candidate list [(chunk position, score)]."""
    hits: list  # [Hit]
    lexical: list
    dense: list
    signal: float | None = None  # the best passage cosine of the question itself (before feedback)
    correction: Correction | None = None  # the question as searched, its slips corrected

    @property
    def max_dense(self) -> float:
        """The best dense (cosine) score of the question's own vector against the passage
        vectors: the abstention signal (feedback and sentence scoring do not move it)."""
        if self.signal is not None:
            return self.signal
        return max((s for _, s in self.dense), default=0.0)


class Retriever:
    """Searches one index. The embedding model is loaded on the first dense or hybrid search."""

    def __init__(self, index: Index, embedder=None, settings: Settings | None = None, reader=None):
        self.index = index
        self.settings = settings or recorded_settings(index)
        self._embedder = embedder
        self._reader = reader  # for settings.rerank; None: settings.reader, loaded on first use
        self._chunk_doc_ids = [c.doc_id for c in index.chunks]
        self._position = {c.chunk_id: i for i, c in enumerate(index.chunks)}
        self._sentences = None
        self._speller: Speller | None = None
        self._tokens: dict[int, list[str]] = {}

    @property
    def embedder(self):
        built = self.index.embed_backend
        if self._embedder is None:
            from ..embed import get_embedder

            self._embedder = get_embedder(self.index.model_id, built)
        if self._embedder.model_id != self.index.model_id:
            raise IndexMismatch(f"the index was built with '{self.index.model_id}', the query model is "
                                f"'{self._embedder.model_id}': rebuild the index or change the model")
        # Query vectors must come from the same numbers as the index's (torch vs ONNX int8 differ).
        if self._embedder.backend != built:
            raise IndexMismatch(f"the index was embedded with the '{built}' backend, the query embedder uses "
                                f"'{self._embedder.backend}': query with the '{built}' backend "
                                "or rebuild the index with `ragcomm index --rebuild --embed-backend ...`")
        return self._embedder

    @property
    def speller(self) -> Speller:
        """Spelling correction against this index's vocabulary (made on first use)."""
        if self._speller is None:
            self._speller = Speller.of_index(self.index)
        return self._speller

    def correct(self, question: str) -> Correction:
        """How a question is searched: its slips corrected against the corpus vocabulary."""
        return self.speller.correct(check_question(question))

    def allowed(self, filters: dict | None) -> np.ndarray | None:
        """Boolean mask over chunks for filters (see search/filters.py), or None."""
        return chunk_mask(self.index.documents, self._chunk_doc_ids, filters)

    def bm25(self, question: str, n: int, mask=None, filters: dict | None = None) -> list[tuple[int, float]]:
        ids, scores = self.index.lexical.top(question, n, mask, filters=filters)
        return [(int(i), float(s)) for i, s in zip(ids, scores)]

    def dense(self, question: str, n: int, mask=None, query_vector=None,
              filters: dict | None = None) -> list[tuple[int, float]]:
        q = self.embedder.encode_query(question) if query_vector is None else query_vector
        ids, scores = self.index.dense.search(q, n, mask, filters=filters)
        return [(int(i), float(s)) for i, s in zip(ids, scores)]

    @property
    def sentences(self) -> SentenceVectors:
        if self._sentences is None:
            self._sentences = SentenceVectors(self.index.chunks, self.embedder,
                                              (self.index.sentence_vectors, self.index.sentence_chunks))
        return self._sentences

    def with_sentences(self, q, dense: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Dense candidates rescored with their best sentence (settings.dense_sentences), re-sorted."""
        how = self.settings.dense_sentences
        if how == "off" or not dense:
            return dense
        best = self.sentences.best(np.asarray(q, dtype=np.float32), [i for i, _ in dense])
        scored = [(i, combine_sentence(s, b, how)) for (i, s), b in zip(dense, best)]
        return sorted(scored, key=lambda p: (-p[1], p[0]))

    def chunk_tokens(self, i: int) -> list[str]:
        if i not in self._tokens:
            self._tokens[i] = analyze(self.index.chunk_text_for_index(i), self.index.lexical.analyzer)
        return self._tokens[i]

    def bm25_rm3(self, question: str, first: list[tuple[int, float]], n: int, mask=None) -> list[tuple[int, float]]:
        """BM25 with the query expanded by RM3 from the first pass's top documents; scores
        are scaled by the number of query terms, so they read like the plain query's."""
        s = self.settings
        terms = analyze(question, self.index.lexical.analyzer)
        feedback = [(self.chunk_tokens(i), score) for i, score in first[:s.prf_docs]]
        weights = rm3(terms, feedback, s.prf_terms, s.prf_weight)
        if not weights:
            return first
        scale = max(len(terms), 1)
        scores = self.index.lexical.weighted_scores({t: w * scale for t, w in weights.items()})
        ids, values = self.index.lexical.best(scores, n, mask)
        return [(int(i), float(v)) for i, v in zip(ids, values)]

    def search(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
               fusion: str | None = None, candidates: int | None = None, query_vector=None,
               spelling: bool = True) -> list[Hit]:
        """The k best passages for a question, with each retriever's rank and score."""
        return self.retrieve(question, k, mode, filters, fusion, candidates, query_vector, spelling=spelling).hits

    def retrieve(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
                 fusion: str | None = None, candidates: int | None = None, query_vector=None,
                 dense_signal: bool = False, spelling: bool = True) -> Retrieval:
        """`search`, keeping each retriever's candidates. A given `query_vector` saves encoding
        the question again; `dense_signal` runs the dense search even in bm25 mode (for the
        abstention signal) without fusing it; `spelling=False` searches the question as typed."""
        question = check_question(question)
        correction = self.correct(question) if spelling else Correction(question)
        if correction.changes:
            question, query_vector = correction.query, None  # a given vector is the typed question's
        mode, fusion = check_options(self.settings, mode, fusion, k)
        filters = check_filters(filters)
        s = self.settings
        n = max(k, candidates or s.candidates)
        mask = self.allowed(filters)
        # the filters go with their mask: a server backend (Milvus) evaluates them itself
        lexical = self.bm25(question, n, mask, filters) if mode in ("bm25", "hybrid") else []
        if lexical and s.prf == "rm3":
            lexical = self.bm25_rm3(question, lexical, n, mask)
        dense, signal = [], None
        if mode != "bm25" or dense_signal:
            q = self.embedder.encode_query(question) if query_vector is None else query_vector
            dense = self.dense(question, n, mask, q, filters)
            signal = dense[0][1] if dense else 0.0
            if mode != "bm25" and s.dense_prf == "rocchio" and dense:
                q = rocchio(q, self.index.vectors[[i for i, _ in dense[:s.rocchio_docs]]], s.rocchio_beta)
                dense = self.dense(question, n, mask, q, filters)
            if mode != "bm25":
                dense = self.with_sentences(q, dense)
        if s.rerank and self.reader is not None:
            hits = self.fuse(lexical, dense if mode != "bm25" else [], mode, fusion, max(k, s.rerank))
            if query_vector is None and mode == "bm25":
                query_vector = self.embedder.encode_query(question)
            q = np.asarray(query_vector if query_vector is not None else q, dtype=np.float32)
            vectors = self.sentences.get([self._position[h.chunk_id] for h in hits[:s.rerank]])
            hits = rerank(hits, question, self.reader, s.rerank, s.rerank_weight, sentence_vectors=vectors,
                          query_vector=q)[:k]
        else:
            hits = self.fuse(lexical, dense if mode != "bm25" else [], mode, fusion, k)
        return Retrieval(hits, lexical, dense, signal, correction=correction)

    @property
    def reader(self):
        """The reader that reranks (settings.reader), loaded on first use."""
        if self._reader is None:
            from ..reader import get_reader

            self._reader = get_reader(self.settings.reader) or False
        return self._reader or None

    def fuse(self, lexical, dense, mode: str, fusion: str, k: int) -> list[Hit]:
        b_rank = {i: r for r, (i, _) in enumerate(lexical, start=1)}
        b_score = dict(lexical)
        d_rank = {i: r for r, (i, _) in enumerate(dense, start=1)}
        d_score = dict(dense)
        s = self.settings
        if mode == "bm25":
            fused = b_score
        elif mode == "dense":
            fused = d_score
        else:
            fused = fuse(fusion, [b_score, d_score], s.dense_weight, s.rrf_k, s.weighting)
        hits = []
        for rank, i in enumerate(ranked(fused)[:k], start=1):
            hits.append(self.hit(i, rank, fused[i], b_rank.get(i), b_score.get(i), d_rank.get(i),
                                 d_score.get(i), fused[i] if mode == "hybrid" else None))
        return hits

    def hit(self, i: int, rank: int, score: float, br, bs, dr, ds, fs) -> Hit:
        c = self.index.chunks[i]
        d = self.index.documents[c.doc_id]
        meta = {k: v for k, v in d["metadata"].items() if k != "references"}
        return Hit(rank, float(score), c.chunk_id, c.doc_id, d["title"], c.section, c.text, d["source"],
                   c.start, c.end, meta, br, bs, dr, ds, fs, c.page_start, c.page_end)
