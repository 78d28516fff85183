"""What every front end shares (the Gradio chat now, a REST API next): access rules, the
checks of what a request may hold, and one `Service` over the index: ask, search, the
documents indexed. Front ends call the Service, never the index or the answerer directly,
so that what they serve is the same everywhere.

The Service follows the index on disk: a watcher notices when the index folder was swapped
(a build, `ragcomm add`, `ragcomm remove`), loads the new one beside the one in use, and
swaps the two at once; each question is answered from the one version it started with
(`Answer.index` says which). An index that fails to load never replaces a good one: the
Service keeps serving the previous version and logs why.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..answer import Answerer
from ..config import Settings
from ..index import IndexError_, open_index
from ..index.store import folder_identity, load_index
from ..search import MODES, QueryError, Retriever, check_filters, check_question
from ..types import Answer, Hit

MAX_K = 100
log = logging.getLogger("ragcomm.service")


def is_loopback(host: str) -> bool:
    """Whether an address is this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    return host in ("localhost", "::1") or host.startswith("127.")


def credentials(auth_file: Path | None) -> list[tuple[str, str]]:
    """Logins from --auth-file or RAGCOMM_AUTH ('user:password', several separated by
    commas or lines); never from the repository."""
    text = os.environ.get("RAGCOMM_AUTH", "")
    if auth_file:
        try:
            text = Path(auth_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"--auth-file {auth_file}: no such file") from None
        except IsADirectoryError:
            raise ValueError(f"--auth-file {auth_file} is a folder, not a file of logins") from None
        except UnicodeDecodeError:
            raise ValueError(f"--auth-file {auth_file} is not UTF-8 text") from None
        except OSError as exc:
            raise ValueError(f"--auth-file {auth_file}: {exc.strerror or exc}") from None
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


class LoginThrottle:
    """Failed logins counted per key (a user name, a client address): after `free` failures
    within `window` seconds, the key is refused for a delay that doubles with each further
    failure, up to `max_delay`; a success clears it. In-process, thread-safe.

    >>> t = LoginThrottle(free=2, window=60, max_delay=30, clock=lambda: 0.0)
    >>> for _ in range(3): t.failed("eve")
    >>> t.wait("eve"), t.wait("ann")
    (2.0, 0.0)
    """

    def __init__(self, free: int = 5, window: float = 900, max_delay: float = 300, clock=None):
        self.free, self.window, self.max_delay = free, window, max_delay
        self.clock = clock or time.monotonic
        self._failures: dict = {}  # key -> [times of recent failures]
        self._lock = threading.Lock()

    def wait(self, key) -> float:
        """Seconds before this key may try again (0: now)."""
        with self._lock:
            now = self.clock()
            times = [t for t in self._failures.get(key, []) if now - t < self.window]
            self._failures[key] = times
            if len(times) <= self.free:
                return 0.0
            delay = min(self.max_delay, 2.0 ** (len(times) - self.free))
            return max(0.0, times[-1] + delay - now)

    def failed(self, key) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(self.clock())
            if len(self._failures) > 10_000:  # bounded memory under a spray of names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key) -> None:
        with self._lock:
            self._failures.pop(key, None)


def login_checker(pairs: list[tuple[str, str]], throttle: LoginThrottle):
    """`check(user, password) -> bool` for a login form: constant-time comparison, and a user
    with too many recent failures is refused (even with the right password) until the delay passes."""
    import hmac

    accounts = dict(pairs)

    def check(user: str, password: str) -> bool:
        key = ("user", user)
        wait = throttle.wait(key)
        if wait:
            log.warning("login for %r refused: too many failed attempts, %.0f s to wait", user[:64], wait)
            return False
        expected = accounts.get(user, "")
        ok = user in accounts and hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8"))
        (throttle.succeeded if ok else throttle.failed)(key)
        if not ok:
            log.warning("failed login for %r", user[:64])
        return ok

    return check


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


# ---------------------------------------------------------------- what a request may hold

def check_k(k) -> int:
    """The number of passages: a whole number from 1 to MAX_K (a numeric string or 5.0 will do).

    >>> check_k("3"), check_k(4.0)
    (3, 4)
    """
    value = k
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, not {str(k)[:40]!r}")
    return value


def check_mode(mode) -> str | None:
    if mode in (None, ""):
        return None
    if not isinstance(mode, str) or mode not in MODES:
        raise QueryError(f"mode must be one of {', '.join(MODES)}, not {str(mode)[:40]!r}")
    return mode


def check_history(history) -> list[str]:
    """Earlier questions of the conversation, oldest first: a list of text (blank ones dropped)."""
    if history in (None, ""):
        return []
    if not isinstance(history, (list, tuple)) or not all(isinstance(h, str) for h in history):
        raise QueryError("history must be a list of the earlier questions (text), oldest first")
    return [check_question(h) for h in history if h.strip()]


