"""Command line: thin commands over the library. Known failures are one line on stderr."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

from . import serve
from .backends import VECTOR_BACKENDS
from .config import Settings
from .search import DENSE_PRFS, FUSIONS, MODES, PRFS, SENTENCE_MODES, WEIGHTINGS


class UsageError(Exception):
    pass


def settings_from(args) -> Settings:
    return Settings().replace(
        corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None), chunk_size=getattr(args, "chunk_size", None),
        chunk_overlap=getattr(args, "chunk_overlap", None), bm25_backend=getattr(args, "bm25_backend", None),
        fusion=getattr(args, "fusion", None), embed_backend=getattr(args, "embed_backend", None),
        vector_backend=getattr(args, "backend", None), milvus_uri=getattr(args, "milvus_uri", None),
        milvus_collection=getattr(args, "milvus_collection", None),
        milvus_analyzer=getattr(args, "milvus_analyzer", None),
    )


def add_backend_options(p):
    """The vector backend and where Milvus is (credentials only from the environment)."""
    p.add_argument("--backend", choices=VECTOR_BACKENDS,
                   help="vector backend (default: the index's, faiss for a new one); milvus serves BM25 too")
    p.add_argument("--milvus-uri", help="Milvus Lite file (*.db, default <index>.milvus.db beside the index folder) "
                   "or server http://host:19530; credentials from RAGCOMM_MILVUS_TOKEN or RAGCOMM_MILVUS_TOKEN_FILE")
    p.add_argument("--milvus-collection", help="collection name (default ragcomm_<index folder name>)")
    p.add_argument("--milvus-analyzer", choices=["ragcomm", "milvus"],
                   help="BM25 terms analysed by ragcomm (default) or by Milvus' own analyzer")


def add_paths(p, model=True):
    p.add_argument("--corpus", type=Path, help="corpus folder (default: ./corpus)")
    p.add_argument("--index", type=Path, help="index folder (default: ./index)")
    if model:
        p.add_argument("--model", help="sentence-transformers model name or path (default: all-MiniLM-L6-v2, bundled)")


SEARCH_FLAGS = {"mode": "mode", "fusion": "fusion", "dense_weight": "dense_weight", "rrf_k": "rrf_k",
                "weighting": "weighting", "prf": "prf", "dense_prf": "dense_prf", "sentences": "dense_sentences"}


def add_search_settings(p):
    """How to search (eval/README.md chose the defaults): for index (recorded), search and ask."""
    p.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default hybrid)")
    p.add_argument("--fusion", choices=FUSIONS, default=None, help=f"hybrid fusion (default {Settings().fusion})")
    p.add_argument("--dense-weight", type=float, help="dense weight of a score fusion, 0-1")
    p.add_argument("--rrf-k", type=int, help="k of reciprocal rank fusion")
    p.add_argument("--weighting", choices=WEIGHTINGS, help="fixed weights, or per query from each list's confidence")
    p.add_argument("--prf", choices=PRFS, help="pseudo-relevance feedback for BM25 (rm3)")
    p.add_argument("--dense-prf", choices=DENSE_PRFS, help="pseudo-relevance feedback for dense (rocchio)")
    p.add_argument("--sentences", choices=SENTENCE_MODES, help="score passages with their best sentence too")


def search_flags(args) -> dict:
    """The search settings given on the command line, as Settings fields."""
    return {field: getattr(args, flag) for flag, field in SEARCH_FLAGS.items() if getattr(args, flag, None) is not None}


def add_retrieval_options(p):
    """Search settings and filters: the same for search and ask."""
    add_search_settings(p)
    p.add_argument("--doc", action="append", help="only this document id (repeatable)")
    p.add_argument("--source", action="append", help="only this corpus file (repeatable)")
    p.add_argument("--year-from", type=int, help="only documents from this year on (undated ones are kept)")
    p.add_argument("--year-to", type=int, help="only documents up to this year (undated ones are kept)")
    p.add_argument("--exclude-undated", action="store_true",
                   help="with a year range, also leave out documents whose year is unknown")
    p.add_argument("--kind", action="append", help="only this kind of document: abstract, report, paper, web page")


def add_generator_options(p, stream: bool = True):
    """Which generator answers; the language model's endpoint (its key only from RAGCOMM_LLM_API_KEY)."""
    serve.add_llm_options(p, "extractive: sentences quoted from the documents (default); openai: a language "
                          "model's answer, each sentence checked against the passage it cites (the extractive "
                          "answer when too little is supported)")
    if stream:
        p.add_argument("--stream", action="store_true",
                       help="print the model's words as they come (with --generator openai)")


