"""Serving: one argument set and one entry point for `ragcomm serve` and `python app.py`.

    service.py     shared by every front end: access rules, the loaded answerer
    gradio_app.py  the web chat (the only module that imports Gradio)
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--index", type=Path, help="index folder (default ./index)")
    p.add_argument("--corpus", type=Path, help="corpus folder (default ./corpus)")
    p.add_argument("--concurrency", type=int, default=4, help="questions answered at once; others queue (default 4)")
    p.add_argument("--threshold", type=float, help="abstention threshold (default: eval/calibration.json)")
    p.add_argument("--auth-file", type=Path, help="login credentials, one 'user:password' per line "
                   "(or set RAGCOMM_AUTH='user:password'); required to serve beyond this machine")
    p.add_argument("--exposed-without-login", action="store_true",
                   help="serve on a non-loopback address without a login (not recommended)")
    p.add_argument("--max-upload-mb", type=float, default=50,
                   help="largest file the upload endpoint takes, in MB (default 50)")
    p.add_argument("--upload-max-age", type=int, default=600,
                   help="seconds after which temporary uploads are deleted (default 600; all go when the app stops)")
    p.add_argument("--reload-seconds", type=float, default=1.0,
                   help="how often to look for a new index on disk (default 1; 0 = never reload)")


def run(args: argparse.Namespace) -> int:
    """Check access, load the index and the model, and serve the web chat until interrupted."""
    from ..config import Settings
    from .service import Service, check_access, credentials

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        auth = credentials(args.auth_file)
        check_access(args.host, auth, args.exposed_without_login)
        if not 0 < args.max_upload_mb <= 10_000 or args.upload_max_age < 1 or args.reload_seconds < 0:
            raise ValueError("--max-upload-mb must be above 0 (at most 10000), --upload-max-age at least 1 s, "
                             "--reload-seconds 0 or more")
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..index import IndexError_

    settings = Settings().replace(index_dir=args.index, corpus_dir=args.corpus)
    try:
        service = Service(settings, args.threshold, log=lambda m: print(m, file=sys.stderr, flush=True),
                          reload_seconds=args.reload_seconds)
    except (IndexError_, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .gradio_app import launch

    launch(service, args.host, args.port, args.concurrency, auth, args.max_upload_mb, args.upload_max_age)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="The ragcomm web chat.")
    add_arguments(p)
    return run(p.parse_args(argv))
