"""Performance harness: build throughput and per-stage query latency on the seed corpus,
and on synthetic corpora of 10k to 1M chunks made from real text.

    ragcomm bench                                   # seed corpus + 10k and 100k chunks
    ragcomm bench --sizes 10000,100000,1000000 --markdown docs/perf.md --plot docs/perf.png

Every latency is the median (and p95/p99) of repeated runs after a warm-up. Synthetic
corpora: chunk texts are 5 sentences drawn at random from the corpus and the shared
benchmark collections; their vectors are embeddings of real chunks, each reused with small
Gaussian noise and renormalised (so a 1M build needs no hours of embedding). The queries
are the gold-set questions, embedded with the real model.
"""
from __future__ import annotations

import gc
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from ..backends import build_lexical, build_vector
from ..chunking import sentence_spans
from ..config import Settings, home
from ..extras import require
NOISE = 0.01  # per dimension, before renormalising
POOL = 2000  # real chunks embedded for the synthetic vectors


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "n": len(ms)}


def timed(fn, inputs, repeat: int = 3, warmup: int = 2) -> dict:
    """Latency of fn(x) over the inputs, each run `repeat` times after `warmup` runs."""
    for x in inputs[:warmup]:
        fn(x)
    out = []
    for _ in range(repeat):
        for x in inputs:
            t = time.perf_counter()
            fn(x)
            out.append(time.perf_counter() - t)
    return percentiles(out)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    psutil = require("psutil", "bench")
    return psutil.Process().memory_info().rss / 2**20


def gold_questions(limit: int | None = None) -> list[str]:
    path = home() / "eval" / "gold.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    questions = [r["question"] for r in rows]
    return questions[:limit] if limit else questions


def machine() -> dict:
    import faiss
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    psutil = require("psutil", "bench")
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "torch": torch.__version__, "faiss": faiss.__version__,
            "torch_threads": torch.get_num_threads()}


# ---------------------------------------------------------------- seed corpus

def bench_seed(settings: Settings, repeat: int = 5, app: bool = True, log=print) -> dict:
    from ..embed import get_embedder
    from ..index import build_index, load_index
    from ..search import Retriever

    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.replace(index_dir=Path(tmp) / "index")
        embedder = get_embedder(s.model, s.embed_backend)
        log("seed corpus: building the index ...")
        index = build_index(s, embedder=embedder, log=lambda *_: None, progress=False)
        m = index.manifest
        n = m["counts"]["chunks"]
        tm = m["timings"]
        result["build"] = {"chunks": n, "documents": m["counts"]["documents"], "seconds": m["build_seconds"],
                           **{f"{k}_s": v for k, v in tm.items()},
                           "chunks_per_s": n / max(m["build_seconds"], 1e-9),
                           "embedding_chunks_per_s": n / max(tm["embedding"], 1e-9)}
        index = load_index(s.index_dir)
        retriever = Retriever(index, embedder=embedder, settings=s)
        if s.dense_sentences != "off":  # sentence vectors ready, as the app has them
            retriever.sentences.warm()
        questions = gold_questions()
        vectors = {q: embedder.encode_query(q) for q in questions}
        cand = s.candidates
        stages = {
            "query embedding": timed(embedder.encode_query, questions, repeat),
            "bm25": timed(lambda q: retriever.bm25(q, cand), questions, repeat),
            "dense (search only)": timed(lambda q: retriever.dense(q, cand, query_vector=vectors[q]), questions, repeat),
        }
        pairs = {q: (retriever.bm25(q, cand), retriever.dense(q, cand, query_vector=vectors[q])) for q in questions}
        stages["fusion"] = timed(lambda q: retriever.fuse(*pairs[q], "hybrid", s.fusion, 10), questions, repeat)
        for mode in ("bm25", "dense", "hybrid"):
            stages[f"search {mode} (whole)"] = timed(lambda q: retriever.search(q, k=10, mode=mode), questions, repeat)
        ask, result["answer_warm_s"] = _answer_fn(retriever)
        stages["ask (whole, extractive)"] = timed(ask, questions, repeat)
        result["latency_ms"] = stages
        result["hybrid_over_embedding"] = stages["search hybrid (whole)"]["p50"] / stages["query embedding"]["p50"]
        result["search"] = ", ".join(f"{k} {v}" for k, v in s.retrieval().items() if k != "mode")
        result["peak_rss_mb"] = peak_rss_mb()
        if app:
            log("seed corpus: timing app start-up ...")
            result["app_ready_s"] = app_startup(s)
    return result


