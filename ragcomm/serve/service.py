"""What every front end shares (the Gradio chat now, a REST API next): access rules and one
`Service` over the index: ask, search, the documents indexed. Front ends call the Service,
never the index or the answerer directly, so that what they serve is the same everywhere."""
from __future__ import annotations

import os
import re
import threading
import time
from datetime import datetime, timezone
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
    threading.Thread(target=warm, args=(answerer,), daemon=True, name="warm-sentences").start()
    return answerer


def warm(answerer: Answerer) -> None:
    answerer.warm()
    answerer.warmed = True  # read by Service.status(): the load test waits for it


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
        """Each indexed document: doc_id, title, source, year, kind, pages (where known),
        added (when its file arrived in the corpus) (sorted by title)."""
        index = self.index
        pages = {}
        for c in index.chunks:
            if c.page_end:
                pages[c.doc_id] = max(pages.get(c.doc_id, 0), c.page_end)
        added = {}
        docs = []
        for doc_id, d in index.documents.items():
            source = d["source"]
            if source not in added:
                added[source] = file_date(Path(self.settings.corpus_dir) / source)
            docs.append({"doc_id": doc_id, "title": d["title"], "source": source, "year": d["metadata"].get("year"),
                         "kind": d["metadata"].get("kind"), "pages": d["metadata"].get("pages") or pages.get(doc_id),
                         "added": added[source]})
        return sorted(docs, key=lambda d: d["title"].lower())

    # ------------------------------------------------------------ filters, in words (#15)

    def filter_summary(self, filters: dict | None) -> dict:
        """How many documents a set of filters keeps, and why the others are left out:
        {"total", "searched", "excluded": {"document"|"year"|"kind"|...: n}, "undated_kept", "text"}."""
        from ..search.filters import document_passes

        filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [], ())}
        docs = self.index.documents
        ranged = "year_from" in filters or "year_to" in filters
        keep = [doc_id for doc_id, d in docs.items() if document_passes(doc_id, d, filters)]
        excluded = {}
        for name, keys in (("document", ("doc_id", "source")), ("year", ("year_from", "year_to")),
                           ("kind", ("kind",))):
            one = {k: filters[k] for k in keys if k in filters}
            if not one:
                continue
            if name == "year":
                one["include_undated"] = filters.get("include_undated", False)
            excluded[name] = sum(not document_passes(doc_id, d, one) for doc_id, d in docs.items())
        undated = sum(1 for doc_id in keep if docs[doc_id]["metadata"].get("year") is None) if ranged else 0
        return {"total": len(docs), "searched": len(keep), "excluded": excluded, "undated_kept": undated,
                "text": describe_filters(filters, len(docs), len(keep), excluded, undated)}

    # ------------------------------------------------------------ documents and their text (#15)

    def document_text(self, doc_id: str) -> str | None:
        """A document's cleaned text, pieced together from its indexed chunks at their own
        offsets (so citation offsets point into it); gaps between chunks become blank lines.
        None for an unknown document."""
        chunks = [c for c in self.index.chunks if c.doc_id == doc_id]
        if not chunks:
            return None
        text = [" "] * max(c.end for c in chunks)
        covered = [False] * len(text)
        for c in chunks:
            text[c.start:c.end] = c.text
            covered[c.start:c.end] = [True] * (c.end - c.start)
        for i in range(1, len(text)):  # a gap between chunks reads as a paragraph break
            if not covered[i] and covered[i - 1]:
                text[i] = "\n"
        return "".join(text)

    def titles(self, doc_ids) -> dict:
        """{doc_id: the title to show}: the document's title, or for a record of a result listing
        that carries no article title ("BMJ Open 2019 (PMID ...)"), the opening of its abstract."""
        out = {}
        for doc_id in dict.fromkeys(doc_ids):
            d = self.index.documents.get(doc_id)
            if d is None:
                continue
            meta = d["metadata"]
            title = meta.get("article_title") or d["title"]
            if "record" in meta and not meta.get("article_title"):
                first = next((c for c in self.index.chunks if c.doc_id == doc_id and c.start == 0), None)
                title = headline(first.text) if first else title
            out[doc_id] = title
        return out

    def source_path(self, source: str) -> Path | None:
        """The original file of an indexed document, only from inside the corpus folder."""
        sources = {d["source"] for d in self.index.documents.values()}
        if source not in sources:
            return None
        corpus = Path(self.settings.corpus_dir).resolve()
        path = (corpus / source).resolve()
        if not path.is_relative_to(corpus) or not path.is_file():
            return None
        return path


    # ------------------------------------------------------------ adding and removing documents (#15)
    # One update at a time, in a background thread: the files are checked and copied into the
    # corpus (or moved out of it) at once, then the index is rebuilt (only new text is
    # embedded) and the answerer swapped for one over the new index; questions asked meanwhile
    # are answered from the old one.

    job: dict | None = None  # the latest update: {"id", "action", "files", "state", "message", "started", "finished"}
    _job_lock = threading.Lock()

    def add_documents(self, files: list[Path], replace: bool = False) -> dict:
        """Check and copy files into the corpus, then index them in the background; the job.
        CorpusError (nothing copied) for an unsupported, unreadable or clashing file."""
        from ..ingest import add_files

        with self._job_lock:
            self._refuse_if_busy()
            added = add_files(files, self.settings.corpus_dir, replace=replace)
            return self._start_job("add", [p.name for p in added])

    def remove_documents(self, targets: list[str]) -> dict:
        """Move the files behind doc_ids or file names out of the corpus (into corpus/.removed/),
        then update the index in the background; the job. CorpusError for an unknown target."""
        from ..ingest import remove_targets

        with self._job_lock:
            self._refuse_if_busy()
            moved = remove_targets(targets, self.settings.corpus_dir, self.settings.index_dir)
            return self._start_job("remove", [src.name for src, _ in moved])

    def status(self) -> dict:
        """The index (documents, chunks, when built, files changed since) and the latest update."""
        m = self.index.manifest
        return {"documents": len(self.index.documents), "chunks": len(self.index.chunks),
                "files": m.get("counts", {}).get("files"), "built_at": m.get("built_at"),
                "stale": list(self.index.stale), "job": dict(self.job) if self.job else None,
                "warmed": getattr(self.answerer, "warmed", False)}

    def _refuse_if_busy(self) -> None:
        from ..ingest import CorpusError

        if self.job and self.job["state"] == "running":
            raise CorpusError(f"an update is already running ({self.job['action']} "
                              f"{', '.join(self.job['files'])}): wait for it to finish")

    def _start_job(self, action: str, files: list[str]) -> dict:
        self.job = {"id": f"{int(time.time() * 1000)}", "action": action, "files": files, "state": "running",
                    "message": "waiting to update the index", "started": time.time(), "finished": None}
        threading.Thread(target=self._run_job, args=(self.job,), daemon=True, name=f"index-{action}").start()
        return dict(self.job)

    def _run_job(self, job: dict) -> None:
        from ..index import build_index
        from ..index.build import keep_retrieval

        def progress(message: str) -> None:
            job["message"] = message.strip().rstrip(".")

        try:
            progress("reading and chunking the documents")
            # the search settings the index recorded (`ragcomm index --fusion ...`) survive the rebuild
            build_index(keep_retrieval(self.settings, self.index.manifest), log=progress, progress=False)
            progress("loading the new index into the chat")
            self.reload()
            job.update(state="done", message=f"ready: {len(self.index.documents)} documents, "
                                             f"{len(self.index.chunks)} passages")
        except Exception as exc:  # reported in the page and the API, never lost
            job.update(state="failed", message=f"the index was not updated: {exc}")
        finally:
            job["finished"] = time.time()

    def reload(self) -> None:
        """Answer from the index on disk from now on (questions in flight finish on the old one)."""
        self.answerer = load_answerer(self.settings, self.answerer.threshold, log=lambda *_: None)


