"""Options and helpers shared by the commands."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import serve
from ..backends import VECTOR_BACKENDS
from ..config import Settings
from ..search import DENSE_PRFS, FUSIONS, MODES, PRFS, SENTENCE_MODES, WEIGHTINGS


class UsageError(Exception):
    pass


def log(message: str) -> None:
    """Progress for the person at the terminal: standard error, so --json output stays clean."""
    print(message, file=sys.stderr, flush=True)


def settings_from(args) -> Settings:
    return Settings().replace(
        corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None), chunk_size=getattr(args, "chunk_size", None),
        chunk_overlap=getattr(args, "chunk_overlap", None), bm25_backend=getattr(args, "bm25_backend", None),
        fusion=getattr(args, "fusion", None), embed_backend=getattr(args, "embed_backend", None),
        vector_backend=getattr(args, "backend", None), milvus_uri=getattr(args, "milvus_uri", None),
        milvus_collection=getattr(args, "milvus_collection", None),
        milvus_analyzer=getattr(args, "milvus_analyzer", None), reader=getattr(args, "reader", None),
        **serve.read_limits(args),
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
                "weighting": "weighting", "prf": "prf", "dense_prf": "dense_prf", "sentences": "dense_sentences",
                "rerank": "rerank", "rerank_weight": "rerank_weight"}


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
    p.add_argument("--rerank", type=int, help="the reader rereads the top N passages and reorders them "
                   "(search/rerank.py; default 0, off)")
    p.add_argument("--rerank-weight", type=float, help="weight of the reader's probability against the fused score "
                   "(default 0.5)")
    add_search_settings(p)
    p.add_argument("--doc", action="append", help="only this document id (repeatable)")
    p.add_argument("--source", action="append", help="only this corpus file (repeatable)")
    p.add_argument("--year-from", type=int, help="only documents from this year on (undated ones are kept)")
    p.add_argument("--year-to", type=int, help="only documents up to this year (undated ones are kept)")
    p.add_argument("--exclude-undated", action="store_true",
                   help="with a year range, also leave out documents whose year is unknown")
    p.add_argument("--kind", action="append", help="only this kind of document: abstract, report, paper, web page")


def add_reader_option(p):
    p.add_argument("--reader", default="default", help="the reader that reads the question and each candidate "
                   "sentence together: default (the shipped one), none, or a reader folder (ragcomm train-reader) "
                   "or a sentence-transformers CrossEncoder folder; several joined by commas read as one "
                   "(the mean of their logits, at the cost of all of them)")


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
    from ..index import load_index
    from ..search import Retriever, recorded_settings

    settings = settings_from(args)
    warn_pending(settings)
    index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    if index.stale:
        print(f"warning: the corpus changed since the index was built ({', '.join(index.stale)}): "
              "run `ragcomm index`", file=sys.stderr)
    return Retriever(index, settings=recorded_settings(index, settings).replace(**search_flags(args)))


def warn_pending(settings) -> None:
    """Readers never finish a writer's work (that needs the writer lock): they say it is there."""
    from ..index import describe, pending_operation

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
    from ..search import check_question

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


def report_files(results, verb: str) -> int:
    """One line per file; 0 when none was refused, 1 when some were (the others went ahead)."""
    for r in results:
        print(str(r), file=sys.stdout if r.ok else sys.stderr)
    refused = [r for r in results if not r.ok]
    if refused:
        print(f"{len(results) - len(refused)} of {len(results)} {verb}; {len(refused)} refused (see above)",
              file=sys.stderr)
    return 1 if refused else 0


def write_report(args, data=None, text: str | None = None) -> None:
    """A command's --json (data) and --markdown (text) files, their folders made."""
    for path, content in ((getattr(args, "json_out", None), None if data is None else json.dumps(data, indent=2)),
                          (getattr(args, "markdown", None), None if text is None else text.rstrip("\n") + "\n")):
        if path and content is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