def llm_config(args):
    """The LLMConfig of --llm-url/--llm-model, or None for the extractive generator."""
    try:
        return serve.llm_config(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ragcomm", description="Cited retrieval over NHS commissioning documents.")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index from the corpus (skipped when up to date)")
    add_paths(p)
    p.add_argument("--rebuild", action="store_true", help="build even if the index is up to date")
    p.add_argument("--chunk-size", type=int, help="chunk size in cl100k_base tokens")
    p.add_argument("--chunk-overlap", type=int, help="overlap between chunks in tokens")
    p.add_argument("--bm25-backend", choices=["bm25s", "rank-bm25"])
    p.add_argument("--embed-backend", choices=["torch", "onnx", "onnx-int8"],
                   help="embedding backend for the build; queries use the one the index records")
    add_backend_options(p)
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="embed with Ray Data over an actor pool: a running cluster's ADDRESS, or without one a "
                        "local Ray on 127.0.0.1 for this build (extra ragcomm[ray])")
    p.add_argument("--ray-actors", type=int, default=2, help="embedding actors (each loads the model once; default 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_search_settings(p)

    p = sub.add_parser("search", help="ranked passages for a question, or for a file of questions")
    add_paths(p, model=False)
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--queries", type=Path, help="JSONL file: one {id, question} (or BEIR {_id, text}) per line")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    add_retrieval_options(p)
    p.add_argument("--json", action="store_true", help="JSON output")

    p = sub.add_parser("ask", help="an extractive, cited answer to a question, or to a file of questions")
    add_paths(p, model=False)
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--queries", type=Path, help="JSONL file: one {id, question} (or BEIR {_id, text}) per line")
    p.add_argument("--history", action="append", help="an earlier question of the conversation (repeatable, oldest first)")
    p.add_argument("-k", type=int, default=5, help="number of passages to answer from (default 5)")
    add_retrieval_options(p)
    p.add_argument("--threshold", type=float, help="abstain when the answerability (0-1) is below this "
                   "(default: eval/calibration.json)")
    p.add_argument("--more", action="store_true", help="also print the further sentences (\"more from the sources\")")
    p.add_argument("--json", action="store_true", help="JSON output")
    add_generator_options(p)

    p = sub.add_parser("serve", help="start the web chat (the same as python app.py)")
    serve.add_arguments(p)

    p = sub.add_parser("add", help="copy files into the corpus and index them (only new text is embedded)")
    add_paths(p)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--replace", action="store_true", help="replace a corpus file of the same name "
                   "(the old one is kept in corpus/.removed/)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.epilog = "Exit status: 0 when every file is in the corpus, 1 when some were refused (the others are added)."

    p = sub.add_parser("remove", help="take documents out of the corpus and the index (files kept in corpus/.removed/)")
    add_paths(p)
    p.add_argument("targets", nargs="+", help="a doc_id or a corpus file name")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("status", help="what is indexed, what is stale, the manifest")
    add_paths(p, model=False)
    p.add_argument("--json", action="store_true", help="print the manifest and the stale files as JSON")

    p = sub.add_parser("load", help="load test on loopback: concurrent clients through the REST API, the Gradio "
                       "API and the chat's own event, side by side")
    add_paths(p, model=False)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30, help="per path (default 30)")
    p.add_argument("--paths", default="rest,gradio,chat", help="comma-separated: rest, gradio, chat (default all)")
    p.add_argument("--concurrency", type=int, help="the launched app's --concurrency")
    p.add_argument("--queue-size", type=int, help="the launched app's --queue-size")
    p.add_argument("--url", help="a running app on this machine (default: launch one on a free port)")
    p.add_argument("--json", dest="json_out", type=Path, help="write the figures as JSON")

    p = sub.add_parser("bench", help="performance: build throughput, per-stage latency, synthetic scale")
    add_paths(p)
    p.add_argument("--sizes", default="10000,100000",
                   help="synthetic corpus sizes in chunks, comma-separated ('' for none; up to 1000000)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs over the question set per figure")
    p.add_argument("--no-seed", action="store_true", help="skip the seed-corpus part")
    p.add_argument("--no-app", action="store_true", help="skip timing the app start-up")
    add_search_settings(p)  # e.g. the old default: --fusion weighted --dense-weight 0.4 --weighting fixed --sentences off
    p.add_argument("--texts", type=Path, action="append", default=[],
                   help="a BEIR folder whose sentences join the corpus's in the synthetic chunks (repeatable; "
                        "docs/PERFORMANCE.md used ../shared/benchmarks/adi, cisi and cran)")
    p.add_argument("--json", dest="json_out", type=Path, help="write the report as JSON")
    p.add_argument("--markdown", type=Path, help="write the report as Markdown")
    p.add_argument("--plot", type=Path, help="write a log-log PNG of latency against corpus size")
    p.add_argument("--parity", action="store_true", help="only: nDCG@10 and gold citations, files backends vs Milvus "
                   "(gold set and each --texts BEIR folder, embedded whole)")
    p.add_argument("--milvus", action="store_true", help="only: Milvus Lite latency beside FAISS at --sizes, and "
                   "adding one document")
    p.add_argument("--ray", action="store_true", help="only: Ray embedding, identical vectors, 1 vs 2 actors")

    p = sub.add_parser("eval", help="retrieval quality on the gold set or a BEIR folder, several configurations")
    add_paths(p)
    p.add_argument("--dataset", type=Path, help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); "
                   "default: the gold set")
    p.add_argument("--gold", type=Path, help="gold question file (default: eval/gold.jsonl)")
    p.add_argument("--embed-backend", choices=["torch", "onnx", "onnx-int8"],
                   help="embedding backend (default: onnx-int8)")
    add_backend_options(p)
    p.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated (default bm25,dense,hybrid)")
    p.add_argument("--fusion", help="hybrid fusions, comma-separated: rrf,weighted (default rrf)")
    p.add_argument("--dense-weight", help="dense weights for weighted fusion, comma-separated")
    p.add_argument("--rrf-k", help="RRF k values, comma-separated (default 60)")
    p.add_argument("--chunk-size", help="chunk sizes in tokens, comma-separated; 'whole' = one chunk per document")
    p.add_argument("--chunk-overlap", help="chunk overlaps in tokens, comma-separated")
    p.add_argument("--bm25-backend", help="BM25 backends, comma-separated, each BACKEND[:ANALYZER]: "
                   "bm25s, rank-bm25, rank-bm25:plain (default bm25s:english)")
    p.add_argument("--weighting", help="score-fusion weightings, comma-separated: fixed,confidence")
    p.add_argument("--prf", help="BM25 feedback, comma-separated: none,rm3")
    p.add_argument("--dense-prf", help="dense feedback, comma-separated: none,rocchio")
    p.add_argument("--sentences", help="best-sentence dense scoring, comma-separated: off,max,mean")
    p.add_argument("--grid", type=Path, help="JSON file: a list of configurations (objects of settings) to run "
                   "instead of the flags' combinations, e.g. eval/candidates.json")
    p.add_argument("--candidates", type=int, help="candidates per retriever and run depth (default 100)")
    p.add_argument("--primary", default="ndcg@10", help="metric that picks the best configuration (default ndcg@10)")
    p.add_argument("--json", dest="json_out", type=Path, help="write the results as JSON")
    p.add_argument("--markdown", type=Path, help="write the results as Markdown")
    p.add_argument("--save-runs", type=Path, help="write TREC run files (qid Q0 docid rank score tag) to this folder")
    p.add_argument("--plot", type=Path, help="write a PNG of Recall@k (k = 1..100) per configuration")
    p.add_argument("--calibrate", action="store_true", help="gold set: fit the abstention model on the tune split "
                   "and store it (implies --answers)")
    p.add_argument("--calibration", type=Path, help="where --calibrate writes (default: eval/calibration.json)")
    p.add_argument("--documents", action="store_true",
                   help="ingestion of real documents: right passage, evidence cited, page right, header/footer "
                        "text in chunks, contents in top 5 (with --gold eval/realdocs.jsonl --corpus ../shared/realdocs)")
    p.add_argument("--furniture", type=Path, help="--documents: running headers/footers per file (default: "
                   "eval/realdocs-furniture.json)")
    # Answer-level evaluation (eval/answers.py).
    p.add_argument("--answers", action="store_true", help="answer-level evaluation on the gold set (or --gold FILE): "
                   "evidence cited / first, words, abstention")
    p.add_argument("--split", default="all", help="--answers: tune, heldout or all (default all; "
                   "a question is held out when the SHA-256 of its id is odd)")
    p.add_argument("--answer-grid", help="--answers: variants to compare, NAME=V1,V2;NAME=... (see eval/README.md)")
    p.add_argument("--baseline", type=Path, help="--answers: the --json of an earlier run to test against (paired)")
    p.add_argument("--answers-file", type=Path, help="--answers: score these saved answers instead of answering "
                   "(the output of `ragcomm ask --queries GOLD --json`, e.g. from an older version)")
    p.add_argument("--abstention-signals", help="--calibrate: sets of signals to try, SIGNAL,SIGNAL;SIGNAL,... "
                   "(default: all of answer/abstention.py SIGNALS)")
    p.add_argument("--abstention-l2", help="--calibrate: L2 weights to try, comma-separated (default 3)")
    # --answers with a language model beside the extractive answerer (#17)
    add_generator_options(p, stream=False)
    p.add_argument("--local-llm", action="store_true", help="--answers: start the bundled SmolLM2-135M server "
                   "on 127.0.0.1 for this run and use it as --generator openai (extra ragcomm[llm])")

    p = sub.add_parser("choose", help="the default by the rule of eval/README.md over `ragcomm eval --grid` reports")
    p.add_argument("reports", nargs="+", type=Path, help="one `ragcomm eval --json` report per collection")
    p.add_argument("--tolerance", type=float, default=0.005, help="allowed shortfall against the best single retriever")
    p.add_argument("--margin", type=float, default=0.02, help="lead over the best single retriever that counts as a win")
    p.add_argument("--json", dest="json_out", type=Path, help="write the choice and leave-one-out as JSON")
    p.add_argument("--markdown", type=Path, help="write the table as Markdown")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from .index import IndexError_
    from .search import QueryError

    try:
        return COMMANDS[args.command](args)
    except (IndexError_, QueryError, UsageError, OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_index(args) -> int:
    from .index import IndexError_, read_manifest, update_index, vector_backend

    settings = settings_from(args)
    if not settings.corpus_dir.is_dir():
        raise UsageError(f"corpus folder not found: {settings.corpus_dir}")
    flags = search_flags(args)
    try:  # search settings: the defaults, then what the index recorded, then the flags
        recorded = read_manifest(settings.index_dir).get("retrieval") or {}
    except IndexError_:
        recorded = None
    settings = settings.replace(**{**(recorded or {}), **flags})
    from .search import QueryError, check_retrieval_settings

    try:
        check_retrieval_settings(settings)
    except QueryError as exc:
        raise UsageError(str(exc)) from None
    default = Settings().retrieval()
    same_search = all((recorded or {}).get(k, default[k]) == v for k, v in settings.retrieval().items())
    rebuild = args.rebuild or not same_search  # other search settings to record: build
    t = time.perf_counter()
    log = (lambda m: print(m, file=sys.stderr))
    if getattr(args, "ray", None) is not None:
        from .embed.ray import RayEmbedder, ray_cluster

        if args.ray_actors < 1:
            raise UsageError("--ray-actors must be at least 1")
        with ray_cluster(args.ray or None, actors=args.ray_actors, log=log):
            embedder = RayEmbedder(settings.model, settings.embed_backend, actors=args.ray_actors)
            index, built = update_index(settings, rebuild=rebuild, log=log, progress=not args.no_progress,
                                        embedder=embedder, keep_search=False)
    else:  # the search settings were decided above (recorded, then the flags)
        index, built = update_index(settings, rebuild=rebuild, log=log, progress=not args.no_progress,
                                    keep_search=False)
    if not built:
        c = index.manifest["counts"]
        print(f"index in {settings.index_dir} is up to date: {c['documents']} documents, "
              f"{c['chunks']} chunks (use --rebuild to build anyway)")
        return 0
    elapsed = time.perf_counter() - t
    m = index.manifest
    c = m["counts"]
    tm = m["timings"]
    print(f"indexed {c['files']} files -> {c['documents']} documents (records) -> {c['chunks']} chunks "
          f"in {elapsed:.1f} s ({c['chunks'] / max(elapsed, 1e-9):.1f} chunks/s; "
          f"ingest {tm['ingest']:.2f} s, chunking {tm['chunking']:.2f} s, embedding {tm['embedding']:.2f} s, "
          f"indexing {tm['indexing']:.2f} s)")
    if m["corpus"]["skipped"]:
        print(f"skipped {len(m['corpus']['skipped'])} files, unreadable or refused (see warnings above)")
    print(f"model {m['model']['id']} ({m['model']['dim']} dims, {index.embed_backend}), chunks of "
          f"{m['chunking']['size']} tokens with {m['chunking']['overlap']} overlap, BM25 {m['bm25']['backend']}, "
          f"dense {vector_backend(m)} {m['dense']['kind']}"
          + (f" (collection {m['dense']['collection']} at {m['dense']['uri']})" if "collection" in m["dense"] else "")
          + f"; saved to {settings.index_dir} (generation {index.generation})")
    print(f"search settings recorded: {describe_search(m['retrieval'])}")
    return 0


def describe_search(r: dict) -> str:
    """One line for the recorded search settings."""
    if r["fusion"] == "rrf":
        fusion = f"rrf k={r['rrf_k']}"
    else:
        fusion = f"{r['fusion']}, dense weight {r['dense_weight']:g}, {r['weighting']} weighting"
    return (f"{r['mode']} ({fusion}); BM25 feedback {r['prf']}, dense feedback {r['dense_prf']}, "
            f"sentences {r['dense_sentences']}")


def read_queries(path: Path) -> list[dict]:
    """Questions from JSONL: {id, question} or BEIR's {_id, text}."""
    if not path.exists():
        raise UsageError(f"queries file not found: {path}")
    if not path.is_file():
        raise UsageError(f"{path} is a folder, not a queries file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text (a JSONL file of questions)") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    queries = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{n}: each line must be a JSON object like "
                             '{"id": "q1", "question": "..."}, not ' + type(row).__name__.replace("dict", "object"))
        qid = row.get("id", row.get("_id"))
        question = row.get("question", row.get("text"))
        if qid is None or isinstance(qid, (dict, list)) or not isinstance(question, str):
            raise UsageError(f"{path}:{n}: each line needs 'id' and 'question' (or BEIR '_id' and 'text')")
        queries.append({"id": str(qid), "question": question})
    return queries


