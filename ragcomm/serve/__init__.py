"""Serving: one argument set and one entry point for `ragcomm serve` and `python app.py`.
One process (uvicorn) serves the REST API under /api and the web chat at /.

    access.py      who may use it: loopback by default, logins, failed logins throttled
    service.py     shared by every front end: the loaded answerer, updates
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

from ..reader.cache import READER_CACHE


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--index", type=Path, help="index folder (default ./index)")
    p.add_argument("--corpus", type=Path, help="corpus folder (default ./corpus)")
    p.add_argument("--concurrency", type=int, default=4, help="questions answered at once; others queue (default 4)")
    p.add_argument("--threshold", type=float, help="abstention threshold (default: eval/calibration.json)")
    p.add_argument("--reader", default="default", help="the reader that reads the question and each candidate "
                   "sentence together: default (the shipped one), none, or a reader or CrossEncoder folder")
    p.add_argument("--reader-cache", type=int, default=READER_CACHE, help="(question, sentence) pairs whose reader "
                   f"scores are remembered, so a question asked again is not read again (default {READER_CACHE}; 0 = none). "
                   "Under many users at once, RAGCOMM_ONNX_THREADS=1 serves more questions per second "
                   "(docs/PERFORMANCE.md)")
    p.add_argument("--auth-file", type=Path, help="login credentials, one 'user:password' per line "
                   "(or set RAGCOMM_AUTH='user:password'); required to serve beyond this machine")
    p.add_argument("--exposed-without-login", action="store_true",
                   help="serve on a non-loopback address without a login (not recommended)")
    p.add_argument("--queue-size", type=int, default=256,
                   help="chat requests waiting at once; beyond it a request is refused as busy (default 256)")
    p.add_argument("--max-upload-mb", type=int, default=50, help="largest file to upload in the page or API (MB)")
    p.add_argument("--upload-max-age", type=int, default=600,
                   help="seconds after which temporary uploads are deleted (default 600; all go when the app stops)")
    p.add_argument("--reload-seconds", type=float, default=1.0,
                   help="how often to look for a new index on disk (default 1; 0 = never reload)")
    p.add_argument("--history-db", type=Path,
                   help="SQLite file of logged-in users' conversations (default: conversations.sqlite3 beside the index)")
    # generated answers (#17): offered in the chat's Options and the API, extractive by default
    add_llm_options(p, "openai: also offer answers written by a language model at --llm-url, each sentence "
                    "checked against its source (a switch in Options, off by default; \"generator\" in /api/ask)")
    add_read_limits(p)


def add_read_limits(p: argparse.ArgumentParser) -> None:
    """What reading one file may cost (ingest/readers/budget.py): for serve, index and add."""
    from ..config import Settings

    d = Settings()
    g = p.add_argument_group("reading limits, per file (a file over one is refused, naming it)")
    g.add_argument("--max-expanded-mb", type=int, help="MB a DOCX, XLSX, PPTX, ODT or a PDF's streams may inflate "
                   f"to (default {d.max_expanded_mb})")
    g.add_argument("--max-pages", type=int, help=f"pages or slides (default {d.max_pages})")
    g.add_argument("--max-cells", type=int, help=f"spreadsheet and table cells, paragraphs (default {d.max_cells})")
    g.add_argument("--max-text-chars", type=int, help=f"characters of text (default {d.max_text_chars})")
    g.add_argument("--max-read-seconds", type=float, help=f"seconds to read it (default {d.max_read_seconds:g})")
    g.add_argument("--max-read-memory-mb", type=int, help="MB of memory the reading process may use "
                   f"(default {d.max_read_memory_mb})")


READ_LIMITS = ("max_expanded_mb", "max_pages", "max_cells", "max_text_chars", "max_read_seconds", "max_read_memory_mb")


def read_limits(args: argparse.Namespace) -> dict:
    """The reading limits given on the command line, as Settings fields; ValueError for one below 1."""
    given = {name: getattr(args, name, None) for name in READ_LIMITS}
    for name, value in given.items():
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if given["max_read_memory_mb"] is not None and given["max_read_memory_mb"] < 256:
        raise ValueError("--max-read-memory-mb must be at least 256 (the reading process itself needs about 160 MB)")
    return {k: v for k, v in given.items() if v is not None}


def add_llm_options(p: argparse.ArgumentParser, generator_help: str) -> None:
    """--generator and the language model's endpoint (its key only from RAGCOMM_LLM_API_KEY);
    shared by `serve`, `ask` and `eval --answers`."""
    p.add_argument("--generator", choices=["extractive", "openai"], default="extractive", help=generator_help)
    p.add_argument("--llm-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (key: set "
                   "RAGCOMM_LLM_API_KEY)")
    p.add_argument("--llm-model", help="the endpoint's model name")
    p.add_argument("--llm-timeout", type=float, default=60.0,
                   help="seconds the model may take for a whole answer (default 60)")


def llm_config(args: argparse.Namespace):
    """The LLMConfig of --generator openai --llm-url --llm-model, or None; ValueError when incomplete."""
    if args.generator != "openai":
        if args.llm_url or args.llm_model:
            raise ValueError("--llm-url and --llm-model go with --generator openai")
        return None
    if not args.llm_url or not args.llm_model:
        raise ValueError("--generator openai needs --llm-url and --llm-model")
    from ..answer.generate import LLMConfig

    return LLMConfig(args.llm_url, args.llm_model, timeout=args.llm_timeout)


def run(args: argparse.Namespace) -> int:
    """Check access, load the index and the model, and serve the web chat until interrupted."""
    from ..config import Settings
    from .access import check_access, credentials
    from .service import Service

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        auth = credentials(args.auth_file)
        check_access(args.host, auth, args.exposed_without_login)
        if not 0 < args.max_upload_mb <= 10_000 or args.upload_max_age < 1 or args.reload_seconds < 0 \
                or not 0 <= args.reader_cache <= 10_000_000:
            raise ValueError("--max-upload-mb must be above 0 (at most 10000), --upload-max-age at least 1 s, "
                             "--reload-seconds 0 or more, --reader-cache 0 to 10000000")
        llm = llm_config(args)
        limits = read_limits(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..index import IndexError_

    settings = Settings().replace(index_dir=args.index, corpus_dir=args.corpus, **limits)
    try:
        service = Service(settings, args.threshold, log=lambda m: print(m, file=sys.stderr, flush=True),
                          reader=getattr(args, "reader", "default"), reader_cache=args.reader_cache,
                          reload_seconds=args.reload_seconds, llm=llm)
    except (IndexError_, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if llm is not None:
        print(f"generated answers offered (off by default): {llm.model} at {llm.shown_url}", file=sys.stderr,
              flush=True)
    import os
    import shutil
    import signal

    from .gradio_app import upload_folder

    uploads = upload_folder()  # Gradio's uploads land here; deleted when the server stops
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    try:
        app = create(service, auth, args)
        import uvicorn

        Server = _server_class()

        print(f"serving the chat on http://{args.host}:{args.port}/ and the API on "
              f"http://{args.host}:{args.port}/docs", file=sys.stderr, flush=True)
        # uvicorn stops gracefully on SIGTERM, then raises it again: let that end here, cleaning up
        signal.signal(signal.SIGTERM, stopped)
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                                timeout_keep_alive=30, timeout_graceful_shutdown=10)
        Server(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        service.close()
        stop_workers()
        shutil.rmtree(uploads, ignore_errors=True)
    return 0


def stop_workers() -> None:
    from ..ingest.worker import stop_workers

    stop_workers()


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, which first stops any file being read (an upload in a worker
        process) when told to exit: the request waiting for it is refused at once, so that
        the graceful shutdown does not wait for a slow or hostile file."""

        def handle_exit(self, sig, frame):
            stop_workers()
            super().handle_exit(sig, frame)

    return Server


