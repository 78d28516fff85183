"""What every front end shares (the Gradio chat now, a REST API next): access rules and one
loaded, warmed answerer over the index."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from ..answer import Answerer
from ..config import Settings
from ..index import open_index
from ..search import Retriever


def is_loopback(host: str) -> bool:
    """Whether an address is this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    return host in ("localhost", "::1") or host.startswith("127.")


def credentials(auth_file: Path | None) -> list[tuple[str, str]]:
    """Logins from --auth-file or RAGCOMM_AUTH ('user:password', several separated by
    commas or lines); never from the repository."""
    text = auth_file.read_text(encoding="utf-8") if auth_file else os.environ.get("RAGCOMM_AUTH", "")
    pairs = []
    for item in text.replace(",", "\n").splitlines():
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        user, sep, password = item.partition(":")
        if not sep or not user or len(password) < 8:
            raise ValueError("credentials must be 'user:password' with a password of at least 8 characters")
        pairs.append((user, password))
    return pairs


def check_access(host: str, auth: list, exposed_without_login: bool) -> None:
    """ValueError when asked to serve beyond this machine without a login."""
    if not is_loopback(host) and not auth and not exposed_without_login:
        raise ValueError(f"refusing to serve on {host} without a login: set RAGCOMM_AUTH='user:password' or "
                         "pass --auth-file FILE (or, knowingly, --exposed-without-login)")


def load_answerer(settings: Settings, threshold: float | None = None, log=print) -> Answerer:
    """The index (built first when missing or stale), its answerer with the model loaded, and
    the passages' sentence vectors warming in the background."""
    index = open_index(settings, log=log)
    answerer = Answerer(Retriever(index, settings=settings), threshold=threshold)
    answerer.embedder.encode_query("warm up")  # load the model before the first question
    threading.Thread(target=answerer.warm, daemon=True, name="warm-sentences").start()
    return answerer
