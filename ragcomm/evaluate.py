"""Runs + qrels -> metrics, comparisons and reports, with trec_eval's definitions (pytrec_eval).

Runs and qrels have ranx's shapes, {query_id: {doc_id: score}}; metric names are
"ndcg@10", "recall@100", "mrr@10", "mrr", "map", "hit@5", "p@10".

    >>> qrels = {"q1": {"d1": 1}}
    >>> run = {"q1": {"d2": 0.9, "d1": 0.5}}
    >>> mean_scores(evaluate(run, qrels, ["mrr@10", "hit@1"]))
    {'mrr@10': 0.5, 'hit@1': 0.0}

Two test beds: the gold question set (eval/gold.jsonl: questions with an evidence quote,
relevant = the passages that contain it) and any BEIR-layout folder (corpus.jsonl,
queries.jsonl, qrels/test.tsv), each searched with several configurations in one run
(`evaluate_configurations`): metrics, per-query scores, latency, a paired significance
test against the best configuration, and the abstention signal on unanswerable questions.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .chunking import Chunk, count_tokens
from .config import Settings
from .index import Index, build_from_documents
from .ingest import Document
from .retrieve import FUSIONS, MODES, Retriever

GOLD_METRICS = ("ndcg@10", "recall@5", "recall@10", "recall@100", "mrr@10", "map", "hit@1", "hit@5")
BEIR_METRICS = ("ndcg@10", "recall@5", "recall@10", "recall@100", "mrr@10", "mrr", "map")
CURVE_KS = tuple(range(1, 101))
WHOLE = "whole"  # chunking value: one chunk per document (as the BEIR reference rows embed them)


# ---------------------------------------------------------------- metrics

def _trec_measure(name: str) -> tuple[str, str]:
    """('ndcg@10') -> (pytrec_eval measure, result key): ('ndcg_cut.10', 'ndcg_cut_10')."""
    base, _, cut = name.lower().partition("@")
    table = {"ndcg": "ndcg_cut", "recall": "recall", "hit": "success", "p": "P", "map": "map_cut"}
    if not cut:
        full = {"map": "map", "mrr": "recip_rank", "ndcg": "ndcg", "r-precision": "Rprec"}
        if base not in full:
            raise ValueError(f"unknown metric '{name}'")
        return full[base], full[base]
    if base == "mrr":  # reciprocal rank of the run cut at k: see evaluate()
        return "recip_rank", "recip_rank"
    if base not in table or not cut.isdigit() or int(cut) < 1:
        raise ValueError(f"unknown metric '{name}' (e.g. ndcg@10, recall@100, mrr@10, map, hit@5)")
    return f"{table[base]}.{int(cut)}", f"{table[base]}_{int(cut)}"


def check_metric(name: str) -> str:
    """The name if it is a metric this module computes; else ValueError."""
    _trec_measure(name)
    return name


def trec_order(scores: dict) -> list:
    """Items in trec_eval's order: score descending, ties by doc id descending."""
    return sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def truncate(run: dict, k: int) -> dict:
    return {q: dict(trec_order(docs)[:k]) for q, docs in run.items()}


def evaluate(run: dict, qrels: dict, metrics=GOLD_METRICS) -> dict:
    """Per-query scores {qid: {metric: value}} for every judged query (grade > 0 somewhere);
    a query the run does not answer scores 0. Ties are ordered as trec_eval orders them."""
    import pytrec_eval

    judged = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()
              if any(int(g) > 0 for g in docs.values())}
    run = {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if q in judged}
    out = {q: {} for q in judged}
    plain, cut_rr = [], []
    for m in metrics:
        (cut_rr if m.lower().startswith("mrr@") else plain).append(m)
    groups = [(plain, run)] + [([m], truncate(run, int(m.split("@")[1]))) for m in cut_rr]
    for names, this_run in groups:
        if not names:
            continue
        measures = {_trec_measure(m)[0] for m in names}
        results = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(this_run) if this_run else {}
        for q in judged:
            for m in names:
                out[q][m] = float(results.get(q, {}).get(_trec_measure(m)[1], 0.0))
    return out