def stopped(*_):
    raise KeyboardInterrupt


def create(service, auth: list, args: argparse.Namespace):
    """The one ASGI app: the REST API, then the chat mounted at / (routes match in that order)."""
    from .access import LoginThrottle, LoginThrottleMiddleware, is_loopback, login_checker
    from .gradio_app import mount
    from .history import History
    from .rest import create_app

    chat = {}  # the mounted chat, for the REST routes to accept its login cookie
    manage = is_loopback(args.host) or bool(auth)
    max_upload = min(args.max_upload_mb, 200) * 2**20
    throttle = LoginThrottle()  # failed logins, per user (login_checker) and per address (the middleware)
    check = login_checker(auth, throttle) if auth else None
    app = create_app(service, auth, session_user=lambda request: chat["app"].session_user(request),
                     manage_documents=manage, max_upload_bytes=max_upload, check_login=check)
    app.add_middleware(LoginThrottleMiddleware, throttle=throttle)
    db = args.history_db or Path(service.settings.index_dir).resolve().parent / "conversations.sqlite3"
    history = History(db) if auth else None
    chat["app"] = mount(app, service, check, concurrency=args.concurrency, queue_size=args.queue_size,
                        history=history, manage_documents=manage, max_upload_bytes=max_upload,
                        upload_max_age=getattr(args, "upload_max_age", 600))
    return app


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="The ragcomm web chat.")
    add_arguments(p)
    return run(p.parse_args(argv))