# ---------------------------------------------------------------- the service

@dataclass
class Version:
    """One loaded version of the index and the answerer over it."""
    answerer: Answerer
    identity: tuple | None  # store.folder_identity when it was loaded

    @property
    def index(self):
        return self.answerer.retriever.index


class Service:
    """The answerer over the index, shared by every front end, following the index on disk
    (checked every `reload_seconds`, and at once when a request notices a change; 0: never)."""

    def __init__(self, settings: Settings, threshold: float | None = None, log=print, reload_seconds: float = 1.0):
        self.settings = settings
        self.log = log
        identity = folder_identity(settings.index_dir)
        self._current = Version(load_answerer(settings, threshold, log=log), identity)
        self._failed: tuple | None = None  # the identity of an index that did not load
        self.reload_error: str | None = None
        self._reloading = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.reload_seconds = reload_seconds
        if reload_seconds:
            threading.Thread(target=self._watch, daemon=True, name="index-watcher").start()

    @property
    def answerer(self) -> Answerer:
        return self._current.answerer

    @property
    def index(self):
        return self._current.index

    @property
    def generation(self) -> int:
        return self._current.index.generation

    def status(self) -> dict:
        """The index being served (generation, built_at, documents, chunks) and the last reload error."""
        return {**self._current.index.info, "reload_error": self.reload_error}

    def _changed(self) -> tuple | None:
        identity = folder_identity(self.settings.index_dir)
        if identity is None or identity in (self._current.identity, self._failed):
            return None
        return identity

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.reload_seconds)
            self._wake.clear()
            try:
                self.refresh()
            except Exception:  # the watcher must outlive anything a reload throws
                log.exception("index reload failed")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()

    def refresh(self) -> bool:
        """Load the index on disk if it is not the one served, and swap it in; True if it was.
        A broken or half-written index is not swapped in: the current one stays, and why is logged."""
        if self._changed() is None or not self._reloading.acquire(blocking=False):
            return False
        try:
            identity = self._changed()
            if identity is None:
                return False
            current = self._current
            try:
                index = load_index(self.settings.index_dir)
            except IndexError_ as exc:
                self._failed, self.reload_error = identity, str(exc)
                self.log(f"index reload failed, still serving generation {current.index.generation}: {exc}")
                return False
            old = current.answerer
            same_model = (index.model_id, index.embed_backend) == (old.retriever.index.model_id,
                                                                   old.retriever.index.embed_backend)
            answerer = Answerer(Retriever(index, embedder=old.embedder if same_model else None,
                                          settings=self.settings), threshold=old.threshold)
            answerer.embedder.encode_query("warm up")
            answerer.reuse_sentences(old)
            version = Version(answerer, identity)
            self._current = version  # one assignment: each question sees one version, the old or the new
            self._failed, self.reload_error = None, None
            threading.Thread(target=self._warm, args=(version,), daemon=True, name="warm-sentences").start()
            i = index.info
            self.log(f"serving index generation {i['generation']} (built {i['built_at']}): "
                     f"{i['documents']} documents, {i['chunks']} chunks")
            return True
        finally:
            self._reloading.release()

    def _warm(self, version: Version, batch: int = 8) -> None:
        """Embed the new passages' sentences in the background, until a newer version takes over."""
        n = len(version.index.chunks)
        for start in range(0, n, batch):
            if self._current is not version:
                return
            version.answerer.sentences(list(range(start, min(n, start + batch))))

    def _version(self) -> Version:
        if self.reload_seconds and self._changed() is not None:
            self._wake.set()  # reload now rather than at the next tick
        return self._current

    def ask(self, question: str, k: int = 5, mode: str | None = None, history: list[str] | None = None,
            filters: dict | None = None, filter_names: dict | None = None) -> Answer:
        """An answer from one version of the index; QueryError for anything a request got wrong
        (`filter_names`: the front end's names of the filters, for those messages)."""
        question, k, mode = check_question(question), check_k(k), check_mode(mode)
        history, filters = check_history(history), check_filters(filters, filter_names)
        version = self._version()
        answer = version.answerer.ask(question, k=k, mode=mode, history=history, filters=filters)
        answer.index = version.index.info
        return answer

    def search(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None) -> list[Hit]:
        question, k, mode, filters = check_question(question), check_k(k), check_mode(mode), check_filters(filters)
        return self._version().answerer.retriever.search(question, k=k, mode=mode, filters=filters)

    def documents(self) -> list[dict]:
        """Each indexed document: doc_id, title, source, year, kind (sorted by title)."""
        docs = [{"doc_id": doc_id, "title": d["title"], "source": d["source"], "year": d["metadata"].get("year"),
                 "kind": d["metadata"].get("kind")} for doc_id, d in self._version().index.documents.items()]
        return sorted(docs, key=lambda d: d["title"].lower())