def mean_scores(per_query: dict, metrics=None) -> dict:
    """Mean of each metric over queries."""
    if not per_query:
        return {m: 0.0 for m in metrics or ()}
    names = metrics or next(iter(per_query.values())).keys()
    return {m: float(np.mean([scores[m] for scores in per_query.values()])) for m in names}


def recall_curve(run: dict, qrels: dict, ks=CURVE_KS) -> list[float]:
    """Mean Recall@k for each k."""
    names = [f"recall@{k}" for k in ks]
    means = mean_scores(evaluate(run, qrels, names), names)
    return [means[n] for n in names]


def ranks_to_run(ranked: dict) -> dict:
    """{qid: [(doc_id, score), ...] best first} -> a run whose scores keep exactly that order
    (depth - rank), so that trec_eval sees the ranking the user sees, ties included."""
    return {q: {d: float(len(items) - r) for r, (d, _) in enumerate(items)} for q, items in ranked.items()}


# ---------------------------------------------------------------- TREC files

def write_trec_run(ranked: dict, path, tag: str) -> None:
    """One line per retrieved item: `qid Q0 docid rank score tag`, ranks from 1."""
    tag = re.sub(r"\s+", "_", tag)
    with open(path, "w", encoding="utf-8") as fh:
        for q, items in ranked.items():
            for rank, (doc, score) in enumerate(items, start=1):
                if re.search(r"\s", f"{q}{doc}"):
                    raise ValueError(f"TREC run ids cannot hold white space: {q!r} / {doc!r}")
                fh.write(f"{q} Q0 {doc} {rank} {score:.6f} {tag}\n")


def read_trec_run(path) -> dict:
    run: dict = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                q, _, doc, _rank, score, _tag = line.split()
                run.setdefault(q, {})[doc] = float(score)
    return run


def read_qrels_tsv(path) -> dict:
    """BEIR qrels: `query-id <TAB> corpus-id <TAB> score` with a header line."""
    qrels: dict = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or (n == 0 and not parts[2].lstrip("-").isdigit()):
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


# ---------------------------------------------------------------- significance

def randomisation_test(a, b, trials: int = 10_000, seed: int = 0) -> float:
    """Two-sided paired randomisation (sign-flip) test of mean(a) == mean(b): the p-value."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0 or not np.any(d):
        return 1.0
    observed = abs(d.mean())
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(trials, len(d)))
    permuted = np.abs((signs * d).mean(axis=1))
    return float((1 + np.sum(permuted >= observed - 1e-12)) / (trials + 1))


def paired_t_test(a, b) -> float:
    from scipy.stats import ttest_rel

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2 or not np.any(d):
        return 1.0
    p = float(ttest_rel(a, b).pvalue)
    return 1.0 if math.isnan(p) else p


# ---------------------------------------------------------------- gold set: evidence -> relevant passages

def load_gold(path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return rows


def normalised_with_offsets(text: str) -> tuple[str, list[int]]:
    """Lowercase letters and digits only, and the offset in `text` of each kept character:
    white space, line breaks, punctuation and hyphenation do not matter for matching."""
    chars, offsets = [], []
    for i, ch in enumerate(unicodedata.normalize("NFC", text)):
        for c in ch.lower():
            if c.isalnum():
                chars.append(c)
                offsets.append(i)
    return "".join(chars), offsets


def locate(text: str, evidence: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of every occurrence of `evidence` in `text`, compared
    on letters and digits only."""
    norm_text, offsets = normalised_with_offsets(text)
    norm_ev, _ = normalised_with_offsets(evidence)
    if not norm_ev:
        return []
    spans, at = [], norm_text.find(norm_ev)
    while at >= 0:
        spans.append((offsets[at], offsets[at + len(norm_ev) - 1] + 1))
        at = norm_text.find(norm_ev, at + len(norm_ev))
    return spans


def relevant_chunks(span: tuple[int, int], chunks: list[Chunk]) -> list[str]:
    """Chunks (of the evidence's document) that hold the evidence: those covering the span
    whole; when none does, those overlapping at least half of it (else the largest overlap)."""
    start, end = span
    whole = [c.chunk_id for c in chunks if c.start <= start and c.end >= end]
    if whole:
        return whole
    overlap = {c.chunk_id: min(end, c.end) - max(start, c.start) for c in chunks}
    half = [cid for cid, o in overlap.items() if o >= (end - start) / 2]
    if half:
        return half
    best = max(overlap.values(), default=0)
    return [cid for cid, o in overlap.items() if o == best and o > 0]


