"""What every front end shares (the Gradio chat and the REST API): one `Service` over the
index: ask, search, the documents indexed (the access rules are access.py's, the checks of a
request checks.py's). Front ends call the Service, never the index or the answerer directly,
so that what they serve is the same everywhere. Restarted, it serves the last good index at
once and brings it up to date in the background (`index_at_start`).

The Service follows the index on disk: one function, `Service.reload`, loads a new index
beside the one in use and swaps the two at once. A watcher calls it when the index folder
was swapped (a build, `ragcomm add`, `ragcomm remove` in another process), and so does an
update started from the chat or the API once its build is done. Each question is answered
from the one version it started with (`Answer.index` says which). An index that fails to
load never replaces a good one: the Service keeps serving the previous version and logs why.
Requests are checked here (check_k, check_mode, check_history, search.check_filters): a
wrong type is a QueryError with a clear message, never a traceback."""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..answer import Answerer
from ..reader import READER_CACHE, get_reader
from ..config import Settings
from ..index import IndexError_, open_index
from ..index.store import folder_identity, load_index
from ..search import QueryError, Retriever, check_filters, check_question, recorded_settings
from ..types import Answer, Hit
from .checks import check_history, check_k, check_mode, describe_filters

log = logging.getLogger("ragcomm.service")


def load_answerer(settings: Settings, threshold: float | None = None, log=print, index=None,
                  reader="default", reader_cache: int = READER_CACHE) -> Answerer:
    """The answerer over `index` (else the index built first when missing or stale) with the
    model loaded, the reader remembering its last `reader_cache` pairs (a question asked again
    is not read again: reader/cache.py), and the passages' sentence vectors warming in the
    background."""
    index = index or open_index(settings, log=log)
    if isinstance(reader, str):
        reader = get_reader(reader, cache=reader_cache)
    # the search settings the index recorded (`ragcomm index --fusion ...`), else the defaults
    answerer = Answerer(Retriever(index, settings=recorded_settings(index, settings)), threshold=threshold,
                        reader=reader)
    answerer.embedder.encode_query("warm up")  # load the model before the first question
    answerer.retriever.speller.warm()  # and the spelling correction's word lists
    threading.Thread(target=warm, args=(answerer,), daemon=True, name="warm-sentences").start()
    return answerer


def index_at_start(settings: Settings) -> tuple[object | None, str]:
    """The index on disk, if it loads, to serve at once, and why it must be brought up to date
    in the background ('' when it is current); (None, '') when there is none that loads (it
    is built before the app listens)."""
    from ..index import describe, pending_operation, settings_match
    from ..index.build import keep_retrieval

    try:
        index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    except IndexError_:
        return None, ""
    reasons = []
    if index.stale:
        reasons.append(f"corpus changed: {', '.join(index.stale[:5])}" + (" ..." if len(index.stale) > 5 else ""))
    differences = settings_match(index.manifest, keep_retrieval(settings, index.manifest))
    if differences:
        reasons.append("settings changed: " + "; ".join(differences))
    pending = pending_operation(settings.index_dir)
    if pending is not None:
        reasons.append(f"an interrupted {describe(pending)} to finish")
    return index, "; ".join(reasons)


def warm(answerer: Answerer) -> None:
    answerer.warm()
    answerer.warmed = True  # read by Service.status(): the load test waits for it


# ---------------------------------------------------------------- the service

@dataclass
class Version:
    """One loaded version of the index and the answerer over it."""
    answerer: Answerer
    identity: tuple | None  # store.folder_identity when it was loaded
    generators: dict = field(default_factory=dict)  # name -> generator over this answerer (#17)

    @property
    def index(self):
        return self.answerer.retriever.index


