"""What every front end shares (the Gradio chat now, a REST API next): access rules and one
`Service` over the index: ask, search, the documents indexed. Front ends call the Service,
never the index or the answerer directly, so that what they serve is the same everywhere."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from ..answer import Answerer
from ..config import Settings
from ..index import open_index
from ..search import Retriever, recorded_settings
from ..types import Answer, Hit


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
    # the search settings the index recorded (`ragcomm index --fusion ...`), else the defaults
    answerer = Answerer(Retriever(index, settings=recorded_settings(index, settings)), threshold=threshold)
    answerer.embedder.encode_query("warm up")  # load the model before the first question
    threading.Thread(target=answerer.warm, daemon=True, name="warm-sentences").start()
    return answerer


class Service:
    """The answerer over the index, shared by every front end."""

    def __init__(self, settings: Settings, threshold: float | None = None, log=print):
        self.settings = settings
        self.answerer = load_answerer(settings, threshold, log=log)

    @property
    def index(self):
        return self.answerer.retriever.index

    def ask(self, question: str, k: int = 5, mode: str | None = None, history: list[str] | None = None,
            filters: dict | None = None) -> Answer:
        return self.answerer.ask(question, k=k, mode=mode, history=history, filters=filters)

    def search(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None) -> list[Hit]:
        return self.answerer.retriever.search(question, k=k, mode=mode, filters=filters)

    def documents(self) -> list[dict]:
        """Each indexed document: doc_id, title, source, year, kind (sorted by title)."""
        docs = [{"doc_id": doc_id, "title": d["title"], "source": d["source"], "year": d["metadata"].get("year"),
                 "kind": d["metadata"].get("kind")} for doc_id, d in self.index.documents.items()]
        return sorted(docs, key=lambda d: d["title"].lower())