@dataclass
class GoldSet:
    questions: dict  # qid -> question text (answerable and unanswerable)
    answerable: set
    spans: dict  # qid -> (doc_id, [(start, end), ...]) in the cleaned text
    missing: list  # answerable qids whose evidence is not in the cleaned document

    def qrels(self, chunks: list[Chunk]) -> dict:
        """Passage qrels {qid: {chunk_id: 1}} for one chunking."""
        by_doc: dict = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        out = {}
        for q, (doc_id, spans) in self.spans.items():
            ids = {cid for span in spans for cid in relevant_chunks(span, by_doc.get(doc_id, []))}
            if ids:
                out[q] = {cid: 1 for cid in sorted(ids)}
        return out

    def doc_qrels(self) -> dict:
        return {q: {doc_id: 1} for q, (doc_id, _) in self.spans.items()}


def gold_set(rows: list[dict], docs: list[Document]) -> GoldSet:
    """Locate each answerable question's evidence in the cleaned text of its document."""
    by_id = {d.doc_id: d for d in docs}
    questions, answerable, spans, missing = {}, set(), {}, []
    for row in rows:
        questions[row["id"]] = row["question"]
        if not row.get("answerable"):
            continue
        answerable.add(row["id"])
        doc = by_id.get(row["doc_id"])
        found = locate(doc.text, row["evidence"]) if doc else []
        if found:
            spans[row["id"]] = (row["doc_id"], found)
        else:
            missing.append(row["id"])
    return GoldSet(questions, answerable, spans, missing)


# ---------------------------------------------------------------- BEIR folders

@dataclass
class Dataset:
    name: str
    docs: list  # [Document]
    queries: dict  # qid -> text (judged queries only)
    qrels: dict  # qid -> {doc_id: grade}


def load_beir(folder, split: str = "test") -> Dataset:
    folder = Path(folder)
    for part in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (folder / part).exists():
            raise FileNotFoundError(f"not a BEIR folder: {folder / part} is missing")
    docs = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                docs.append(Document(str(row["_id"]), row.get("title") or "", row.get("text") or "",
                                     f"{folder.name}/corpus.jsonl"))
    qrels = read_qrels_tsv(folder / "qrels" / f"{split}.tsv")
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = row["text"]
    qrels = {q: rels for q, rels in qrels.items() if q in queries}
    return Dataset(folder.name, docs, queries, qrels)


def whole_document_chunks(docs: list[Document]) -> list[Chunk]:
    """One chunk per document, the whole text (the model truncates what does not fit)."""
    return [Chunk(f"{d.doc_id}#0", d.doc_id, d.text, 0, len(d.text), "", count_tokens(d.text))
            for d in docs if d.text.strip()]


# ---------------------------------------------------------------- configurations

@dataclass
class Config:
    mode: str
    settings: Settings
    chunking: str | int = "chunks"  # WHOLE, or "chunks" (settings.chunk_size / chunk_overlap)

    @property
    def whole(self) -> bool:
        return self.chunking == WHOLE

    @property
    def chunk_key(self) -> tuple:
        return (WHOLE,) if self.whole else (self.settings.chunk_size, self.settings.chunk_overlap)

    @property
    def bm25_key(self) -> tuple:
        s = self.settings
        return (s.bm25_backend, s.bm25_analyzer, s.bm25_k1, s.bm25_b)

    @property
    def name(self) -> str:
        s = self.settings
        parts = [self.mode]
        if self.mode == "hybrid":
            parts[0] += (f"-rrf{s.rrf_k}" if s.fusion == "rrf" else f"-weighted{s.dense_weight:g}")
        if self.mode != "dense":
            parts.append(s.bm25_backend + ("" if s.bm25_analyzer == "english" else f":{s.bm25_analyzer}"))
        parts.append(WHOLE if self.whole else f"c{s.chunk_size}o{s.chunk_overlap}")
        return " ".join(parts)

    def describe(self) -> dict:
        s = self.settings
        out = {"mode": self.mode, "chunking": WHOLE if self.whole else {"size": s.chunk_size,
                                                                          "overlap": s.chunk_overlap},
               "candidates": s.candidates}
        if self.mode != "dense":
            out["bm25"] = {"backend": s.bm25_backend, "analyzer": s.bm25_analyzer, "k1": s.bm25_k1, "b": s.bm25_b}
        if self.mode == "hybrid":
            out["fusion"] = s.fusion
            out["rrf_k" if s.fusion == "rrf" else "dense_weight"] = s.rrf_k if s.fusion == "rrf" else s.dense_weight
        return out