def file_date(path: Path) -> str | None:
    """The day a file was last written (when `add` copied it into the corpus), ISO format."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).date().isoformat()
    except OSError:
        return None


def describe_filters(filters: dict, total: int, searched: int, excluded: dict, undated: int) -> str:
    """One line, in words, of which filters are on and what they left out.

    >>> describe_filters({}, 22, 22, {}, 0)
    'No filters: searching all 22 documents.'
    >>> describe_filters({"year_from": 2015, "include_undated": True}, 22, 15, {"year": 7}, 4)
    'Filters: from 2015 (4 undated documents kept). Searching 15 of 22 documents; 7 left out by year.'
    """
    parts = []
    if filters.get("doc_id") or filters.get("source"):
        n = len(set(filters.get("doc_id") or [])) + len(set(filters.get("source") or []))
        parts.append(f"{n} chosen document{'s' if n != 1 else ''}")
    y0, y1 = filters.get("year_from"), filters.get("year_to")
    if y0 or y1:
        years = f"{y0} to {y1}" if y0 and y1 else (f"from {y0}" if y0 else f"up to {y1}")
        if filters.get("include_undated"):
            years += f" ({undated} undated document{'s' if undated != 1 else ''} kept)"
        else:
            years += " (undated documents left out)"
        parts.append(years)
    if filters.get("kind"):
        kinds = filters["kind"] if isinstance(filters["kind"], (list, tuple)) else [filters["kind"]]
        parts.append("kind: " + ", ".join(map(str, kinds)))
    if not parts:
        return f"No filters: searching all {total} documents."
    out = [f"{n} left out by {name}" for name, n in excluded.items() if n]
    line = f"Filters: {'; '.join(parts)}. Searching {searched} of {total} documents"
    line += ("; " + ", ".join(out) + "." if out else ".")
    if searched == 0:
        line += " Nothing to search: loosen the filters."
    return line


LABEL = re.compile(r"^(?:ABSTRACT\s*)?(?:[A-Z][A-Z /&-]{2,40}:\s*)?")


def headline(text: str, limit: int = 110) -> str:
    """The opening sentence of an abstract, without its ABSTRACT/BACKGROUND: labels, cut to a
    headline.

    >>> headline("ABSTRACT\\n\\nBACKGROUND: GPs are leaving. We asked why.")
    'GPs are leaving.'
    """
    text = LABEL.sub("", " ".join(text.split()))
    sentence = re.split(r"(?<=[.?!])\s+(?=[A-Z])", text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def check_years(filters: dict) -> tuple[dict, str]:
    """Filters with a reversed year range put right, and a note saying so.

    >>> check_years({"year_from": 2020, "year_to": 2015})
    ({'year_from': 2015, 'year_to': 2020}, 'The years were the wrong way round: searched 2015 to 2020.')
    """
    y0, y1 = filters.get("year_from"), filters.get("year_to")
    if y0 is not None and y1 is not None and int(y0) > int(y1):
        filters = {**filters, "year_from": int(y1), "year_to": int(y0)}
        return filters, f"The years were the wrong way round: searched {y1} to {y0}."
    return filters, ""
