"""The argument parser of every command."""
from __future__ import annotations

import argparse
from pathlib import Path

from .. import serve
from .common import (add_backend_options, add_generator_options, add_paths, add_reader_option, add_retrieval_options,
                     add_search_settings)


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
    serve.add_read_limits(p)

    p = sub.add_parser("search", help="ranked passages for a question, or for a file of questions")
    add_paths(p, model=False)
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--queries", type=Path, help="JSONL file: one {id, question} (or BEIR {_id, text}) per line")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    add_retrieval_options(p)
    add_reader_option(p)
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
    add_reader_option(p)
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
    serve.add_read_limits(p)
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
    p.add_argument("--reader-cache", type=int, help="the launched app's --reader-cache (0: every question read afresh)")
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
    p.add_argument("--rerank", help="passages the reader rereads, comma-separated: 0 (off), 20, ...")
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
    p.add_argument("--calibration", type=Path, help="where --calibrate writes (default: eval/calibration.json); "
                   "with --squad, the abstention model the answerer reads")
    p.add_argument("--documents", action="store_true",
                   help="ingestion of real documents: right passage, evidence cited, page right, header/footer "
                        "text in chunks, contents in top 5 (with --gold eval/realdocs.jsonl --corpus ../shared/realdocs)")
    p.add_argument("--furniture", type=Path, help="--documents: running headers/footers per file (default: "
                   "eval/realdocs-furniture.json)")
    # Answer-level evaluation (eval/answers.py).
    p.add_argument("--answers", action="store_true", help="answer-level evaluation on the gold set (or --gold FILE): "
                   "evidence cited / first, words, abstention")
    p.add_argument("--split", default="all", help="--answers: tune, heldout, all, or calibrate (the half of tune "
                   "no reader learns from) (default all; a question is held out when the SHA-256 of its id is odd)")
    p.add_argument("--answer-grid", help="--answers: variants to compare, NAME=V1,V2;NAME=... (see eval/README.md)")
    p.add_argument("--baseline", type=Path, help="--answers: the --json of an earlier run to test against (paired)")
    p.add_argument("--answers-file", type=Path, help="--answers: score these saved answers instead of answering "
                   "(the output of `ragcomm ask --queries GOLD --json`, e.g. from an older version)")
    p.add_argument("--squad", type=Path, help="--answers on a SQuAD 1.1/2.0-format JSON file (gzipped or not): one "
                   "document per article, indexed with the defaults (cached), every question asked (eval/README.md)")
    p.add_argument("--articles", help="--squad: validation (default: the 8 held-out SQuAD 2.0 articles), train, all, "
                   "or titles separated by commas")
    p.add_argument("--sample", type=int, help="--squad: ask a random sample of this many questions")
    p.add_argument("--seed", type=int, default=0, help="--squad: seed of --sample (default 0)")
    p.add_argument("--abstention-signals", help="--calibrate: the signals the model uses, SIGNAL,SIGNAL,... "
                   "(default: all of answer/abstention.py SIGNALS)")
    p.add_argument("--abstention-l2", help="--calibrate: its L2 weight (default 3)")
    # --answers with a language model beside the extractive answerer (#17)
    add_generator_options(p, stream=False)
    add_reader_option(p)
    p.add_argument("--local-llm", action="store_true", help="--answers: start the bundled SmolLM2-135M server "
                   "on 127.0.0.1 for this run and use it as --generator openai (extra ragcomm[llm])")

    p = sub.add_parser("train-reader", help="train the reader (a cross-encoder) on train/qa/ and the gold tune split, "
                                            "export it to ONNX int8, print its validation figures")
    p.add_argument("--out", type=Path, help="where the trained model and its export go (default reports/reader)")
    p.add_argument("--layers", type=int, default=3, help="transformer layers of MiniLM kept (1-6, default 3)")
    p.add_argument("--max-length", type=int, default=96, help="wordpieces of question + sentence (default 96)")
    p.add_argument("--epochs", type=float, default=2.0, help="passes over the training groups (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on CPUs with AVX-512 BF16)")
    p.add_argument("--chunk", type=int, default=8, help="pairs per forward pass, sorted by length (default 8; 0 = "
                   "the whole batch padded to its longest pair)")
    p.add_argument("--teacher", default="", help="also learn this reader's logits (distillation): default (the "
                   "shipped one), a reader folder, or several joined by commas (their mean)")
    p.add_argument("--distill", type=float, default=1.0, help="weight of the squared gap to the teacher's logits")
    p.add_argument("--limit", type=int, default=0, help="train on this many groups only (a quick trial)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (a quick trial)")
    p.add_argument("--gold", type=Path, help="gold question file (default eval/gold.jsonl)")
    p.add_argument("--in-domain", action="store_true", help="also train on our own questions: the 'train' half of "
                   "the tune split of eval/gold, outside and paraphrases (the 'calibrate' half and the held-out split "
                   "are never learned from)")
    p.add_argument("--in-domain-repeat", type=int, default=5, help="times each in-domain group is trained on")
    p.add_argument("--written", type=int, default=0, metavar="N", help="also train N times on train/questions.jsonl: "
                   "questions over the seed corpus written for training only (none of their positives holds the "
                   "evidence of a held-out or 'calibrate' question); default 0")
    p.add_argument("--written-more", type=int, default=0, metavar="N", help="also train N times on "
                   "train/questions-more.jsonl: a second batch of such questions, new phrasings; default 0")
    p.add_argument("--restate", action="store_true", help="also give each wh-question, restated as a statement "
                   "(\"The added value GPs bring.\"), as a negative: repeating the question is no answer")
    p.add_argument("--protect", choices=("all", "positives"), default="all", help="keep the evidence of held-out and "
                   "'calibrate' questions out of in-domain training as positives and negatives (all, default), or "
                   "only as positives, and for --in-domain only the held-out split's (positives: the rule the shipped "
                   "reader was trained under)")
    p.add_argument("--checkpoints", help="also save the model after these steps, comma-separated (out/step-N)")
    p.add_argument("--per-source", type=int, default=600, help="validation groups checked per public source")
    p.add_argument("--ship", action="store_true", help="install the result as the package's reader (ragcomm/reader/model)")

    p = sub.add_parser("choose", help="the default by the rule of eval/README.md over `ragcomm eval --grid` reports")
    p.add_argument("reports", nargs="+", type=Path, help="one `ragcomm eval --json` report per collection")
    p.add_argument("--tolerance", type=float, default=0.005, help="allowed shortfall against the best single retriever")
    p.add_argument("--margin", type=float, default=0.02, help="lead over the best single retriever that counts as a win")
    p.add_argument("--json", dest="json_out", type=Path, help="write the choice and leave-one-out as JSON")
    p.add_argument("--markdown", type=Path, help="write the table as Markdown")
    return top