def parse_bm25(spec: str) -> tuple[str, str | None]:
    """'rank-bm25:plain' -> ('rank-bm25', 'plain'); 'bm25s' -> ('bm25s', None)."""
    backend, _, analyzer = spec.strip().partition(":")
    return backend, analyzer or None


def configurations(base: Settings, modes=("bm25", "dense", "hybrid"), fusions=None, dense_weights=None,
                   rrf_ks=None, chunk_sizes=None, chunk_overlaps=None, bm25=None) -> list[Config]:
    """The grid of configurations to compare, without duplicates (a dense run does not depend on
    the BM25 settings, a single retriever not on fusion)."""
    for m in modes:
        if m not in MODES:
            raise ValueError(f"unknown mode '{m}' (choose from {', '.join(MODES)})")
    fusions = fusions or [base.fusion]
    for f in fusions:
        if f not in FUSIONS:
            raise ValueError(f"unknown fusion '{f}' (choose from {', '.join(FUSIONS)})")
    dense_weights = dense_weights or [base.dense_weight]
    rrf_ks = rrf_ks or [base.rrf_k]
    chunk_sizes = chunk_sizes or [base.chunk_size]
    chunk_overlaps = chunk_overlaps or [base.chunk_overlap]
    bm25 = bm25 or [base.bm25_backend]
    chunkings = []
    for size in chunk_sizes:
        if str(size) == WHOLE:
            chunkings.append((WHOLE, base.chunk_size, base.chunk_overlap))
        else:
            chunkings.extend(("chunks", int(size), int(o)) for o in chunk_overlaps if int(o) < int(size))
    if not chunkings:
        raise ValueError("no valid chunking: the overlap must be smaller than the chunk size")
    fusion_variants = [("rrf", k, base.dense_weight) for k in rrf_ks if "rrf" in fusions] + \
                      [("weighted", base.rrf_k, w) for w in dense_weights if "weighted" in fusions]
    out, seen = [], set()
    for chunking, size, overlap in chunkings:
        for mode in modes:
            for spec in (bm25[:1] if mode == "dense" else bm25):
                backend, analyzer = parse_bm25(spec)
                for fusion, rrf_k, weight in (fusion_variants if mode == "hybrid" else fusion_variants[:1]):
                    settings = base.replace(mode=mode, chunk_size=size, chunk_overlap=overlap, bm25_backend=backend,
                                            bm25_analyzer=analyzer or "english", fusion=fusion, rrf_k=rrf_k,
                                            dense_weight=weight)
                    config = Config(mode, settings, chunking)
                    if config.name not in seen:
                        seen.add(config.name)
                        out.append(config)
    return out


class CachedEmbedder:
    """Wraps an embedder; texts already embedded in this run are not embedded again (by
    content hash). A query is encoded once per run and its encoding time remembered:
    `charge` holds the time of the last query encoding served from the cache, which the
    caller adds to that query's latency, so every configuration pays for its encoding."""

    def __init__(self, inner):
        self.inner, self.cache = inner, {}
        self.queries: dict = {}  # text -> (vector, seconds)
        self.charge = 0.0
        self.model_id, self.dim, self.max_seq_length = inner.model_id, inner.dim, inner.max_seq_length
        self.backend = getattr(inner, "backend", "torch")

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def fits(self, text):
        return self.inner.fits(text)

    def encode(self, texts, batch_size: int = 32, progress: bool = False):
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        todo = {}
        for key, text in zip(keys, texts):
            if key not in self.cache:
                todo.setdefault(key, text)
        if todo:
            vectors = self.inner.encode(list(todo.values()), batch_size=batch_size, progress=progress)
            self.cache.update(zip(todo.keys(), vectors))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.cache[k] for k in keys]).astype(np.float32)

    def encode_query(self, text):
        if text in self.queries:
            vector, seconds = self.queries[text]
            self.charge = seconds
            return vector
        t = time.perf_counter()
        vector = self.inner.encode_query(text)
        self.queries[text] = (vector, time.perf_counter() - t)
        self.charge = 0.0
        return vector


