"""Command line: thin commands over the library. Known failures are one line on stderr."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

from .config import Settings
from .retrieve import FUSIONS, MODES


class UsageError(Exception):
    pass


def settings_from(args) -> Settings:
    return Settings().replace(
        corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None), chunk_size=getattr(args, "chunk_size", None),
        chunk_overlap=getattr(args, "chunk_overlap", None), bm25_backend=getattr(args, "bm25_backend", None),
        fusion=getattr(args, "fusion", None),
    )


def add_paths(p, model=True):
    p.add_argument("--corpus", type=Path, help="corpus folder (default: ./corpus)")
    p.add_argument("--index", type=Path, help="index folder (default: ./index)")
    if model:
        p.add_argument("--model", help="sentence-transformers model name or path (default: all-MiniLM-L6-v2, bundled)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ragcomm", description="Cited retrieval over NHS commissioning documents.")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index from the corpus (skipped when up to date)")
    add_paths(p)
    p.add_argument("--rebuild", action="store_true", help="build even if the index is up to date")
    p.add_argument("--chunk-size", type=int, help="chunk size in cl100k_base tokens")
    p.add_argument("--chunk-overlap", type=int, help="overlap between chunks in tokens")
    p.add_argument("--bm25-backend", choices=["bm25s", "rank-bm25"])
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("search", help="ranked passages for a question, or for a file of questions")
    add_paths(p, model=False)
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--queries", type=Path, help="JSONL file: one {id, question} (or BEIR {_id, text}) per line")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default hybrid)")
    p.add_argument("--fusion", choices=FUSIONS, default=None, help="hybrid fusion (default rrf)")
    p.add_argument("--doc", action="append", help="only this document id (repeatable)")
    p.add_argument("--source", action="append", help="only this corpus file (repeatable)")
    p.add_argument("--year-from", type=int)
    p.add_argument("--year-to", type=int)
    p.add_argument("--kind", action="append", help="only this kind of document: abstract, report, paper, web page")
    p.add_argument("--json", action="store_true", help="JSON output")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from .index import IndexError_
    from .retrieve import QueryError

    try:
        return COMMANDS[args.command](args)
    except (IndexError_, QueryError, UsageError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_index(args) -> int:
    from .index import build_index, load_index, settings_match
    from .index import IndexError_

    settings = settings_from(args)
    if not settings.corpus_dir.is_dir():
        raise UsageError(f"corpus folder not found: {settings.corpus_dir}")
    if not args.rebuild:
        try:
            index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
            if not index.stale and not settings_match(index.manifest, settings):
                c = index.manifest["counts"]
                print(f"index in {settings.index_dir} is up to date: {c['documents']} documents, "
                      f"{c['chunks']} chunks (use --rebuild to build anyway)")
                return 0
        except IndexError_:
            pass
    t = time.perf_counter()
    index = build_index(settings, log=lambda m: print(m, file=sys.stderr), progress=not args.no_progress)
    elapsed = time.perf_counter() - t
    m = index.manifest
    c = m["counts"]
    tm = m["timings"]
    print(f"indexed {c['files']} files -> {c['documents']} documents (records) -> {c['chunks']} chunks "
          f"in {elapsed:.1f} s ({c['chunks'] / max(elapsed, 1e-9):.1f} chunks/s; "
          f"ingest {tm['ingest']:.2f} s, chunking {tm['chunking']:.2f} s, embedding {tm['embedding']:.2f} s, "
          f"indexing {tm['indexing']:.2f} s)")
    if m["corpus"]["skipped"]:
        print(f"skipped {len(m['corpus']['skipped'])} unreadable files (see warnings above)")
    print(f"model {m['model']['id']} ({m['model']['dim']} dims), chunks of {m['chunking']['size']} tokens "
          f"with {m['chunking']['overlap']} overlap, BM25 {m['bm25']['backend']}, dense {m['dense']['kind']}; "
          f"saved to {settings.index_dir}")
    return 0


def read_queries(path: Path) -> list[dict]:
    """Questions from JSONL: {id, question} or BEIR's {_id, text}."""
    if not path.exists():
        raise UsageError(f"queries file not found: {path}")
    queries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        qid = row.get("id", row.get("_id"))
        question = row.get("question", row.get("text"))
        if qid is None or not isinstance(question, str):
            raise UsageError(f"{path}:{n}: each line needs 'id' and 'question' (or BEIR '_id' and 'text')")
        queries.append({"id": str(qid), "question": question})
    return queries


def filters_from(args) -> dict:
    return {k: v for k, v in {"doc_id": args.doc, "source": args.source, "kind": args.kind,
                              "year_from": args.year_from, "year_to": args.year_to}.items() if v}


def open_retriever(args):
    from .index import load_index
    from .retrieve import Retriever

    settings = settings_from(args)
    index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    if index.stale:
        print(f"warning: the corpus changed since the index was built ({', '.join(index.stale)}): "
              "run `ragcomm index`", file=sys.stderr)
    return Retriever(index, settings=settings)


def cmd_search(args) -> int:
    if (args.question is None) == (args.queries is None):
        raise UsageError("give a question or --queries FILE (one of the two)")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    from .retrieve import check_question

    if args.question is not None:
        check_question(args.question)  # fail before loading anything
    queries = read_queries(args.queries) if args.queries else [{"id": None, "question": args.question}]
    retriever = open_retriever(args)
    filters = filters_from(args)
    failures = 0
    for q in queries:
        try:
            hits = retriever.search(q["question"], k=args.k, mode=args.mode, filters=filters)
        except Exception as exc:  # in batch mode one bad line must not lose the others
            if not args.queries:
                raise
            failures += 1
            row = {"id": q["id"], "question": q["question"], "error": str(exc), "results": []}
            print(json.dumps(row, ensure_ascii=False) if args.json else f"[{q['id']}] error: {exc}")
            continue
        results = [h.to_dict() for h in hits]
        if args.json:
            row = {"question": q["question"], "results": results}
            if args.queries:
                row = {"id": q["id"], **row}
            print(json.dumps(row, ensure_ascii=False))
        else:
            if args.queries:
                print(f"=== [{q['id']}] {q['question']}")
            print_hits(hits)
    if failures:
        print(f"warning: {failures} of {len(queries)} questions failed", file=sys.stderr)
    return 0


def print_hits(hits) -> None:
    if not hits:
        print("no passages found")
    for h in hits:
        place = f"{h.title}" + (f" — {h.section}" if h.section else "")
        print(f"{h.rank}. {place}")
        parts = [f"score {h.score:.4f}"]
        if h.bm25_rank is not None:
            parts.append(f"BM25 #{h.bm25_rank} ({h.bm25_score:.2f})")
        if h.dense_rank is not None:
            parts.append(f"dense #{h.dense_rank} ({h.dense_score:.3f})")
        print(f"   {h.doc_id} [{h.start}:{h.end}] · " + " · ".join(parts))
        print(textwrap.fill(" ".join(h.text.split()), width=100, initial_indent="   ", subsequent_indent="   "))
        print()


COMMANDS = {"index": cmd_index, "search": cmd_search}