def filters_from(args) -> dict:
    """The filters of the command line; a year range keeps undated documents, as the chat and
    the API do, unless --exclude-undated."""
    filters = {k: v for k, v in {"doc_id": args.doc, "source": args.source, "kind": args.kind,
                                 "year_from": args.year_from, "year_to": args.year_to}.items() if v}
    if "year_from" in filters or "year_to" in filters:
        filters["include_undated"] = not args.exclude_undated
    elif args.exclude_undated:
        raise UsageError("--exclude-undated goes with --year-from or --year-to")
    return filters


def open_retriever(args):
    from .index import load_index
    from .search import Retriever, recorded_settings

    settings = settings_from(args)
    warn_pending(settings)
    index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    if index.stale:
        print(f"warning: the corpus changed since the index was built ({', '.join(index.stale)}): "
              "run `ragcomm index`", file=sys.stderr)
    return Retriever(index, settings=recorded_settings(index, settings).replace(**search_flags(args)))


def warn_pending(settings) -> None:
    """Readers never finish a writer's work (that needs the writer lock): they say it is there."""
    from .index import describe, pending_operation

    entry = pending_operation(settings.index_dir)
    if entry is not None:
        print(f"warning: an interrupted {describe(entry)} is not finished: `ragcomm index` (or the next add or "
              "remove) completes it", file=sys.stderr)