class IndexCache:
    """Indexes of one document set, one per chunking and BM25 setting, built in memory."""

    def __init__(self, docs: list[Document], embedder, prebuilt: Index | None = None, log=None):
        self.docs, self.embedder, self.prebuilt = docs, CachedEmbedder(embedder), prebuilt
        self.log = log or (lambda _m: None)
        self.chunks: dict = {}
        self.indexes: dict = {}

    def get(self, config: Config) -> Index:
        key = (config.chunk_key, config.bm25_key)
        if key in self.indexes:
            return self.indexes[key]
        if self.prebuilt is not None and not config.whole:
            from .index import settings_match

            if not settings_match(self.prebuilt.manifest, config.settings):
                self.indexes[key] = self.prebuilt
                self.chunks.setdefault(config.chunk_key, self.prebuilt.chunks)
                return self.prebuilt
        chunks = self.chunks.get(config.chunk_key)
        if chunks is None and config.whole:
            chunks = whole_document_chunks(self.docs)
        self.log(f"indexing {len(self.docs)} documents ({'whole' if config.whole else 'chunks %d/%d' % config.chunk_key}, "
                 f"BM25 {config.settings.bm25_backend}:{config.settings.bm25_analyzer}) ...")
        index = build_from_documents(self.docs, config.settings, embedder=self.embedder, log=lambda _m: None,
                                     chunks=chunks)
        self.chunks[config.chunk_key] = index.chunks
        self.indexes[key] = index
        return index


# ---------------------------------------------------------------- running configurations

@dataclass
class Result:
    config: Config
    ranked: dict  # qid -> [(chunk_id, score)] best first
    doc_ranked: dict  # qid -> [(doc_id, score)] best first (a document scores as its best chunk)
    latencies: list  # seconds per query
    signals: dict  # qid -> highest dense cosine among the candidates (None without dense)
    per_query: dict = field(default_factory=dict)  # qid -> {metric: value}, at the evaluated level
    metrics: dict = field(default_factory=dict)
    doc_metrics: dict = field(default_factory=dict)
    curve: list = field(default_factory=list)
    significance: dict = field(default_factory=dict)

    @property
    def latency_ms(self) -> dict:
        ms = np.asarray(self.latencies) * 1000
        if not len(ms):
            return {"p50": 0.0, "p95": 0.0}
        return {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2)}


def run_configuration(index: Index, config: Config, queries: dict, embedder=None) -> Result:
    """Search every query with one configuration, through the same Retriever the app uses."""
    retriever = Retriever(index, embedder=embedder, settings=config.settings)
    depth = max(100, config.settings.candidates)
    ranked, doc_ranked, latencies, signals = {}, {}, [], {}
    for qid, question in queries.items():
        charged = embedder if isinstance(embedder, CachedEmbedder) else None
        if charged:
            charged.charge = 0.0
        t = time.perf_counter()
        hits = retriever.search(question, k=depth, mode=config.mode, candidates=depth)
        latencies.append(time.perf_counter() - t + (charged.charge if charged else 0.0))
        ranked[qid] = [(h.chunk_id, h.score) for h in hits]
        seen, docs = set(), []
        for h in hits:
            if h.doc_id not in seen:
                seen.add(h.doc_id)
                docs.append((h.doc_id, h.score))
        doc_ranked[qid] = docs
        dense = [h.dense_score for h in hits if h.dense_score is not None]
        signals[qid] = max(dense) if dense else None
    return Result(config, ranked, doc_ranked, latencies, signals)


def warm_up(embedder, queries: dict) -> None:
    """Encode every query once before timing: torch's first pass over a new input shape is
    slow, which would otherwise be charged to whichever configuration runs first."""
    inner = getattr(embedder, "inner", embedder)
    for question in queries.values():
        inner.encode_query(question)
        embedder.encode_query(question)  # a CachedEmbedder keeps this (warm) timing