def _answer_fn(retriever):
    """The whole extractive ask, warmed as the app warms it (the sentences of every passage),
    and the seconds that warm-up took."""
    from ..answer import Answerer

    answerer = Answerer(retriever)
    t = time.perf_counter()
    answerer.warm()
    return answerer.ask, time.perf_counter() - t


def app_startup(settings: Settings, timeout: float = 120) -> float | None:
    """Seconds from launching the app (index already built) until it answers HTTP."""
    from .launch import launch_app, stop_app

    t = time.perf_counter()
    try:
        proc, _ = launch_app(settings.index_dir, settings.corpus_dir, timeout=timeout)
    except RuntimeError:
        return None
    elapsed = time.perf_counter() - t
    stop_app(proc)
    return elapsed


# ---------------------------------------------------------------- synthetic scale

def sentence_pool(settings: Settings, texts: list[Path] = ()) -> list[str]:
    """Real sentences for synthetic chunks: the corpus's, and those of any BEIR folders given
    (docs/PERFORMANCE.md used ../shared/benchmarks/{adi,cisi,cran})."""
    from ..ingest import load_corpus

    docs, _ = load_corpus(settings.corpus_dir)
    pool = [d.text[a:b] for d in docs for a, b in sentence_spans(d.text)]
    for folder in texts:
        path = Path(folder) / "corpus.jsonl"
        if not path.exists():
            raise FileNotFoundError(f"not a BEIR folder: {path} is missing")
        for line in path.read_text().splitlines():
            text = json.loads(line).get("text", "")
            pool.extend(text[a:b] for a, b in sentence_spans(text))
    return [p for p in pool if 20 <= len(p) <= 400]


def synthetic_texts(pool: list[str], n: int, seed: int = 0, per_chunk: int = 5) -> list[str]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(pool), size=(n, per_chunk))
    return [" ".join(pool[i] for i in row) for row in picks]