def questions_from(args) -> list[dict]:
    """The single question, or the lines of --queries; a bad question fails before any load."""
    if (args.question is None) == (args.queries is None):
        raise UsageError("give a question or --queries FILE (one of the two)")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    from .search import check_question

    if args.question is not None:
        check_question(args.question)
        return [{"id": None, "question": args.question}]
    return read_queries(args.queries)


def run_batch(args, queries, answer_one, to_json, render, empty: dict) -> int:
    """Answer each question and print it; in batch mode one bad line doesn't lose the others."""
    failures = 0
    for q in queries:
        try:
            result = answer_one(q["question"])
        except Exception as exc:
            if not args.queries:
                raise
            failures += 1
            row = {"id": q["id"], "question": q["question"], "error": str(exc), **empty}
            print(json.dumps(row, ensure_ascii=False) if args.json else f"[{q['id']}] error: {exc}")
            continue
        if args.json:
            row = to_json(q["question"], result)
            print(json.dumps({"id": q["id"], **row} if args.queries else row, ensure_ascii=False))
        else:
            if args.queries:
                print(f"=== [{q['id']}] {q['question']}")
            render(result)
    if failures:
        print(f"warning: {failures} of {len(queries)} questions failed", file=sys.stderr)
    return 0


def cmd_search(args) -> int:
    queries = questions_from(args)
    retriever = open_retriever(args)
    filters = filters_from(args)
    return run_batch(args, queries, lambda q: retriever.search(q, k=args.k, mode=args.mode, filters=filters),
                     lambda q, hits: {"question": q, "results": [h.to_dict() for h in hits]}, print_hits,
                     {"results": []})