def _score(result: Result, qrels: dict, doc_qrels: dict | None, metrics, doc_level: bool) -> None:
    ranked = result.doc_ranked if doc_level else result.ranked
    run = ranks_to_run(ranked)
    result.per_query = evaluate(run, qrels, metrics)
    result.metrics = mean_scores(result.per_query, metrics)
    result.curve = recall_curve(run, qrels)
    if doc_qrels is not None:
        result.doc_metrics = mean_scores(evaluate(ranks_to_run(result.doc_ranked), doc_qrels, metrics), metrics)


def compare_to_best(results: list[Result], metric: str, trials: int = 10_000) -> Result:
    """Mark the best configuration by `metric` and test each other one against it (paired)."""
    best = max(results, key=lambda r: (r.metrics[metric], -results.index(r)))
    qids = sorted(best.per_query)
    b = [best.per_query[q][metric] for q in qids]
    for r in results:
        a = [r.per_query[q][metric] for q in qids]
        r.significance = {"against": best.config.name, "metric": metric,
                          "difference": round(float(np.mean(a) - np.mean(b)), 6) if qids else 0.0,
                          "p_randomisation": randomisation_test(a, b, trials) if r is not best else 1.0,
                          "p_t_test": paired_t_test(a, b) if r is not best else 1.0}
    return best


# ---------------------------------------------------------------- abstention

def auroc(positives, negatives) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    p = np.asarray(positives, dtype=float)[:, None]
    n = np.asarray(negatives, dtype=float)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def abstention(signals: dict, answerable: set) -> dict | None:
    """How well a threshold on the signal separates answerable from unanswerable questions,
    and the threshold that maximises balanced accuracy (answered answerable + abstained
    unanswerable, each as a rate), halfway between two observed values."""
    pos = [s for q, s in signals.items() if q in answerable and s is not None]
    neg = [s for q, s in signals.items() if q not in answerable and s is not None]
    if not pos or not neg:
        return None
    values = sorted(set(pos) | set(neg))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    best = None
    for t in cuts:
        kept = np.mean([s >= t for s in pos])
        abstained = np.mean([s < t for s in neg])
        score = (kept + abstained) / 2
        if best is None or score > best[0] + 1e-12:
            best = (score, t, kept, abstained)
    score, t, kept, abstained = best
    return {"signal": "max_dense_score", "auroc": round(auroc(pos, neg), 4), "threshold": round(float(t), 4),
            "answerable_answered": round(float(kept), 4), "unanswerable_abstained": round(float(abstained), 4),
            "balanced_accuracy": round(float(score), 4), "answerable": len(pos), "unanswerable": len(neg),
            "answerable_mean": round(float(np.mean(pos)), 4), "unanswerable_mean": round(float(np.mean(neg)), 4)}


def calibration_choice(evaluation: "Evaluation") -> tuple[Config, dict]:
    """The configuration whose threshold is stored: the product default when it was run
    (the answer step searches with it), else the best configuration that has dense scores."""
    default = Config(Settings().mode, Settings())
    by_name = {r.config.name: r for r in evaluation.results}
    if default.name in evaluation.abstention:
        return by_name[default.name].config, evaluation.abstention[default.name]
    ranked = sorted((r for r in evaluation.results if r.config.name in evaluation.abstention),
                    key=lambda r: -r.metrics[evaluation.primary])
    if not ranked:
        raise ValueError("no configuration with dense scores to calibrate on (add dense or hybrid to --modes)")
    return ranked[0].config, evaluation.abstention[ranked[0].config.name]


