"""Serving: one argument set and one entry point for `ragcomm serve` and `python app.py`.
One process (uvicorn) serves the REST API under /api and the web chat at /.

    service.py     shared by every front end: access rules, the loaded answerer, updates
    rest.py        the REST API (FastAPI; OpenAPI docs at /docs)
    gradio_app.py  the web chat (the only module that imports Gradio), mounted beside it
    view.py        answers as HTML cards, plain text and Markdown; export.py: Markdown and Word
    history.py     conversations kept per user on the server (SQLite), when there is a login
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
    p.add_argument("--queue-size", type=int, default=256,
                   help="chat requests waiting at once; beyond it a request is refused as busy (default 256)")
    p.add_argument("--max-upload-mb", type=int, default=50, help="largest file to upload in the page or API (MB)")
    p.add_argument("--history-db", type=Path,
                   help="SQLite file of logged-in users' conversations (default: conversations.sqlite3 beside the index)")


def run(args: argparse.Namespace) -> int:
    """Check access, load the index and the model, and serve the web chat until interrupted."""
    from ..config import Settings
    from .service import Service, check_access, credentials

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        auth = credentials(args.auth_file)
        check_access(args.host, auth, args.exposed_without_login)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = Settings().replace(index_dir=args.index, corpus_dir=args.corpus)
    service = Service(settings, args.threshold, log=lambda m: print(m, file=sys.stderr, flush=True))
    app = create(service, auth, args)
    import uvicorn

    print(f"serving the chat on http://{args.host}:{args.port}/ and the API on http://{args.host}:{args.port}/docs",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, timeout_keep_alive=30)
    return 0


def create(service, auth: list, args: argparse.Namespace):
    """The one ASGI app: the REST API, then the chat mounted at / (routes match in that order)."""
    from .gradio_app import mount
    from .history import History
    from .rest import create_app
    from .service import is_loopback

    chat = {}  # the mounted chat, for the REST routes to accept its login cookie
    manage = is_loopback(args.host) or bool(auth)
    max_upload = min(args.max_upload_mb, 200) * 2**20
    app = create_app(service, auth, session_user=lambda request: chat["app"].session_user(request),
                     manage_documents=manage, max_upload_bytes=max_upload)
    db = args.history_db or Path(service.settings.index_dir).resolve().parent / "conversations.sqlite3"
    history = History(db) if auth else None
    chat["app"] = mount(app, service, auth, concurrency=args.concurrency, queue_size=args.queue_size,
                        history=history, manage_documents=manage, max_upload_bytes=max_upload)
    return app


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="The ragcomm web chat.")
    add_arguments(p)
    return run(p.parse_args(argv))