def evidence(h) -> list[str]:
    """Each retriever's rank and score for a hit, where it found it."""
    parts = []
    if h.bm25_rank is not None:
        parts.append(f"BM25 #{h.bm25_rank} ({h.bm25_score:.2f})")
    if h.dense_rank is not None:
        parts.append(f"dense #{h.dense_rank} ({h.dense_score:.3f})")
    return parts


def pages_label(h) -> str:
    """' p. 4' or ' pp. 4-5' for a passage of a paged file, else ''."""
    if h.page_start is None:
        return ""
    return f" p. {h.page_start}" if h.page_end in (None, h.page_start) else f" pp. {h.page_start}-{h.page_end}"


def print_hits(hits) -> None:
    if not hits:
        print("no passages found")
    for h in hits:
        place = f"{h.title}" + (f" — {h.section}" if h.section else "")
        print(f"{h.rank}. {place}")
        print(f"   {h.doc_id} [{h.start}:{h.end}]{pages_label(h)} · " + " · ".join([f"score {h.score:.4f}", *evidence(h)]))
        print(textwrap.fill(" ".join(h.text.split()), width=100, initial_indent="   ", subsequent_indent="   "))
        print()


def report_files(results, verb: str) -> int:
    """One line per file; 0 when none was refused, 1 when some were (the others went ahead)."""
    for r in results:
        print(str(r), file=sys.stdout if r.ok else sys.stderr)
    refused = [r for r in results if not r.ok]
    if refused:
        print(f"{len(results) - len(refused)} of {len(results)} {verb}; {len(refused)} refused (see above)",
              file=sys.stderr)
    return 1 if refused else 0


def cmd_add(args) -> int:
    from .index import add_documents

    settings = settings_from(args)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    results, index = add_documents(args.files, settings, replace=args.replace, log=log,
                                   progress=not args.no_progress)
    code = report_files(results, "files added")
    print(f"index generation {index.generation}: {len(index.documents)} documents, {len(index.chunks)} chunks")
    return code


def cmd_remove(args) -> int:
    from .index import remove_documents

    settings = settings_from(args)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    results, index = remove_documents(args.targets, settings, log=log, progress=not args.no_progress)
    code = report_files(results, "removed")
    print(f"index generation {index.generation}: {len(index.documents)} documents, {len(index.chunks)} chunks")
    return code


def cmd_status(args) -> int:
    from .index import describe, pending_operation, read_manifest, stale_files, vector_backend

    settings = settings_from(args)
    manifest = read_manifest(settings.index_dir)
    stale = stale_files(manifest, settings.corpus_dir)
    pending = pending_operation(settings.index_dir)
    if args.json:
        print(json.dumps({"index": str(settings.index_dir), "stale": stale, "unfinished": pending,
                          "manifest": manifest}, indent=2))
        return 0
    c, m = manifest["counts"], manifest["model"]
    print(f"index {settings.index_dir}: generation {manifest.get('generation', '?')}, built {manifest['built_at']} "
          f"by ragcomm {manifest.get('ragcomm_version', '?')}")
    if pending is not None:
        print(f"  unfinished: an interrupted {describe(pending)}: `ragcomm index` completes it")
    print(f"  {c.get('files', '?')} files, {c['documents']} documents, {c['chunks']} chunks; model {m['id']} "
          f"({m['dim']} dims); chunks {manifest['chunking'].get('size')}/{manifest['chunking'].get('overlap')} "
          f"tokens; BM25 {manifest['bm25']['backend']}; dense {vector_backend(manifest)} {manifest['dense']['kind']}")
    if manifest.get("retrieval"):
        print(f"  search settings: {describe_search(manifest['retrieval'])}"
              + (f"; {manifest['sentences']['count']} sentence vectors" if "sentences" in manifest else ""))
    for f, digest in sorted(manifest["corpus"]["files"].items()):
        print(f"  {'STALE ' if f in stale else 'ok    '}{f}  sha256:{digest[:12]}")
    for f in stale:
        if f not in manifest["corpus"]["files"]:
            print(f"  NEW   {f}")
    for skipped in manifest["corpus"].get("skipped", []):
        print(f"  skipped {skipped['path']}: {skipped['reason']}")
    print("up to date" if not stale else f"{len(stale)} file(s) changed since the build: run `ragcomm index`")
    return 0