def write_calibration(path, report: dict, config: Config, measured_on: str) -> dict:
    data = {"signal": "max_dense_score", "threshold": report["threshold"], "measured_on": measured_on,
            "configuration": config.name, "model": config.settings.model,
            "description": "highest dense (cosine) score among the retrieved candidates; "
                           "below the threshold the question is treated as not answerable from the corpus",
            **{k: report[k] for k in ("auroc", "answerable_answered", "unanswerable_abstained",
                                      "balanced_accuracy", "answerable", "unanswerable")},
            "created": datetime.now(timezone.utc).date().isoformat()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
    return data


# ---------------------------------------------------------------- one evaluation run

@dataclass
class Evaluation:
    name: str  # the gold file or the dataset folder
    kind: str  # "gold" | "beir"
    metrics: tuple
    primary: str
    results: list  # [Result]
    best: Result
    queries: int
    notes: list = field(default_factory=list)
    abstention: dict = field(default_factory=dict)  # config name -> report

    def to_json(self, per_query: bool = True) -> dict:
        entries = []
        for r in self.results:
            entry = {"name": r.config.name, "config": r.config.describe(), **{m: round(r.metrics[m], 4)
                                                                                for m in self.metrics}}
            if r.doc_metrics:
                entry["doc_level"] = {m: round(v, 4) for m, v in r.doc_metrics.items()}
            entry["latency_ms"] = r.latency_ms
            entry["significance"] = r.significance
            if r.config.name in self.abstention:
                entry["abstention"] = self.abstention[r.config.name]
            entry["recall_curve"] = [round(v, 4) for v in r.curve]
            if per_query:
                entry["per_query"] = {q: {m: round(v, 4) for m, v in s.items()} for q, s in r.per_query.items()}
            entries.append(entry)
        return {"dataset": self.name, "kind": self.kind, "queries": self.queries, "metrics": list(self.metrics),
                "primary": self.primary, "best": self.best.config.name, "notes": self.notes,
                "configurations": entries}


def evaluate_gold(gold_path, configs: list[Config], corpus_dir, prebuilt: Index | None = None, embedder=None,
                  metrics=GOLD_METRICS, primary: str = "ndcg@10", log=None) -> Evaluation:
    """Every configuration on the gold set: passage-level metrics (the passage holds the
    evidence), document-level ones beside them, and the abstention signal."""
    from .ingest import load_corpus

    log = log or (lambda _m: None)
    rows = load_gold(gold_path)
    docs, _problems = load_corpus(corpus_dir)
    gold = gold_set(rows, docs)
    notes = []
    if gold.missing:
        notes.append(f"evidence not found in the cleaned text for {', '.join(gold.missing)} (scored 0)")
    embedder = embedder or _embedder(configs)
    cache = IndexCache(docs, embedder, prebuilt, log)
    if any(c.mode != "bm25" for c in configs):
        warm_up(cache.embedder, gold.questions)
    results = []
    for config in configs:
        index = cache.get(config)
        log(f"searching {len(gold.questions)} questions: {config.name}")
        result = run_configuration(index, config, gold.questions, cache.embedder)
        qrels = gold.qrels(index.chunks)
        for q in gold.missing:  # unfindable evidence: judged, never found
            qrels[q] = {"<evidence not found>": 1}
        _score(result, qrels, gold.doc_qrels(), metrics, doc_level=False)
        results.append(result)
    best = compare_to_best(results, primary)
    evaluation = Evaluation(str(gold_path), "gold", tuple(metrics), primary, results, best,
                            len(gold.answerable), notes)
    for r in results:
        report = abstention(r.signals, gold.answerable)
        if report:
            evaluation.abstention[r.config.name] = report
    return evaluation


def evaluate_beir(folder, configs: list[Config], embedder=None, metrics=BEIR_METRICS, primary: str = "ndcg@10",
                  log=None) -> Evaluation:
    """Every configuration on a BEIR folder, scored per document (its best chunk's score)."""
    log = log or (lambda _m: None)
    data = load_beir(folder)
    embedder = embedder or _embedder(configs)
    cache = IndexCache(data.docs, embedder, None, log)
    if any(c.mode != "bm25" for c in configs):
        warm_up(cache.embedder, data.queries)
    results = []
    for config in configs:
        index = cache.get(config)
        log(f"searching {len(data.queries)} queries: {config.name}")
        result = run_configuration(index, config, data.queries, cache.embedder)
        _score(result, data.qrels, None, metrics, doc_level=True)
        results.append(result)
    best = compare_to_best(results, primary)
    return Evaluation(str(folder), "beir", tuple(metrics), primary, results, best, len(data.queries))


def _embedder(configs):
    from .embed import get_embedder

    return get_embedder(configs[0].settings.model, configs[0].settings.embed_backend)


# ---------------------------------------------------------------- reports

def table(evaluation: Evaluation) -> str:
    """A plain-text table, one row per configuration."""
    head = ["configuration", *evaluation.metrics, "p50 ms", "p95 ms", "p vs best"]
    rows = []
    for r in evaluation.results:
        mark = "*" if r is evaluation.best else ""
        p = "best" if r is evaluation.best else f"{r.significance['p_randomisation']:.3f}"
        rows.append([r.config.name + mark, *(f"{r.metrics[m]:.4f}" for m in evaluation.metrics),
                     f"{r.latency_ms['p50']:.1f}", f"{r.latency_ms['p95']:.1f}", p])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
             for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out = "\n".join(lines)
    out += (f"\n\n{evaluation.queries} queries, {evaluation.name}. * best by {evaluation.primary}; p: paired "
            f"randomisation test of {evaluation.primary} against it (10,000 trials).")
    if evaluation.abstention:
        out += "\n\nAbstention (answerable vs unanswerable, signal: highest dense cosine among candidates):"
        for name, a in evaluation.abstention.items():
            out += (f"\n  {name}: AUROC {a['auroc']:.3f}; threshold {a['threshold']:.3f} answers "
                    f"{a['answerable_answered']:.0%} of answerable, abstains on {a['unanswerable_abstained']:.0%} "
                    f"of unanswerable")
    for note in evaluation.notes:
        out += f"\nnote: {note}"
    return out


def markdown(evaluation: Evaluation) -> str:
    head = ["configuration", *evaluation.metrics, "p50 ms", "p95 ms", "p vs best"]
    lines = [f"## {evaluation.name}", "", f"{evaluation.queries} queries; best by {evaluation.primary}: "
             f"**{evaluation.best.config.name}**; p = paired randomisation test against it.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in evaluation.results:
        name = f"**{r.config.name}**" if r is evaluation.best else r.config.name
        p = "—" if r is evaluation.best else f"{r.significance['p_randomisation']:.3f}"
        lines.append("| " + " | ".join([name, *(f"{r.metrics[m]:.4f}" for m in evaluation.metrics),
                                        f"{r.latency_ms['p50']:.1f}", f"{r.latency_ms['p95']:.1f}", p]) + " |")
    if any(r.doc_metrics for r in evaluation.results):
        lines += ["", "Document level (a document counts when its document is retrieved):", "",
                  "| configuration | " + " | ".join(evaluation.metrics) + " |", "|" + "---|" * (1 + len(evaluation.metrics))]
        for r in evaluation.results:
            lines.append("| " + " | ".join([r.config.name, *(f"{r.doc_metrics[m]:.4f}" for m in evaluation.metrics)]) + " |")
    if evaluation.abstention:
        lines += ["", "Abstention (signal: highest dense cosine among the candidates):", "",
                  "| configuration | AUROC | threshold | answerable answered | unanswerable abstained |", "|---|---|---|---|---|"]
        for name, a in evaluation.abstention.items():
            lines.append(f"| {name} | {a['auroc']:.3f} | {a['threshold']:.3f} | {a['answerable_answered']:.2f} | "
                         f"{a['unanswerable_abstained']:.2f} |")
    lines += [f"- {note}" for note in evaluation.notes]
    return "\n".join(lines) + "\n"


def plot_recall(evaluations: list[Evaluation], path) -> None:
    """Recall@k for k = 1..100, one line per configuration (one panel per evaluation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(evaluations), figsize=(7 * len(evaluations), 5), squeeze=False)
    for ax, evaluation in zip(axes[0], evaluations):
        for r in evaluation.results:
            ax.plot(CURVE_KS, r.curve, label=r.config.name)
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_ylabel("Recall@k")
        ax.set_title(Path(evaluation.name).name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_runs(evaluation: Evaluation, folder) -> list[Path]:
    """TREC run files, one per configuration (documents for BEIR, passages for the gold set)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = Path(evaluation.name).stem if evaluation.kind == "gold" else Path(evaluation.name).name
    paths = []
    for r in evaluation.results:
        tag = re.sub(r"[^\w.@+-]+", "_", r.config.name)
        path = folder / f"{prefix}.{tag}.run"
        write_trec_run(r.doc_ranked if evaluation.kind == "beir" else r.ranked, path, tag)
        paths.append(path)
    return paths


def log_stderr(message: str) -> None:
    print(message, file=sys.stderr)