class Service:
    """The answerer over the index, shared by every front end, following the index on disk
    (checked every `reload_seconds`, and at once when a request notices a change; 0: never)."""

    def __init__(self, settings: Settings, threshold: float | None = None, log=print, reload_seconds: float = 1.0,
                 llm=None, reader="default", reader_cache: int = READER_CACHE):
        self.settings = settings
        self.log = log
        self.llm = llm  # answer.generate.LLMConfig: enables generator="openai" (#17)
        identity = folder_identity(settings.index_dir)
        # A restarted app serves the last good index at once and catches up in the background.
        index, behind = index_at_start(settings)
        self._current = Version(load_answerer(settings, threshold, log=log, index=index, reader=reader,
                                              reader_cache=reader_cache), identity)
        self._failed: tuple | None = None  # the identity of an index that did not load
        self.reload_error: str | None = None
        self._reloading = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.reload_seconds = reload_seconds
        if reload_seconds:
            threading.Thread(target=self._watch, daemon=True, name="index-watcher").start()
        if behind:
            log(f"serving index generation {self.generation} while it is brought up to date ({behind})")
            self._start_job("update", [])

    @property
    def answerer(self) -> Answerer:
        return self._current.answerer

    @property
    def index(self):
        return self._current.index

    @property
    def generation(self) -> int:
        return self._current.index.generation

    # ------------------------------------------------------------ the one reload path (#11)

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
                self.reload()
            except Exception:  # the watcher must outlive anything a reload throws
                log.exception("index reload failed")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()

    def reload(self) -> bool:
        """Load the index on disk if it is not the one served, beside the one in use, and swap
        it in; True if it was. A broken or half-written index is not swapped in: the current
        one stays, `reload_error` says why, and it is logged. Called by the watcher and by
        the updates started here (add_documents, remove_documents)."""
        with self._reloading:
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
            # the search settings the new index records (`ragcomm index --fusion ...`), as at start-up
            answerer = Answerer(Retriever(index, embedder=old.embedder if same_model else None,
                                          settings=recorded_settings(index, self.settings)), threshold=old.threshold,
                                reader=old.reader)
            answerer.embedder.encode_query("warm up")
            answerer.retriever.speller.warm()
            answerer.reuse_sentences(old)
            version = Version(answerer, identity)
            self._current = version  # one assignment: each question sees one version, the old or the new
            self._failed, self.reload_error = None, None
            threading.Thread(target=self._warm, args=(version,), daemon=True, name="warm-sentences").start()
            i = index.info
            self.log(f"serving index generation {i['generation']} (built {i['built_at']}): "
                     f"{i['documents']} documents, {i['chunks']} chunks")
            return True

    def _warm(self, version: Version, batch: int = 8) -> None:
        """Embed the new passages' sentences in the background, until a newer version takes over."""
        n = len(version.index.chunks)
        for start in range(0, n, batch):
            if self._current is not version:
                return
            version.answerer.sentences(list(range(start, min(n, start + batch))))
        version.answerer.warmed = True

    def _version(self) -> Version:
        if self.reload_seconds and self._changed() is not None:
            self._wake.set()  # reload now rather than at the next tick
        return self._current

    # ------------------------------------------------------------ questions

    def ask(self, question: str, k: int = 5, mode: str | None = None, history: list[str] | None = None,
            filters: dict | None = None, filter_names: dict | None = None, generator: str = "extractive") -> Answer:
        """An answer from one version of the index; QueryError for anything a request got wrong
        (`filter_names`: the front end's names of the filters, for those messages).
        generator="openai" asks the configured language model (every sentence checked, the
        extractive answer when too little is supported or the model fails)."""
        question, k, mode = check_question(question), check_k(k), check_mode(mode)
        history, filters = check_history(history), check_filters(filters, filter_names)
        version = self._version()
        options = dict(k=k, mode=mode, history=history, filters=filters)
        if generator == "extractive":
            answer = version.answerer.ask(question, **options)
        else:
            answer = self.generator(generator, version).ask(question, **options)
        answer.index = version.index.info
        return answer

    def stream(self, question: str, k: int = 5, mode: str | None = None, history: list[str] | None = None,
               filters: dict | None = None, filter_names: dict | None = None, generator: str = "extractive"):
        """answer.generate.Token and Checked events as the model writes, then the Answer. The
        request is checked here, before the first event (QueryError, ValueError)."""
        question, k, mode = check_question(question), check_k(k), check_mode(mode)
        history, filters = check_history(history), check_filters(filters, filter_names)
        version = self._version()
        events = self.generator(generator, version).stream(question, k=k, mode=mode, history=history, filters=filters)
        return self._stamped(events, version)

    @staticmethod
    def _stamped(events, version):
        for event in events:
            if isinstance(event, Answer):
                event.index = version.index.info
            yield event

    def generators(self) -> list[str]:
        """The generators this service can use: extractive, and openai when a model is configured."""
        return ["extractive"] + (["openai"] if self.llm is not None else [])

    def generator(self, name: str, version: Version | None = None):
        """The generator called `name` over one version's answerer (made once per version);
        ValueError naming how to enable it when it is not available."""
        from ..answer.generators import get_generator

        if name not in ("extractive", "openai"):
            raise QueryError(f"generator must be extractive or openai, not {str(name)[:40]!r}")
        if name == "openai" and self.llm is None:
            raise ValueError("generated answers are not enabled on this server: start it with --generator openai "
                             "--llm-url URL --llm-model NAME")
        version = version or self._version()
        if name not in version.generators:
            version.generators[name] = get_generator(name, version.answerer, self.llm)
        return version.generators[name]

    def search(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
               filter_names: dict | None = None) -> list[Hit]:
        question, k, mode = check_question(question), check_k(k), check_mode(mode)
        filters = check_filters(filters, filter_names)
        return self._version().answerer.retriever.search(question, k=k, mode=mode, filters=filters)

    def correct(self, question: str):
        """How `search` searches a question: its slips corrected (search/spelling.py)."""
        return self._version().answerer.retriever.correct(question)

    def documents(self) -> list[dict]:
        """Each indexed document: doc_id, title, source, year, updated (a later revision's
        year), kind, pages (where known), added (when its file arrived in the corpus), and for
        a record of a result listing its record number, journal, pmid and doi (sorted by title)."""
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
            meta = d["metadata"]
            docs.append({"doc_id": doc_id, "title": d["title"], "source": source, "year": meta.get("year"),
                         "updated": meta.get("updated"), "kind": meta.get("kind"),
                         "pages": meta.get("pages") or pages.get(doc_id), "added": added[source],
                         "record": meta.get("record"), "journal": meta.get("journal"), "pmid": meta.get("pmid"),
                         "doi": meta.get("doi")})
        return sorted(docs, key=lambda d: d["title"].lower())

    def coverage(self) -> dict:
        """What the index can answer from: documents and abstracts, years, eras of commissioning
        named (serve/documents.py), worked out once per version of the index."""
        from .documents import coverage

        index = self.index
        if getattr(self, "_coverage", (None,))[0] is not index:
            self._coverage = (index, coverage(self.documents(), {k: d.get("text") or "" for k, d in
                                                                 index.documents.items()}))
        return self._coverage[1]

    def removed(self, doc_id: str) -> dict | None:
        """For a document no longer indexed whose file was removed (kept in corpus/.removed/):
        {"file", "removed": datetime}, the latest removal; else None."""
        from ..ingest.corpus import removed_file

        if doc_id in self.index.documents:
            return None
        return removed_file(Path(self.settings.corpus_dir), doc_id)

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
        """{doc_id: the title to show}: the document's title, the same everywhere (ingest chooses
        it: a record of a result listing is titled by its article, else its abstract's opening).
        An index read by an older version titled such a record "BMJ Open 2019 (PMID ...)": the
        opening of its abstract instead."""
        from ..ingest.records import headline

        out = {}
        for doc_id in dict.fromkeys(doc_ids):
            d = self.index.documents.get(doc_id)
            if d is None:
                continue
            meta, title = d["metadata"], d["title"]
            if "record" in meta and OLD_RECORD_TITLE.search(title) and not meta.get("article_title"):
                first = next((c for c in self.index.chunks if c.doc_id == doc_id and c.start == 0), None)
                title = headline(first.text) if first else title
            out[doc_id] = meta.get("article_title") or title
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

    # ------------------------------------------------------------ the cited page of the original (#12)

    def cited_pages(self, doc_id: str, spans: list) -> list[tuple[int, list]]:
        """[(page, [(start, end), ...])]: the pages of a PDF document that its cited spans
        (offsets in its text) fall on, a span crossing a page break on both; [] when the
        document's original cannot be shown as pages (not a PDF, or indexed without a page map)."""
        from ..ingest.viewer import renderable
        from ..types import page_at

        d = self.index.documents.get(doc_id)
        if d is None or not d.get("pages") or not renderable(Path(d["source"])):
            return []
        by_page: dict = {}
        for a, b in spans:
            for page in range(page_at(d["pages"], a), page_at(d["pages"], max(a, b - 1)) + 1):
                by_page.setdefault(page, []).append((a, b))
        return sorted(by_page.items())

    def page_image(self, doc_id: str, page: int, spans: list) -> bytes:
        """PNG of a page of a PDF document's original file with the cited spans' sentences
        marked. LookupError (in words) for an unknown document, a file that is not a PDF, or
        a page it does not have."""
        from ..ingest.readers import IngestError
        from ..ingest.viewer import page_image, renderable

        d = self.index.documents.get(doc_id)
        path = self.source_path(d["source"]) if d else None
        if path is None:
            raise LookupError("no such document")
        if not renderable(path):
            raise LookupError(f"{d['source']} has no pages to show (only PDF pages are rendered)")
        text = d.get("text") or self.document_text(doc_id) or ""
        starts = [offset for offset, p in d.get("pages") or [] if p == page]
        top = starts[0] if starts else 0  # the page's indexed text before a sentence tells its copies apart
        try:
            return page_image(path, page, [(text[a:b], text[top:a] if a >= top else "") for a, b in spans])
        except IngestError as exc:
            raise LookupError(str(exc)) from None


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
        from ..index import IndexBusy, stage_add
        from ..ingest import CorpusError

        with self._job_lock:
            self._refuse_if_busy()
            try:
                results = stage_add(files, self.settings, replace=replace, log=self.log, all_or_none=True)
            except IndexBusy as exc:
                raise CorpusError(f"an update is already running: {exc}") from None
            except OSError as exc:  # a full disk: the line names the file and the cause; nothing was added
                raise CorpusError(str(exc)) from None
            return self._start_job("add", [r.target.name for r in results if r.target is not None])

    def remove_documents(self, targets: list[str]) -> dict:
        """Move the files behind doc_ids or file names out of the corpus (into corpus/.removed/),
        then update the index in the background; the job. CorpusError for an unknown target."""
        from ..index import IndexBusy, stage_remove
        from ..ingest import CorpusError

        with self._job_lock:
            self._refuse_if_busy()
            try:
                results = stage_remove(targets, self.settings, log=self.log, all_or_none=True)
            except IndexBusy as exc:
                raise CorpusError(f"an update is already running: {exc}") from None
            except OSError as exc:
                raise CorpusError(str(exc)) from None
            return self._start_job("remove", [r.path for r in results if r.status == "removed"])

    def status(self) -> dict:
        """The index (generation, documents, chunks, when built, files changed since), the last
        reload error (a newer index on disk that could not be loaded) and the latest update."""
        current = self._current
        index = current.index
        return {**index.info, "files": index.manifest.get("counts", {}).get("files"),
                "stale": list(index.stale), "reload_error": self.reload_error,
                "job": dict(self.job) if self.job else None, "warmed": getattr(current.answerer, "warmed", False)}

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
            if self.reload_error:
                raise IndexError_(self.reload_error)
            job.update(state="done", message=f"ready: {len(self.index.documents)} documents, "
                                             f"{len(self.index.chunks)} passages")
        except Exception as exc:  # reported in the page and the API, never lost
            job.update(state="failed", message=f"the index was not updated: {exc}{self._undo(job)}")
            self.log(f"{job['action']} failed: {job['message']}")
        finally:
            job["finished"] = time.time()

    def _undo(self, job: dict) -> str:
        """After a failed add or remove: its files put back as they were, its journal cleared
        (index.undo_operation), so that no later update completes it; a note for the message."""
        from ..index import IndexBusy, undo_operation, writer_lock

        if job["action"] not in ("add", "remove"):
            return ""
        try:
            with writer_lock(self.settings.index_dir):
                undone = undo_operation(self.settings.index_dir, self.log)
        except (IndexBusy, OSError) as exc:
            return f"; and the {job['action']} could not be undone now ({exc})"
        if not undone:
            return ""
        return "; the files were taken out of the corpus again" if job["action"] == "add" \
            else "; the files were put back in the corpus"


def file_date(path: Path) -> str | None:
    """The day a file was last written (when `add` copied it into the corpus), ISO format."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).date().isoformat()
    except OSError:
        return None


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


OLD_RECORD_TITLE = re.compile(r"\((PMID \d+|record \d+)\)$")  # how records were titled before ingest version 3


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
