"""Many configurations over one test bed in one run: the grid, the indexes it needs (built
once per chunking and BM25 setting, embeddings cached by content), the runs, the metrics,
the paired significance test against the best configuration, and the abstention signal.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..answer.calibration import choose_threshold
from ..config import Settings
from ..embed.cache import CachedEmbedder
from ..index import Index, build_from_documents, settings_match
from ..ingest import load_corpus
from ..search import FUSIONS, MODES, QueryError, Retriever, check_retrieval_settings
from ..search.sentences import SentenceVectors
from ..types import Document
from .datasets import gold_set, load_beir, load_gold, whole_document_chunks
from .metrics import BEIR_METRICS, GOLD_METRICS, evaluate, mean_scores, ranks_to_run, recall_curve
from .stats import paired_t_test, randomisation_test

WHOLE = "whole"  # chunking value: one chunk per document (as the BEIR reference rows embed them)


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
        return f"{self.candidate} {WHOLE if self.whole else f'c{self.settings.chunk_size}o{self.settings.chunk_overlap}'}"

    @property
    def candidate(self) -> str:
        """The name without the chunking: the same retrieval recipe across test beds."""
        s, default = self.settings, Settings()
        parts = [self.mode]
        if self.mode == "hybrid":
            parts[0] += (f"-rrf{s.rrf_k}" if s.fusion == "rrf" else f"-{s.fusion}{s.dense_weight:g}")
            if s.weighting != "fixed" and s.fusion != "rrf":
                parts[0] += f"-{s.weighting}"
        if self.mode != "dense":
            bm25 = s.bm25_backend + ("" if s.bm25_analyzer == "english" else f":{s.bm25_analyzer}")
            if s.prf != "none":
                bm25 += f"+{s.prf}" + _params(s, default, ("prf_docs", "prf_terms", "prf_weight"))
            parts.append(bm25)
        if self.mode != "bm25":
            extra = ""
            if s.dense_prf != "none":
                extra += f"+{s.dense_prf}" + _params(s, default, ("rocchio_docs", "rocchio_beta"))
            if s.dense_sentences != "off":
                extra += f"+sent-{s.dense_sentences}"
            if extra:
                if self.mode == "dense":
                    parts[0] += extra
                else:
                    parts.append("dense" + extra)
        if s.rerank:
            parts.append(f"rerank{s.rerank}" + _params(s, default, ("rerank_weight",)) +
                         ("" if s.reader == default.reader else f"({s.reader})"))
        return " ".join(parts)

    def describe(self) -> dict:
        s = self.settings
        out = {"mode": self.mode, "chunking": WHOLE if self.whole else {"size": s.chunk_size,
                                                                          "overlap": s.chunk_overlap},
               "candidates": s.candidates}
        if self.mode != "dense":
            out["bm25"] = {"backend": s.bm25_backend, "analyzer": s.bm25_analyzer, "k1": s.bm25_k1, "b": s.bm25_b}
            out["prf"] = s.prf
            if s.prf != "none":
                out.update(prf_docs=s.prf_docs, prf_terms=s.prf_terms, prf_weight=s.prf_weight)
        if self.mode != "bm25":
            out["dense_prf"], out["dense_sentences"] = s.dense_prf, s.dense_sentences
            if s.dense_prf != "none":
                out.update(rocchio_docs=s.rocchio_docs, rocchio_beta=s.rocchio_beta)
        if s.rerank:
            out.update(rerank=s.rerank, rerank_weight=s.rerank_weight, reader=s.reader)
        if self.mode == "hybrid":
            out["fusion"] = s.fusion
            out["rrf_k" if s.fusion == "rrf" else "dense_weight"] = s.rrf_k if s.fusion == "rrf" else s.dense_weight
            if s.fusion != "rrf":
                out["weighting"] = s.weighting
        return out


def _params(s: Settings, default: Settings, names) -> str:
    """'(docs=10)' for the settings that differ from the defaults, else ''."""
    changed = [f"{n.split('_', 1)[1]}={getattr(s, n):g}" for n in names if getattr(s, n) != getattr(default, n)]
    return f"({','.join(changed)})" if changed else ""


def parse_bm25(spec: str) -> tuple[str, str | None]:
    """'rank-bm25:plain' -> ('rank-bm25', 'plain'); 'bm25s' -> ('bm25s', None)."""
    backend, _, analyzer = spec.strip().partition(":")
    return backend, analyzer or None


def configurations(base: Settings, modes=("bm25", "dense", "hybrid"), fusions=None, dense_weights=None,
                   rrf_ks=None, chunk_sizes=None, chunk_overlaps=None, bm25=None, weightings=None, prfs=None,
                   dense_prfs=None, sentences=None, reranks=None) -> list[Config]:
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
                      [(f, base.rrf_k, w) for f in fusions if f != "rrf" for w in dense_weights]
    out, seen = [], set()
    for chunking, size, overlap in chunkings:
        for mode in modes:
            for spec in (bm25[:1] if mode == "dense" else bm25):
                backend, analyzer = parse_bm25(spec)
                for fusion, rrf_k, weight in (fusion_variants if mode == "hybrid" else fusion_variants[:1]):
                    for options in _option_grid(base, weightings, prfs, dense_prfs, sentences, reranks):
                        settings = base.replace(mode=mode, chunk_size=size, chunk_overlap=overlap,
                                                bm25_backend=backend, bm25_analyzer=analyzer or "english",
                                                fusion=fusion, rrf_k=rrf_k, dense_weight=weight, **options)
                        _check(settings)
                        config = Config(mode, settings, chunking)
                        if config.name not in seen:
                            seen.add(config.name)
                            out.append(config)
    return out


def _option_grid(base: Settings, weightings, prfs, dense_prfs, sentences, reranks=None) -> list[dict]:
    return [dict(weighting=w, prf=p, dense_prf=d, dense_sentences=s, rerank=int(r))
            for w in weightings or [base.weighting] for p in prfs or [base.prf]
            for d in dense_prfs or [base.dense_prf] for s in sentences or [base.dense_sentences]
            for r in reranks or [base.rerank]]


def _check(settings: Settings) -> None:
    try:
        check_retrieval_settings(settings)
    except QueryError as exc:
        raise ValueError(str(exc)) from None


def _typed(path, where: str, row: dict, base: Settings) -> dict:
    """The row's settings with their types checked against Settings (ints allowed for floats)."""
    known = {f.name for f in fields(Settings)} - {"corpus_dir", "index_dir"}
    unknown = sorted(set(row) - known)
    if unknown:
        raise ValueError(f"{path}: {where} has unknown settings {', '.join(unknown)}")
    for key, value in row.items():
        expected = type(getattr(base, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            row[key] = float(value)
        elif not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ValueError(f"{path}: {where}: {key} must be {expected.__name__}")
    return row


def grid_file(path, base: Settings, chunking: str = "chunks") -> list[Config]:
    """Configurations from a JSON file: a list of objects of Settings fields, each one
    configuration ({"mode": "hybrid", "fusion": "zscore", "dense_weight": 0.5, ...}), plus
    "chunking": "whole" for one chunk per document; or {"defaults": {...}, "configurations":
    [...]}, the defaults applying to every configuration. Fields left out keep `base`'s values
    (and `chunking`'s), so a file that must not follow the product defaults names them."""
    default_chunking = chunking
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg})") from None
    if isinstance(rows, dict) and isinstance(rows.get("configurations"), list):
        defaults = rows.get("defaults", {})
        if not isinstance(defaults, dict):
            raise ValueError(f"{path}: \"defaults\" must be an object of settings")
        base = base.replace(**_typed(path, "defaults", dict(defaults), base))
        rows = rows["configurations"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{path}: expected a list of objects of settings (or {{\"defaults\", \"configurations\"}})")
    out, seen = [], set()
    for n, row in enumerate(rows, start=1):
        row = dict(row)
        chunking = row.pop("chunking", default_chunking)
        if chunking not in ("chunks", WHOLE):
            raise ValueError(f"{path}: configuration {n}: chunking is 'whole' or left out")
        settings = base.replace(**_typed(path, f"configuration {n}", row, base))
        if settings.mode not in MODES:
            raise ValueError(f"{path}: configuration {n}: unknown mode '{settings.mode}'")
        _check(settings)
        config = Config(settings.mode, settings, chunking)
        if config.name not in seen:
            seen.add(config.name)
            out.append(config)
    if not out:
        raise ValueError(f"{path}: no configurations")
    return out



class IndexCache:
    """Indexes of one document set, one per chunking and BM25 setting, built in memory."""

    def __init__(self, docs: list[Document], embedder, prebuilt: Index | None = None, log=None):
        self.docs, self.embedder, self.prebuilt = docs, CachedEmbedder(embedder), prebuilt
        self.log = log or (lambda _m: None)
        self.chunks: dict = {}
        self.indexes: dict = {}

    def get(self, config) -> Index:
        # Whether the index stores sentence vectors is part of the key: a configuration scoring
        # sentences reads them as a built index stores them (embedded in batches across chunks),
        # not as embedded on first use (one batch per passage), which an int8 model quantises
        # differently; so a row's figures do not depend on which rows ran before it.
        key = (config.chunk_key, config.bm25_key, config.settings.dense_sentences != "off")
        if key in self.indexes:
            return self.indexes[key]
        if self.prebuilt is not None and not config.whole:
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


_SENTENCES: dict = {}  # id(index) -> SentenceVectors, shared by the configurations of one run


def run_configuration(index: Index, config: Config, queries: dict, embedder=None) -> Result:
    """Search every query with one configuration, through the same Retriever the app uses.
    Sentence vectors (dense_sentences) are embedded before the clock starts, as if stored."""
    retriever = Retriever(index, embedder=embedder, settings=config.settings)
    if config.mode != "bm25" and config.settings.dense_sentences != "off":
        key = id(index)
        if key not in _SENTENCES or _SENTENCES[key][0] is not index:
            _SENTENCES[key] = (index, SentenceVectors(index.chunks, retriever.embedder,
                                                      (index.sentence_vectors, index.sentence_chunks)))
            _SENTENCES[key][1].warm()
        retriever._sentences = _SENTENCES[key][1]
    depth = max(100, config.settings.candidates)
    ranked, doc_ranked, latencies, signals = {}, {}, [], {}
    for qid, question in queries.items():
        charged = embedder if isinstance(embedder, CachedEmbedder) else None
        if charged:
            charged.charge = 0.0
        t = time.perf_counter()
        retrieval = retriever.retrieve(question, k=depth, mode=config.mode, candidates=depth)
        latencies.append(time.perf_counter() - t + (charged.charge if charged else 0.0))
        hits = retrieval.hits
        ranked[qid] = [(h.chunk_id, h.score) for h in hits]
        seen, docs = set(), []
        for h in hits:
            if h.doc_id not in seen:
                seen.add(h.doc_id)
                docs.append((h.doc_id, h.score))
        doc_ranked[qid] = docs
        signals[qid] = retrieval.max_dense if retrieval.dense else None
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
            entry = {"name": r.config.name, "candidate": r.config.candidate, "config": r.config.describe(),
                     **{m: round(r.metrics[m], 4) for m in self.metrics}}
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
        report = choose_threshold(r.signals, gold.answerable)
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
    from ..embed import get_embedder

    return get_embedder(configs[0].settings.model, configs[0].settings.embed_backend)
