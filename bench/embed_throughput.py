"""Embedding throughput and CISI dense quality per backend (torch, onnx, onnx-int8).

    .venv/bin/python bench/embed_throughput.py                 # 3 interleaved rounds
    .venv/bin/python bench/embed_throughput.py --rounds 5 --json reports/embed-backends.json

Throughput is chunks per second of `encode` on (a) the seed corpus chunked with ragcomm's
default settings, (b) CISI documents (title + newline + text). The backends run in turn
inside each round (the order rotates), so a busy machine slows them alike; ratios to torch
are taken per round and the median reported. Quality: CISI dense nDCG@10, every document
embedded whole, queries embedded with the same backend, exact inner-product search.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragcomm.config import Settings  # noqa: E402
from ragcomm.chunking import embed_text  # noqa: E402
from ragcomm.embed import BACKENDS, get_embedder  # noqa: E402
from ragcomm.embed.onnx import cpu_count  # noqa: E402
from ragcomm.eval.metrics import evaluate, mean_scores  # noqa: E402
from ragcomm.eval.trec import read_qrels_tsv  # noqa: E402
from ragcomm.index import chunk_corpus  # noqa: E402
from ragcomm.ingest import load_corpus  # noqa: E402

CISI = ROOT.parent / "shared" / "benchmarks" / "cisi"  # the collections beside the checkout


def seed_texts(embedder) -> list[str]:
    docs, _ = load_corpus(ROOT / "corpus")
    titles = {d.doc_id: d.title for d in docs}
    return [embed_text(titles[c.doc_id], c.section, c.text) for c in chunk_corpus(docs, Settings(), embedder.fits)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cisi_ndcg(embedder, docs: list[dict], queries: list[dict], qrels: dict, batch_size: int) -> tuple[float, float]:
    """(nDCG@10, documents per second) for one backend."""
    texts = [f"{d.get('title', '')}\n{d['text']}" for d in docs]
    t = time.perf_counter()
    vectors = embedder.encode(texts, batch_size=batch_size)
    rate = len(texts) / (time.perf_counter() - t)
    q = embedder.encode([x["text"] for x in queries], batch_size=batch_size)
    scores = q @ vectors.T
    run = {}
    for row, query in enumerate(queries):
        top = np.argsort(-scores[row], kind="stable")[:100]
        run[str(query["_id"])] = {str(docs[i]["_id"]): float(scores[row, i]) for i in top}
    return mean_scores(evaluate(run, qrels, ["ndcg@10"]))["ndcg@10"], rate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cisi-sample", type=int, default=400, help="CISI documents per throughput round")
    ap.add_argument("--batch-size", type=int, default=Settings().batch_size)
    ap.add_argument("--no-quality", action="store_true", help="skip the CISI nDCG@10 runs")
    ap.add_argument("--json", dest="json_out", type=Path)
    args = ap.parse_args(argv)
    backends = args.backends.split(",")
    embedders = {b: get_embedder(Settings().model, b) for b in backends}
    for e in embedders.values():
        e.encode(["warm up the session and the allocator"] * 4)
    seed = seed_texts(embedders[backends[0]])
    cisi_docs = read_jsonl(CISI / "corpus.jsonl")
    cisi = [f"{d.get('title', '')}\n{d['text']}" for d in cisi_docs[:args.cisi_sample]]
    import torch

    print(f"{cpu_count()} cores, torch threads {torch.get_num_threads()}; seed corpus {len(seed)} chunks, "
          f"CISI sample {len(cisi)} documents; batch size {args.batch_size}", file=sys.stderr)
    rates = {name: {b: [] for b in backends} for name in ("seed", "cisi")}
    for r in range(args.rounds):
        order = backends[r % len(backends):] + backends[:r % len(backends)]
        for name, texts in (("seed", seed), ("cisi", cisi)):
            for b in order:
                t = time.perf_counter()
                embedders[b].encode(texts, batch_size=args.batch_size)
                rates[name][b].append(len(texts) / (time.perf_counter() - t))
        print(f"round {r + 1}: " + "; ".join(f"{name} " + ", ".join(f"{b} {rates[name][b][-1]:.1f}/s" for b in backends)
                                           for name in rates), file=sys.stderr)
    report = {"rounds": args.rounds, "cores": cpu_count(), "seed_chunks": len(seed), "cisi_sample": len(cisi),
              "throughput": {}, "cisi_ndcg@10": {}}
    for name in rates:
        for b in backends:
            entry = {"median_per_s": float(np.median(rates[name][b])), "per_round": [round(x, 2) for x in rates[name][b]]}
            if "torch" in rates[name] and b != "torch":
                ratios = [x / y for x, y in zip(rates[name][b], rates[name]["torch"])]
                entry["ratio_to_torch_per_round"] = [round(x, 2) for x in ratios]
                entry["median_ratio_to_torch"] = round(float(np.median(ratios)), 2)
            report["throughput"].setdefault(name, {})[b] = entry
    if not args.no_quality:
        queries = read_jsonl(CISI / "queries.jsonl")
        qrels = read_qrels_tsv(CISI / "qrels" / "test.tsv")
        for b in backends:
            ndcg, rate = cisi_ndcg(embedders[b], cisi_docs, queries, qrels, args.batch_size)
            report["cisi_ndcg@10"][b] = round(ndcg, 4)
            report["throughput"].setdefault("cisi_all", {})[b] = {"per_s": round(rate, 2)}
            print(f"CISI {b}: nDCG@10 {ndcg:.4f} ({rate:.1f} documents/s over all {len(cisi_docs)})", file=sys.stderr)
    print("| backend | seed chunks/s | x torch | CISI docs/s | x torch | CISI nDCG@10 |")
    print("|---|---|---|---|---|---|")
    for b in backends:
        s, c = report["throughput"]["seed"][b], report["throughput"]["cisi"][b]
        ndcg = report["cisi_ndcg@10"].get(b)
        print(f"| {b} | {s['median_per_s']:.1f} | {s.get('median_ratio_to_torch', 1.0):.2f} | {c['median_per_s']:.1f} "
              f"| {c.get('median_ratio_to_torch', 1.0):.2f} | {'—' if ndcg is None else f'{ndcg:.4f}'} |")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
