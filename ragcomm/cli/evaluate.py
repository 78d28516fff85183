"""`ragcomm eval` (retrieval, answers, calibration, real documents) and `choose`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import home
from .common import UsageError, llm_config, log, settings_from, write_report


def cmd_eval(args) -> int:
    from .. import eval as evaluate
    from ..config import home

    def split(value):
        return [x.strip() for x in value.split(",") if x.strip()] if value else None

    settings = settings_from(argparse.Namespace(**{k: v for k, v in vars(args).items() if k not in (
        "chunk_size", "chunk_overlap", "bm25_backend", "fusion", "dense_weight", "rrf_k", "rerank")}))
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
                sentences=split(args.sentences), reranks=[int(x) for x in split(args.rerank) or []])
        evaluate.check_metric(args.primary)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    log = evaluate.log_stderr
    if args.documents:
        return eval_documents(args, settings)
    if args.answers or args.calibrate or args.squad:
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
        from ..index import IndexError_, load_index

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
    from ..answer import SIGNALS

    unknown = sorted({f for features in feature_sets for f in features if f not in SIGNALS})
    if unknown:
        raise ValueError(f"unknown abstention signal(s) {', '.join(unknown)} (choose from {', '.join(SIGNALS)})")


def eval_answers(args, settings, log) -> int:
    """`ragcomm eval --answers`: the answerer on the gold set's questions (eval/answers.py)."""
    from ..config import home
    from ..eval import answers

    if args.squad:
        return eval_squad(args, settings, log)
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
        if len(feature_sets or []) > 1 or len(l2s or []) > 1:
            raise ValueError("--calibrate fits one model: give one set of signals (SIGNAL,SIGNAL) and one L2 weight")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    baseline = read_baseline(args.baseline)
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
    from ..index import IndexError_, load_index

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
        from ..answer.generate import LLMConfig
        from ..answer.llamacpp import LocalServer

        try:
            local = LocalServer(threads=1).start()
        except (RuntimeError, ImportError) as exc:
            raise UsageError(str(exc)) from None
        llm = LLMConfig(local.url, local.model, timeout=args.llm_timeout)
    generator = None
    if llm is not None:
        from ..answer.generators import get_generator

        def generator(answerer):
            return get_generator("openai", answerer, llm)
    try:
        result = answers.evaluate_gold_answers(gold, settings, split=args.split, grid=grid, prebuilt=prebuilt,
                                               baseline=baseline, log=log, calibration=calibration,
                                               feature_sets=feature_sets, l2s=l2s, generator=generator,
                                               reader=args.reader)
    finally:
        if local is not None:
            local.stop()
    if result.calibration:
        from ..eval.calibrate import operating_table

        print(f"abstention model written to {calibration}; cross-validated on the sets it was fitted on:\n\n"
              + operating_table(result.calibration) + "\n")
    return report_answers(args, result, gold, baseline)


def read_baseline(path):
    """The per-question records of an earlier `eval --answers --json` (None without a path)."""
    from ..eval.answers import report_rows

    if not path:
        return None
    try:
        return report_rows(path)
    except ValueError as exc:
        raise UsageError(f"--baseline {path}: not the --json of `ragcomm eval --answers` ({exc})") from None


def eval_squad(args, settings, log) -> int:
    """`ragcomm eval --answers --squad FILE`: the answerer on a SQuAD-format file (eval/squad.py)."""
    from ..eval import answers, squad, squad_corpus

    other = [flag for flag, given in (("--gold", args.gold), ("--dataset", args.dataset), ("--corpus", args.corpus),
                                      ("--index", args.index), ("--calibrate", args.calibrate),
                                      ("--answers-file", args.answers_file),
                                      ("--generator", args.generator != "extractive"), ("--llm-url", args.llm_url),
                                      ("--local-llm", args.local_llm)) if given]
    if other:
        raise UsageError(f"--squad builds its own corpus and index from the file: {', '.join(other)} cannot be used "
                         "with it (it takes --articles, --sample, --seed, --answer-grid, --baseline, --calibration, --reader, --json)")
    if args.sample is not None and args.sample < 1:
        raise UsageError("--sample must be at least 1")
    if args.calibration and not args.calibration.is_file():
        raise UsageError(f"--calibration {args.calibration}: no such file")
    try:
        grid = answers.parse_grid(args.answer_grid, answers.GRID_PARAMETERS)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    baseline = read_baseline(args.baseline)
    try:
        result = squad.evaluate_squad(args.squad, settings, articles=args.articles, sample=args.sample,
                                      seed=args.seed, calibration=args.calibration, baseline=baseline, log=log,
                                      reader=args.reader, grid=grid)
    except squad_corpus.SquadError as exc:
        raise UsageError(str(exc)) from None
    text = squad.squad_report(result)
    print(text)
    write_report(args, result.to_json(), text)
    return 0


def report_answers(args, result, gold, baseline) -> int:
    from ..eval import answers

    title = f"Answers: {gold}, split {args.split}"
    text = answers.answers_table(result.runs, title, "baseline" if baseline else "")
    print(text)
    for note in result.notes:
        print(f"note: {note}")
    write_report(args, result.to_json(), text)
    return 0


def eval_documents(args, settings) -> int:
    from ..config import home
    from ..eval.documents import evaluate_documents, markdown

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
    from ..eval import choose

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


def cmd_train_reader(args) -> int:
    from ..eval.reader import train_command
    from ..reader.train import TrainConfig

    if not 1 <= args.layers <= 6:
        raise UsageError("--layers must be 1-6 (MiniLM has 6)")
    if args.max_length < 16:
        raise UsageError("--max-length must be at least 16")
    if args.chunk < 0:
        raise UsageError("--chunk must be 0 (one padded batch) or more")
    if args.written < 0 or args.written_more < 0:
        raise UsageError("--written and --written-more must be 0 or more")
    config = TrainConfig(layers=args.layers, max_length=args.max_length, epochs=args.epochs, seed=args.seed,
                         limit=args.limit, max_steps=args.max_steps, threads=args.threads, bf16=args.bf16, chunk=args.chunk,
                         teacher=args.teacher, distill=args.distill,
                         checkpoints=tuple(int(x) for x in (args.checkpoints or "").split(",") if x.strip()))
    train_command(args.out, config, args.gold or home() / "eval" / "gold.jsonl", args.ship, gold=args.in_domain,
                  per_source=args.per_source, log=log, repeat=args.in_domain_repeat, written=args.written,
                  protect_all=args.protect == "all", written_more=args.written_more, restate=args.restate)
    return 0