def synthetic_vectors(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Points between real embeddings: w * a + (1 - w) * b + noise for random real a, b and
    w in [0.5, 1], renormalised. A continuum like real chunk embeddings, not tight clusters of
    copies (whose exact top 10 would be decided by the noise alone)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for a in range(0, n, step):
        b = min(n, a + step)
        i = rng.integers(0, len(base), b - a)
        j = rng.integers(0, len(base), b - a)
        w = rng.uniform(0.5, 1.0, (b - a, 1)).astype(np.float32)
        block = w * base[i] + (1 - w) * base[j]
        block += rng.normal(scale=NOISE, size=block.shape).astype(np.float32)
        out[a:b] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def bench_scale(settings: Settings, sizes: list[int], repeat: int = 3, rank_bm25_max: int = 100_000,
                log=print, texts: list[Path] = ()) -> list[dict]:
    import faiss

    from ..embed import get_embedder
    from ..search import fuse, ranked

    embedder = get_embedder(settings.model, settings.embed_backend)
    pool = sentence_pool(settings, texts)
    log(f"scale: {len(pool)} real sentences; embedding {POOL} real chunks for the vectors ...")
    base = embedder.encode(synthetic_texts(pool, POOL, seed=99), batch_size=64)
    questions = gold_questions()
    qvecs = embedder.encode(questions)
    cand = settings.candidates
    rows = []
    for n in sizes:
        gc.collect()
        log(f"scale: {n:,} chunks ...")
        row: dict = {"chunks": n}
        rss0 = rss_mb()
        texts = synthetic_texts(pool, n)
        vectors = synthetic_vectors(base, n)
        if n <= rank_bm25_max:
            t = time.perf_counter()
            slow = build_lexical(texts, backend="rank-bm25", k1=settings.bm25_k1, b=settings.bm25_b)
            build_s = time.perf_counter() - t
            row["rank-bm25"] = {"build_s": build_s, "query_ms": timed(lambda q: slow.top(q, cand), questions[:20], 1, 1)}
            del slow
            gc.collect()
        else:
            row["rank-bm25"] = None  # pure Python: minutes to build and seconds a query at this size
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            lex = build_lexical(texts, backend="bm25s", k1=settings.bm25_k1, b=settings.bm25_b)
            row["bm25s"] = {"build_s": time.perf_counter() - t,
                            "query_ms": timed(lambda q: lex.top(q, cand), questions, repeat)}
            lex.save(Path(tmp) / "bm25")
            row["bm25s"]["disk_mb"] = folder_mb(Path(tmp) / "bm25")
            row["bm25s"]["memory_mb"] = sum(a.nbytes for a in lex.model.scores.values()
                                            if isinstance(a, np.ndarray)) / 2**20
            t = time.perf_counter()
            dense = build_vector(vectors, settings.vector_backend, ann_threshold=settings.ann_threshold,
                                 hnsw_m=settings.hnsw_m, ef_search=settings.hnsw_ef_search,
                                 ann_kind=settings.ann_kind, nprobe=settings.ivf_nprobe)
            row["dense_kind"] = dense.kind
            row["dense_build_s"] = time.perf_counter() - t
            idx = list(range(len(qvecs)))
            row["dense_query_ms"] = timed(lambda i: dense.search(qvecs[i], cand), idx, repeat)
            exact = exact_top(vectors, qvecs, 10)
            row["dense_recall@10"] = float(np.mean([len(set(dense.search(q, 10)[0]) & e) / 10
                                                    for q, e in zip(qvecs, exact)]))

            def hybrid(i):  # the configured fusion (search/fusion.py), without feedback
                b_ids, b_scores = lex.top(questions[i], cand)
                d_ids, d_scores = dense.search(qvecs[i], cand)
                fused = fuse(settings.fusion, [dict(zip(b_ids.tolist(), b_scores.tolist())),
                                               dict(zip(d_ids.tolist(), d_scores.tolist()))],
                             settings.dense_weight, settings.rrf_k, settings.weighting)
                return ranked(fused)[:10]

            row["hybrid_query_ms"] = timed(hybrid, idx, repeat)
            dense.save(Path(tmp))
            np.save(Path(tmp) / "vectors.npy", vectors)
            row["dense_disk_mb"] = (Path(tmp) / "dense.faiss").stat().st_size / 2**20
            row["vectors_disk_mb"] = (Path(tmp) / "vectors.npy").stat().st_size / 2**20
            row["dense_memory_mb"] = len(faiss.serialize_index(dense.index)) / 2**20
            row["index_memory_mb"] = row["dense_memory_mb"] + row["bm25s"]["memory_mb"]
            row["rss_growth_mb"] = rss_mb() - rss0
            lex = dense = None  # free them before the next size
        rows.append(row)
        del texts, vectors
        gc.collect()
    return rows


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[set]:
    """Exact top-k ids by inner product, in blocks (the ground truth for ANN recall)."""
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    step = 200_000
    for a in range(0, len(vectors), step):
        block = queries @ vectors[a:a + step].T
        kk = min(k, block.shape[1])
        idx = np.argpartition(-block, kk - 1, axis=1)[:, :kk]
        best_ids = np.hstack([best_ids, idx + a])
        best_scores = np.hstack([best_scores, np.take_along_axis(block, idx, 1)])
        order = np.argsort(-best_scores, axis=1)[:, :k]
        best_ids = np.take_along_axis(best_ids, order, 1)
        best_scores = np.take_along_axis(best_scores, order, 1)
    return [set(row.tolist()) for row in best_ids]


# ---------------------------------------------------------------- report

def run(settings: Settings, sizes: list[int], repeat: int = 5, seed: bool = True, app: bool = True,
        log=print, texts: list[Path] = ()) -> dict:
    report = {"machine": machine(), "settings": {"model": settings.model, "chunk_size": settings.chunk_size,
                                                 "candidates": settings.candidates,
                                                 "ann_threshold": settings.ann_threshold,
                                                 "ann_kind": settings.ann_kind, "nprobe": settings.ivf_nprobe,
                                                 "embed_backend": settings.embed_backend},
              "synthetic_vectors": f"points between embeddings of {POOL} real chunks (w*a + (1-w)*b for random "
                                   f"a, b and w in [0.5, 1], plus N(0, {NOISE}) noise per dimension, "
                                   "renormalised); texts are 5 random real sentences"}
    if seed:
        report["seed"] = bench_seed(settings, repeat=repeat, app=app, log=log)
    if sizes:
        report["scale"] = bench_scale(settings, sizes, repeat=max(1, repeat // 2), log=log, texts=texts)
    return report


def markdown(report: dict) -> str:
    out = ["# Performance", "", f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
           f"{report['machine']['memory_gb']} GB; Python {report['machine']['python']}, torch "
           f"{report['machine']['torch']} ({report['machine']['torch_threads']} threads), faiss {report['machine']['faiss']}.", ""]
    seed = report.get("seed")
    if seed:
        b = seed["build"]
        out += ["## Seed corpus", "",
                f"Build: {b['documents']} documents, {b['chunks']} chunks in {b['seconds']:.1f} s "
                f"({b['chunks_per_s']:.1f} chunks/s overall; ingest {b['ingest_s']:.2f} s, chunking "
                f"{b['chunking_s']:.2f} s, embedding {b['embedding_s']:.2f} s = {b['embedding_chunks_per_s']:.1f} "
                f"chunks/s, indexing {b['indexing_s']:.2f} s).", "",
                "| stage | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|"]
        for name, lat in seed["latency_ms"].items():
            out.append(f"| {name} | {lat['p50']:.2f} | {lat['p95']:.2f} | {lat['p99']:.2f} |")
        out += ["", f"Hybrid retrieval ({seed.get('search', 'default settings')}) p50 / query-embedding p50 = "
                f"{seed['hybrid_over_embedding']:.2f}x. "
                f"Peak memory {seed['peak_rss_mb']:.0f} MB."]
        if seed.get("answer_warm_s") is not None:
            out.append(f"Answerer warm-up (the sentences of every passage) {seed['answer_warm_s']:.2f} s.")
        if seed.get("app_ready_s") is not None:
            out.append(f"App ready {seed['app_ready_s']:.1f} s after launch (index built).")
        out.append("")
    if report.get("scale"):
        out += ["## Synthetic scale", "", report["synthetic_vectors"] + ".", "",
                "| chunks | BM25 (bm25s) build s | BM25 p50 ms | rank-bm25 build s | rank-bm25 p50 ms | dense index "
                "| dense build s | dense p50 ms | recall@10 vs exact | hybrid p50 ms (no embedding) | index memory MB "
                "| disk MB (bm25 + faiss + vectors) |", "|" + "---|" * 12]
        for r in report["scale"]:
            rb = r["rank-bm25"]
            out.append(f"| {r['chunks']:,} | {r['bm25s']['build_s']:.1f} | {r['bm25s']['query_ms']['p50']:.2f} | "
                       f"{rb['build_s']:.1f} | {rb['query_ms']['p50']:.1f} | " if rb else
                       f"| {r['chunks']:,} | {r['bm25s']['build_s']:.1f} | {r['bm25s']['query_ms']['p50']:.2f} | - | - | ")
            out[-1] += (f"{r['dense_kind']} | {r['dense_build_s']:.1f} | {r['dense_query_ms']['p50']:.2f} | "
                        f"{r['dense_recall@10']:.3f} | {r['hybrid_query_ms']['p50']:.2f} | {r['index_memory_mb']:.0f} | "
                        f"{r['bm25s']['disk_mb'] + r['dense_disk_mb'] * (r['dense_kind'] != 'flat') + r['vectors_disk_mb']:.0f} |")
        out.append("")
    return "\n".join(out)


def plot(report: dict, path: Path) -> None:
    matplotlib = require("matplotlib", "bench")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report.get("scale") or []
    if not rows:
        return
    sizes = [r["chunks"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.loglog(sizes, [r["bm25s"]["query_ms"]["p50"] for r in rows], "o-", label="BM25 (bm25s)")
    rb = [(r["chunks"], r["rank-bm25"]["query_ms"]["p50"]) for r in rows if r["rank-bm25"]]
    if rb:
        ax.loglog(*zip(*rb), "s--", label="BM25 (rank-bm25)")
    ax.loglog(sizes, [r["dense_query_ms"]["p50"] for r in rows], "^-", label="dense (FAISS)")
    ax.loglog(sizes, [r["hybrid_query_ms"]["p50"] for r in rows], "d-", label="hybrid, default fusion (no embedding)")
    seed = report.get("seed")
    if seed:
        ax.axhline(seed["latency_ms"]["query embedding"]["p50"], color="grey", ls=":", label="query embedding (seed)")
    ax.set_xlabel("chunks")
    ax.set_ylabel("p50 latency per query (ms)")
    ax.set_title("ragcomm query latency against corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
