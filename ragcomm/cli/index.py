"""`ragcomm index`, `add`, `remove`, `status`: building and changing the index."""
from __future__ import annotations

import json
import time

from ..config import Settings
from .common import UsageError, log, report_files, search_flags, settings_from


def cmd_index(args) -> int:
    from ..index import IndexError_, read_manifest, update_index, vector_backend

    settings = settings_from(args)
    if not settings.corpus_dir.is_dir():
        raise UsageError(f"corpus folder not found: {settings.corpus_dir}")
    flags = search_flags(args)
    try:  # search settings: the defaults, then what the index recorded, then the flags
        recorded = read_manifest(settings.index_dir).get("retrieval") or {}
    except IndexError_:
        recorded = None
    settings = settings.replace(**{**(recorded or {}), **flags})
    from ..search import QueryError, check_retrieval_settings

    try:
        check_retrieval_settings(settings)
    except QueryError as exc:
        raise UsageError(str(exc)) from None
    default = Settings().retrieval()
    same_search = all((recorded or {}).get(k, default[k]) == v for k, v in settings.retrieval().items())
    rebuild = args.rebuild or not same_search  # other search settings to record: build
    t = time.perf_counter()
    if getattr(args, "ray", None) is not None:
        from ..embed.ray import RayEmbedder, ray_cluster

        if args.ray_actors < 1:
            raise UsageError("--ray-actors must be at least 1")
        with ray_cluster(args.ray or None, actors=args.ray_actors, log=log):
            embedder = RayEmbedder(settings.model, settings.embed_backend, actors=args.ray_actors)
            index, built = update_index(settings, rebuild=rebuild, log=log, progress=not args.no_progress,
                                        embedder=embedder, keep_search=False, fresh=args.rebuild)
    else:  # the search settings were decided above (recorded, then the flags)
        index, built = update_index(settings, rebuild=rebuild, log=log, progress=not args.no_progress,
                                    keep_search=False, fresh=args.rebuild)
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


def cmd_add(args) -> int:
    from ..index import add_documents

    settings = settings_from(args)
    results, index = add_documents(args.files, settings, replace=args.replace, log=log,
                                   progress=not args.no_progress)
    code = report_files(results, "files added")
    print(f"index generation {index.generation}: {len(index.documents)} documents, {len(index.chunks)} chunks")
    return code


def cmd_remove(args) -> int:
    from ..index import remove_documents

    settings = settings_from(args)
    results, index = remove_documents(args.targets, settings, log=log, progress=not args.no_progress)
    code = report_files(results, "removed")
    print(f"index generation {index.generation}: {len(index.documents)} documents, {len(index.chunks)} chunks")
    return code


def cmd_status(args) -> int:
    from ..index import describe, pending_operation, read_manifest, stale_files, vector_backend

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
