"""`ragcomm bench` and `load`: speed and load figures."""
from __future__ import annotations

import sys

from .common import UsageError, log, search_flags, settings_from, write_report


def cmd_load(args) -> int:
    from ..bench.load import main_load, report

    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 3600:
        raise UsageError("--clients must be 1-200 and --seconds 1-3600")
    app_args = []
    for flag, value in (("--concurrency", args.concurrency), ("--queue-size", args.queue_size),
                        ("--reader-cache", args.reader_cache)):
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


def cmd_bench(args) -> int:
    from ..bench import perf as bench

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
    from ..bench import scale

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
