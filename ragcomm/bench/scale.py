"""Figures for going beyond one machine (docs/SCALE.md): Milvus against the files backend, and
Ray embedding against the single process.

    ragcomm bench --parity [--texts BEIR_DIR]       # quality and citations, faiss+bm25s vs Milvus
    ragcomm bench --milvus --sizes 10000,100000     # Milvus Lite latency beside FAISS, add one document
    ragcomm bench --ray                             # Ray embedding: identical vectors, 1 vs 2 actors
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ..config import Settings, home
from .perf import gold_questions, sentence_pool, synthetic_texts, synthetic_vectors, timed

MODES = ("dense", "bm25", "hybrid")


# ---------------------------------------------------------------- parity

def parity(settings: Settings, datasets: list[Path] = (), log=print) -> dict:
    """nDCG@10 per mode on the gold set and each BEIR folder, and the gold questions' citations,
    with the files backends (FAISS + bm25s) and with Milvus (both BM25 analyses)."""
    from .. import eval as evaluate
    from ..embed import get_embedder
    from ..embed.cache import CachedEmbedder

    embedder = CachedEmbedder(get_embedder(settings.model, settings.embed_backend))
    backends = {"files": settings.replace(vector_backend="faiss"),
                "milvus": settings.replace(vector_backend="milvus", milvus_analyzer="ragcomm", milvus_uri=""),
                "milvus (own analyzer)": settings.replace(vector_backend="milvus", milvus_analyzer="milvus",
                                                          milvus_uri="")}
    report = {"datasets": {}, "citations": None}
    beds = [("gold", None)] + [(Path(d).name, Path(d)) for d in datasets]
    for name, folder in beds:
        rows = {}
        for backend, s in backends.items():
            modes = MODES if backend != "milvus (own analyzer)" else ("bm25", "hybrid")
            log(f"parity: {name}, {backend} ...")
            if folder is None:
                configs = evaluate.configurations(s, modes=modes)
                result = evaluate.evaluate_gold(home() / "eval" / "gold.jsonl", configs, s.corpus_dir,
                                                embedder=embedder)
            else:
                configs = evaluate.configurations(s.replace(candidates=1000), modes=modes, chunk_sizes=["whole"])
                result = evaluate.evaluate_beir(folder, configs, embedder=embedder)
            rows[backend] = {r.config.mode: round(r.metrics["ndcg@10"], 4) for r in result.results}
        report["datasets"][name] = rows
    report["citations"] = citation_parity(backends["files"], backends["milvus"], embedder, log)
    return report


def citation_parity(files: Settings, milvus: Settings, embedder, log=print) -> dict:
    """Ask every gold question with both backends: the share with the same citations."""
    from ..answer import Answerer
    from ..index import build_from_documents
    from ..ingest import load_corpus
    from ..search import Retriever

    docs, _ = load_corpus(files.corpus_dir)
    log("parity: gold questions through the answerer, both backends ...")
    answers = {}
    for name, s in (("files", files), ("milvus", milvus)):
        index = build_from_documents(docs, s, embedder=embedder, log=lambda _m: None)
        answerer = Answerer(Retriever(index, embedder=embedder, settings=s))
        answers[name] = [answerer.ask(q) for q in gold_questions()]
    same = [[(c.chunk_id, c.start, c.end) for c in a.citations] == [(c.chunk_id, c.start, c.end) for c in b.citations]
            and a.abstained == b.abstained for a, b in zip(answers["files"], answers["milvus"])]
    return {"questions": len(same), "same": int(sum(same)), "share": round(sum(same) / max(len(same), 1), 4)}


def parity_markdown(report: dict) -> str:
    out = ["## Parity: files backends (FAISS + bm25s) vs Milvus Lite", "",
           "| test bed | mode | files nDCG@10 | Milvus nDCG@10 | difference | Milvus, its own analyzer |",
           "|---|---|---|---|---|---|"]
    for name, rows in report["datasets"].items():
        for mode in MODES:
            f, m = rows["files"].get(mode), rows["milvus"].get(mode)
            own = rows["milvus (own analyzer)"].get(mode)
            out.append(f"| {name} | {mode} | {f:.4f} | {m:.4f} | {m - f:+.4f} | "
                       + (f"{own:.4f} ({own - f:+.4f})" if own is not None else "-") + " |")
    c = report["citations"]
    out += ["", f"Gold questions with the same citations (chunk and sentence offsets) and the same abstention: "
                f"{c['same']} of {c['questions']} ({c['share']:.0%})."]
    return "\n".join(out)


# ---------------------------------------------------------------- Milvus Lite at scale

def milvus_scale(settings: Settings, sizes: list[int], repeat: int = 3, texts: list[Path] = (), log=print) -> list:
    """Per size: FAISS + bm25s and Milvus Lite latency (dense, BM25, hybrid without embedding)
    on synthetic chunks, Milvus insert time, and the time to add one 20-chunk document."""
    from ..backends import build_lexical, build_vector
    from ..backends.milvus import build_milvus, close_all
    from ..embed import get_embedder
    from ..search import rrf
    from ..types import Chunk

    embedder = get_embedder(settings.model, settings.embed_backend)
    pool = sentence_pool(settings, texts)
    base = embedder.encode(synthetic_texts(pool, 2000, seed=99), batch_size=64)
    questions = gold_questions()
    qvecs = embedder.encode(questions)
    cand = settings.candidates
    idx = list(range(len(questions)))
    rows = []
    for n in sizes:
        log(f"milvus scale: {n:,} chunks ...")
        chunk_texts = synthetic_texts(pool, n)
        vectors = synthetic_vectors(base, n)
        per_doc = 20
        chunks = [Chunk(f"doc{i // per_doc}#{i % per_doc}", f"doc{i // per_doc}", t, 0, len(t), "", 0)
                  for i, t in enumerate(chunk_texts)]
        documents = {f"doc{d}": {"title": "", "source": f"doc{d}.txt", "metadata": {"year": 2000 + d % 20}}
                     for d in range((n + per_doc - 1) // per_doc)}
        row = {"chunks": n}
        lex = build_lexical(chunk_texts, "bm25s", settings.bm25_analyzer, settings.bm25_k1, settings.bm25_b)
        dense = build_vector(vectors, "faiss", ann_threshold=settings.ann_threshold, ann_kind=settings.ann_kind,
                             nprobe=settings.ivf_nprobe)
        row["faiss_kind"] = dense.kind
        with tempfile.TemporaryDirectory() as tmp:
            s = settings.replace(vector_backend="milvus", index_dir=Path(tmp) / "index", milvus_uri="")
            t = time.perf_counter()
            mlex, mdense = build_milvus(chunks, documents, chunk_texts, vectors, s, persistent=True,
                                        log=lambda _m: None)
            row["milvus_insert_s"] = time.perf_counter() - t
            s.index_dir.mkdir()
            mdense.save(s.index_dir)  # as a saved index: the next sync knows what it wrote
            row["milvus_kind"] = mdense.kind
            mlex.collection.check()
            for label, (b, d) in {"files": (lex, dense), "milvus": (mlex, mdense)}.items():
                def hybrid(i, b=b, d=d):
                    fused = rrf([list(b.top(questions[i], cand)[0]), list(d.search(qvecs[i], cand)[0])],
                                k=settings.rrf_k)
                    return sorted(fused, key=fused.get, reverse=True)[:10]

                row[label] = {"dense": timed(lambda i: d.search(qvecs[i], cand), idx, repeat)["p50"],
                              "bm25": timed(lambda q: b.top(q, cand), questions, repeat)["p50"],
                              "hybrid": timed(hybrid, idx, repeat)["p50"],
                              "bm25_filtered": timed(lambda q: b.top(q, cand, filters={"year_from": 2010}),
                                                     questions, 1)["p50"]}
            # Add one document of 20 chunks: the sync inserts that document only (what `ragcomm add`
            # costs in Milvus; re-chunking the corpus and saving the folder come on top).
            extra = [Chunk(f"new#{j}", "new", chunk_texts[j], 0, 10, "", 0) for j in range(per_doc)]
            documents["new"] = {"title": "", "source": "new.txt", "metadata": {}}
            t = time.perf_counter()
            build_milvus(chunks + extra, documents, chunk_texts + chunk_texts[:per_doc],
                         np.vstack([vectors, vectors[:per_doc]]), s, persistent=True, log=lambda _m: None)
            row["milvus_add_document_s"] = time.perf_counter() - t
            close_all()
        rows.append(row)
    return rows


def milvus_markdown(rows: list) -> str:
    out = ["## Milvus Lite beside FAISS + bm25s (p50 ms per query, 100 candidates, no query embedding)", "",
           "| chunks | index (FAISS / Milvus) | dense FAISS | dense Milvus | BM25 bm25s | BM25 Milvus | BM25 Milvus, "
           "year filter | hybrid files | hybrid Milvus | Milvus insert s | add one document (20 chunks) s |",
           "|" + "---|" * 11]
    for r in rows:
        f, m = r["files"], r["milvus"]
        out.append(f"| {r['chunks']:,} | {r['faiss_kind']} / {r['milvus_kind']} | {f['dense']:.2f} | {m['dense']:.2f} | "
                   f"{f['bm25']:.2f} | {m['bm25']:.2f} | {m['bm25_filtered']:.2f} | {f['hybrid']:.2f} | "
                   f"{m['hybrid']:.2f} | {r['milvus_insert_s']:.1f} | {r['milvus_add_document_s']:.2f} |")
    return "\n".join(out)


# ---------------------------------------------------------------- Ray

def ray_throughput(settings: Settings, n: int = 2000, actors: tuple = (1, 2), log=print) -> dict:
    """Embed n real chunk texts in one process and on 1 and 2 Ray actors (one ONNX thread
    each): chunks per second, and the largest difference from the single-process vectors."""
    from ..embed import get_embedder
    from ..embed.ray import RayEmbedder, ray_cluster
    from ..index import chunk_corpus
    from ..chunking import embed_text
    from ..ingest import load_corpus

    local = get_embedder(settings.model, settings.embed_backend)
    docs, _ = load_corpus(settings.corpus_dir)
    titles = {d.doc_id: d.title for d in docs}
    texts = [embed_text(titles[c.doc_id], c.section, c.text) for c in chunk_corpus(docs, settings, local.fits)]
    texts = (texts * (n // max(len(texts), 1) + 1))[:n]
    log(f"ray: {len(texts)} chunk texts, single process ...")
    t = time.perf_counter()
    reference = local.encode(texts, batch_size=settings.batch_size)
    report = {"chunks": len(texts), "single_process": {"chunks_per_s": len(texts) / (time.perf_counter() - t),
                                                       "threads": "all cores"}, "ray": []}
    for a in actors:
        with ray_cluster(None, actors=a, log=log):
            embedder = RayEmbedder(settings.model, settings.embed_backend, actors=a, threads=1, local=local)
            embedder.encode(texts[:64], batch_size=settings.batch_size)  # actors up, model loaded
            embedder.seconds = 0.0
            vectors = embedder.encode(texts, batch_size=settings.batch_size)
            report["ray"].append({"actors": a, "threads_per_actor": 1, "chunks_per_s": len(texts) / embedder.seconds,
                                  "max_abs_diff": float(np.abs(vectors - reference).max())})
    one = report["ray"][0]["chunks_per_s"]
    for r in report["ray"]:
        r["speedup_over_1_actor"] = r["chunks_per_s"] / one
    return report


def ray_markdown(report: dict) -> str:
    out = ["## Ray embedding (local cluster, ONNX int8, one thread per actor)", "",
           "| embedder | chunks/s | vs 1 actor | max abs diff to single process |", "|---|---|---|---|",
           f"| single process (all cores) | {report['single_process']['chunks_per_s']:.1f} | - | 0 |"]
    for r in report["ray"]:
        out.append(f"| Ray, {r['actors']} actor(s) | {r['chunks_per_s']:.1f} | {r['speedup_over_1_actor']:.2f}x | "
                   f"{r['max_abs_diff']:.1e} |")
    out.append(f"\n{report['chunks']} chunk texts of the corpus (repeated to that count); the time excludes "
               "starting the actors and loading the model.")
    return "\n".join(out)


def save(report: dict, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2))