def cmd_load(args) -> int:
    from .bench.load import main_load, report

    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 3600:
        raise UsageError("--clients must be 1-200 and --seconds 1-3600")
    app_args = []
    for flag, value in (("--concurrency", args.concurrency), ("--queue-size", args.queue_size)):
        if value is not None:
            app_args += [flag, str(value)]
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    result = main_load(args.clients, args.seconds, args.url, args.index, args.corpus, paths=paths,
                       app_args=tuple(app_args))
    print(report(result))
    for example in result["error_examples"]:
        print(f"error: {example}", file=sys.stderr)
    write_report(args, result)
    return 0 if result["errors"] == 0 else 1


def write_report(args, data=None, text: str | None = None) -> None:
    """A command's --json (data) and --markdown (text) files, their folders made."""
    for path, content in ((getattr(args, "json_out", None), None if data is None else json.dumps(data, indent=2)),
                          (getattr(args, "markdown", None), None if text is None else text.rstrip("\n") + "\n")):
        if path and content is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")


def cmd_bench(args) -> int:
    from .bench import perf as bench

    try:
        sizes = [int(x) for x in args.sizes.replace("_", "").split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--sizes takes whole numbers separated by commas, not '{args.sizes}'")
    if any(n < 100 or n > 5_000_000 for n in sizes):
        raise UsageError("--sizes must be between 100 and 5000000 chunks")
    settings = settings_from(args).replace(**search_flags(args))
    if args.parity or args.milvus or args.ray:
        return bench_scale(args, settings, sizes)
    report = bench.run(settings, sizes, repeat=max(1, args.repeat), seed=not args.no_seed, app=not args.no_app,
                       log=lambda m: print(m, file=sys.stderr), texts=args.texts)
    text = bench.markdown(report)
    print(text)
    write_report(args, report, text)
    if args.plot:
        bench.plot(report, args.plot)
    return 0


def bench_scale(args, settings, sizes) -> int:
    """`ragcomm bench --parity / --milvus / --ray`: the figures of docs/SCALE.md."""
    from .bench import scale

    log = (lambda m: print(m, file=sys.stderr))
    report, parts = {}, []
    if args.parity:
        report["parity"] = scale.parity(settings, args.texts, log=log)
        parts.append(scale.parity_markdown(report["parity"]))
    if args.milvus:
        report["milvus"] = scale.milvus_scale(settings, sizes, repeat=max(1, args.repeat // 2), texts=args.texts,
                                              log=log)
        parts.append(scale.milvus_markdown(report["milvus"]))
    if args.ray:
        report["ray"] = scale.ray_throughput(settings, log=log)
        parts.append(scale.ray_markdown(report["ray"]))
    text = "\n\n".join(parts)
    print(text)
    if args.json_out:
        scale.save(report, args.json_out)
    write_report(args, None, text)
    return 0


def cmd_eval(args) -> int:
    from . import eval as evaluate
    from .config import home

    def split(value):
        return [x.strip() for x in value.split(",") if x.strip()] if value else None

    settings = settings_from(argparse.Namespace(**{k: v for k, v in vars(args).items() if k not in (
        "chunk_size", "chunk_overlap", "bm25_backend", "fusion", "dense_weight", "rrf_k")}))
    if args.candidates is not None:
        if args.candidates < 1:
            raise UsageError("--candidates must be at least 1")
        settings = settings.replace(candidates=args.candidates)
    try:
        if args.grid:
            if not args.grid.exists():
                raise UsageError(f"grid file not found: {args.grid}")
            sizes = split(args.chunk_size) or []
            if len(sizes) > 1 or split(args.chunk_overlap) and len(split(args.chunk_overlap)) > 1:
                raise UsageError("with --grid, give at most one --chunk-size and --chunk-overlap")
            if sizes and sizes[0] != evaluate.WHOLE:
                settings = settings.replace(chunk_size=int(sizes[0]))
            if split(args.chunk_overlap):
                settings = settings.replace(chunk_overlap=int(split(args.chunk_overlap)[0]))
            configs = evaluate.grid_file(args.grid, settings, evaluate.WHOLE if sizes == [evaluate.WHOLE] else "chunks")
        else:
            configs = evaluate.configurations(
                settings, modes=split(args.modes), fusions=split(args.fusion),
                dense_weights=[float(x) for x in split(args.dense_weight) or []],
                rrf_ks=[int(x) for x in split(args.rrf_k) or []], chunk_sizes=split(args.chunk_size),
                chunk_overlaps=split(args.chunk_overlap), bm25=split(args.bm25_backend),
                weightings=split(args.weighting), prfs=split(args.prf), dense_prfs=split(args.dense_prf),
                sentences=split(args.sentences))
        evaluate.check_metric(args.primary)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    log = evaluate.log_stderr
    if args.documents:
        return eval_documents(args, settings)
    if args.answers or args.calibrate:
        return eval_answers(args, settings, log)
    if args.dataset:
        result = evaluate.evaluate_beir(args.dataset, configs, primary=args.primary, log=log)
    else:
        gold = args.gold or home() / "eval" / "gold.jsonl"
        if not gold.exists():
            raise UsageError(f"gold question file not found: {gold}")
        if not settings.corpus_dir.is_dir():
            raise UsageError(f"corpus folder not found: {settings.corpus_dir}")
        prebuilt = None
        from .index import IndexError_, load_index

        try:  # the saved index serves the configuration it was built for
            prebuilt = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
            prebuilt = None if prebuilt.stale else prebuilt
        except IndexError_:
            pass
        metrics = evaluate.GOLD_METRICS
        result = evaluate.evaluate_gold(gold, configs, settings.corpus_dir, prebuilt=prebuilt, metrics=metrics,
                                        primary=args.primary, log=log)
    print(evaluate.table(result))
    write_report(args, result.to_json(), evaluate.markdown(result))
    if args.save_runs:
        evaluate.save_runs(result, args.save_runs)
    if args.plot:
        evaluate.plot_recall([result], args.plot)
    return 0


def check_signals(feature_sets) -> None:
    from .answer import SIGNALS

    unknown = sorted({f for features in feature_sets for f in features if f not in SIGNALS})
    if unknown:
        raise ValueError(f"unknown abstention signal(s) {', '.join(unknown)} (choose from {', '.join(SIGNALS)})")


def eval_answers(args, settings, log) -> int:
    """`ragcomm eval --answers`: the answerer on the gold set's questions (eval/answers.py)."""
    from .config import home
    from .eval import answers

    if args.dataset:
        raise UsageError("--answers works on a gold question file (--gold), not a BEIR folder")
    gold = args.gold or home() / "eval" / "gold.jsonl"
    if not gold.exists():
        raise UsageError(f"gold question file not found: {gold}")
    if not settings.corpus_dir.is_dir():
        raise UsageError(f"corpus folder not found: {settings.corpus_dir}")
    try:
        grid = answers.parse_grid(args.answer_grid, answers.GRID_PARAMETERS)
        answers.in_split([], args.split)
        feature_sets = [[f.strip() for f in part.split(",") if f.strip()]
                        for part in (args.abstention_signals or "").split(";") if part.strip()] or None
        l2s = [float(x) for x in (args.abstention_l2 or "").split(",") if x.strip()] or None
        check_signals(feature_sets or [])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    baseline = None
    if args.baseline:
        try:
            baseline = json.loads(args.baseline.read_text())["answerers"][0]["per_question"]
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise UsageError(f"--baseline {args.baseline}: not the --json of `ragcomm eval --answers` ({exc})")
    if args.answers_file:
        if args.calibrate or args.answer_grid:
            raise UsageError("--answers-file scores saved answers: it cannot be combined with --calibrate or --answer-grid")
        try:
            result = answers.evaluate_saved_answers(gold, settings, args.answers_file, args.split)
        except (OSError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        if baseline:
            result.runs[0].significance = {f"{m}_vs_baseline": v
                                           for m, v in answers.compare(result.runs[0], baseline, "baseline").items()}
        return report_answers(args, result, gold, baseline)
    from .index import IndexError_, load_index

    prebuilt = None
    try:
        prebuilt = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
        prebuilt = None if prebuilt.stale else prebuilt
    except IndexError_:
        pass
    calibration = (args.calibration or home() / "eval" / "calibration.json") if args.calibrate else None
    if args.local_llm and (args.generator != "extractive" or args.llm_url or args.llm_model):
        raise UsageError("--local-llm starts its own model: leave out --generator, --llm-url and --llm-model")
    llm = llm_config(args)
    local = None
    if args.local_llm:
        from .answer.generate import LLMConfig
        from .answer.llamacpp import LocalServer

        try:
            local = LocalServer(threads=1).start()
        except (RuntimeError, ImportError) as exc:
            raise UsageError(str(exc)) from None
        llm = LLMConfig(local.url, local.model, timeout=args.llm_timeout)
    generator = None
    if llm is not None:
        from .answer.generators import get_generator

        def generator(answerer):
            return get_generator("openai", answerer, llm)
    try:
        result = answers.evaluate_gold_answers(gold, settings, split=args.split, grid=grid, prebuilt=prebuilt,
                                               baseline=baseline, log=log, calibration=calibration,
                                               feature_sets=feature_sets, l2s=l2s, generator=generator)
    finally:
        if local is not None:
            local.stop()
    if len(result.calibrations) > 1:
        print("Abstention fits tried (tune split, leave-one-out):\n\n" + answers.calibration_table(result.calibrations)
              + "\n")
    if result.calibration:
        c = result.calibration
        print(f"abstention model written to {calibration}: on the tune split (leave-one-out) AUROC {c['auroc']:.3f}; "
              f"threshold {c['threshold']:.3f} answers {c['answerable_answered']:.0%} of answerable and abstains on "
              f"{c['unanswerable_abstained']:.0%} of unanswerable questions\n")
    return report_answers(args, result, gold, baseline)


def report_answers(args, result, gold, baseline) -> int:
    from .eval import answers

    title = f"Answers: {gold}, split {args.split}"
    text = answers.answers_table(result.runs, title, "baseline" if baseline else "")
    print(text)
    for note in result.notes:
        print(f"note: {note}")
    write_report(args, result.to_json(), text)
    return 0


def eval_documents(args, settings) -> int:
    from .config import home
    from .eval.documents import evaluate_documents, markdown

    gold = args.gold or home() / "eval" / "realdocs.jsonl"
    furniture = args.furniture or home() / "eval" / "realdocs-furniture.json"
    for path in (gold, furniture):
        if not Path(path).exists():
            raise UsageError(f"file not found: {path}")
    result = evaluate_documents(gold, settings, furniture, log=lambda m: print(m, file=sys.stderr))
    text = markdown(result, label=str(settings.corpus_dir.name))
    print(text)
    write_report(args, result, text)
    return 0


def cmd_choose(args) -> int:
    from .eval import choose

    for path in args.reports:
        if not path.exists():
            raise UsageError(f"report not found: {path}")
    try:
        scores, latency, entries = choose.load_reports(args.reports)
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise UsageError(f"not a `ragcomm eval --json` report ({type(exc).__name__}: {exc})") from None
    if len(scores) < 2:
        raise UsageError("give reports of at least two collections")
    choice = choose.choose(scores, args.tolerance, args.margin)
    loo = choose.leave_one_out(scores, args.tolerance, args.margin)
    tests = choose.significance(entries, choice["choice"])
    rows = choose.summary(entries, choice["choice"])
    text = choose.markdown(scores, latency, choice, loo, tests, rows)
    print(text)
    write_report(args, {"choice": choice, "leave_one_out": loo, "significance": tests, "summary": rows}, text)
    return 0


def cmd_ask(args) -> int:
    if args.history and args.queries:
        raise UsageError("--history goes with a single question, not --queries")
    queries = questions_from(args)
    llm = llm_config(args)
    if args.stream and (args.json or args.queries or llm is None):
        raise UsageError("--stream goes with --generator openai, a single question and no --json")
    from .answer import Answerer
    from .answer.generators import get_generator

    generator = get_generator(args.generator, Answerer(open_retriever(args), threshold=args.threshold), llm)
    filters = filters_from(args)
    answerer = Answerer(open_retriever(args), threshold=args.threshold)
    generator = get_generator(args.generator, answerer, llm)
    filters = filters_from(args)
    options = dict(k=args.k, mode=args.mode, fusion=args.fusion, filters=filters, history=args.history)
    if args.stream:
        return stream_answer(generator.stream(queries[0]["question"], **options))
    return run_batch(args, queries, lambda q: generator.ask(q, **options),
                     lambda q, answer: {**answer.to_dict(), "index": answerer.retriever.index.info},
                     lambda answer: print_answer(answer, more=args.more), {})


def stream_answer(events) -> int:
    """The model's words as they come, then the checked answer."""
    from .answer.generate import Checked, Token

    for event in events:
        if isinstance(event, Token):
            print(event.text, end="", flush=True)
        elif isinstance(event, Checked):
            continue
        else:
            print("\n" + "-" * 40)
            print_answer(event)
    return 0


def print_answer(answer, more: bool = False) -> None:
    print(f"Question: {answer.question}")
    if answer.query != answer.question:
        print(f"Searched: {answer.query}")
    print()
    print(textwrap.fill(answer.text, width=100))
    if answer.note:
        print(answer.note)
    if answer.generated is not None:
        print_generation(answer.generated)
    if more and answer.more:
        print("\nMore from the sources:")
        print(textwrap.fill(" ".join(f"{c.sentence} [{c.marker}]" for c in answer.more), width=100))
    score = f"answerability {answer.confidence:.2f}" if answer.confidence is not None else \
        f"best dense score {answer.evidence:.3f}"
    print(f"\n{'Closest passages' if answer.abstained else 'Sources'} ({score}, threshold {answer.threshold:.2f}"
          + (f"; decided by {answer.decided_by}" if answer.decided_by else "") + "):")
    markers = {**answer.markers(), **({c.chunk_id: c.marker for c in answer.more} if more else {})}
    for n, h in enumerate(answer.sources + (answer.more_sources if more else []), start=1):
        record = h.record_line(", ")
        label = f"[{markers[h.chunk_id]}]" if h.chunk_id in markers else f"({n})"
        print(f"{label} {h.title}" + (f" — {h.section}" if h.section and h.section != h.title else ""))
        if record:
            print(f"    {record}")
        print(f"    {h.source} [{h.start}:{h.end}]{pages_label(h)} · " + " · ".join([f"fused #{h.rank}", *evidence(h)]))
        cited = [c for c in answer.citations + (answer.more if more else []) if c.chunk_id == h.chunk_id]
        for c in cited:
            where = f"p. {c.page} " if c.page is not None else ""
            print(textwrap.fill(" ".join(c.sentence.split()), width=100, initial_indent=f"    > {where}[{c.start}:{c.end}] ",
                                subsequent_indent="      "))
        if not cited:
            print(textwrap.fill(" ".join(h.text.split()), width=100, initial_indent="    ", subsequent_indent="    "))


def print_generation(g) -> None:
    """How the language model's sentences fared in the support check."""
    if not g.sentences:
        print(f"\nLanguage model {g.model}: not used ({g.reason})")
        return
    print(f"\nGenerated by {g.model} in {g.seconds:.1f} s: {g.kept} of {len(g.sentences)} sentences supported"
          + (f"; fallback: {g.reason}" if g.fallback else ""))
    for s in g.sentences:
        markers = "".join(f"[{n}]" for n in s.markers) or "(no marker)"
        verdict = (f"supported by [{s.marker}] (similarity {s.similarity:.2f}, words {s.coverage:.0%})" if s.supported
                   else f"REJECTED: {s.reason}")
        print(textwrap.fill(f"{s.sentence} {markers}", width=100, initial_indent="  ", subsequent_indent="    "))
        print(f"    -> {verdict}")


def cmd_serve(args) -> int:
    return serve.run(args)


COMMANDS = {"index": cmd_index, "search": cmd_search, "bench": cmd_bench, "load": cmd_load, "add": cmd_add, "remove": cmd_remove,
            "status": cmd_status, "eval": cmd_eval, "ask": cmd_ask, "serve": cmd_serve, "choose": cmd_choose}
