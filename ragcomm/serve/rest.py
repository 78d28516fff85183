"""The REST API beside the web chat, served by the same process (`ragcomm serve`):

    POST   /api/ask                 the JSON of `ragcomm ask --json`
    POST   /api/search              the JSON of `ragcomm search --json`
    GET    /api/documents           indexed documents and the index status
    POST   /api/documents           upload files (multipart): added and indexed in the background
    DELETE /api/documents/{target}  a doc_id or corpus file name: removed in the background
    GET    /api/status              the index and the latest update
    GET    /files/{source}          an indexed document's original file (from the corpus folder only)
    GET    /view/{doc_id}           a document's text with cited sentences highlighted (?cite=start-end);
                                    for a PDF, first the cited pages of the original with the sentences marked;
                                    for a document removed since, a page saying so and when (410)
    GET    /pages/{doc_id}          PNG of a page of a PDF document (?page=N), cited sentences marked (?cite=)

OpenAPI docs at /docs. Auth as the app: when it has a login, every route wants HTTP Basic
credentials of that login (or the chat's login cookie). Calls the shared Service only.
"""
from __future__ import annotations

import base64
import html
import logging
import re
import secrets
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import orjson
from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from ..answer.generate import Checked, Token
from ..search import MAX_QUESTION_CHARS, QueryError, check_filters, check_question
from ..types import Answer
from .checks import MAX_K, check_history, check_k, check_mode
from .service import Service, check_years
from .view import highlighted

log = logging.getLogger("ragcomm.rest")

# The original files, by suffix (ingest/readers). HTML goes out as plain text: a document's
# scripts must not run on the app's origin. Office files have nothing a browser can show, so
# they come as downloads of their own type (the computer's Word or Excel opens them).
TEXT = "text/plain; charset=utf-8"
MEDIA_TYPES = {".pdf": "application/pdf", ".txt": TEXT, ".text": TEXT, ".md": TEXT, ".markdown": TEXT,
               ".html": TEXT, ".htm": TEXT, ".csv": "text/csv; charset=utf-8"}
DOWNLOADS = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             ".odt": "application/vnd.oasis.opendocument.text", ".doc": "application/msword"}


def server_sent(events):
    """Service.stream's events as server-sent events (text/event-stream)."""
    def message(name: str, data: dict) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    try:
        for event in events:
            if isinstance(event, Token):
                yield message("token", {"text": event.text})
            elif isinstance(event, Checked):
                yield message("checked", {"index": event.index, **asdict(event.support)})
            elif isinstance(event, Answer):
                yield message("answer", event.to_dict())
    except Exception:  # the response has started: say so in the stream, never a stack trace
        log.exception("streaming an answer failed")
        yield message("error", {"detail": "Something went wrong answering this; it has been logged."})


class Filters(BaseModel):
    doc_id: list[str] = Field(default_factory=list, description="only these documents (doc_id or file stem)")
    source: list[str] = Field(default_factory=list, description="only these corpus files")
    kind: list[str] = Field(default_factory=list, description="only these kinds: abstract, report, paper, web page")
    year_from: int | None = Field(None, ge=1000, le=9999)
    year_to: int | None = Field(None, ge=1000, le=9999)
    include_undated: bool = Field(True, description="with a year range, keep documents that have no year")

    def as_dict(self) -> dict:
        filters = {k: v for k, v in self.model_dump().items() if v not in (None, [])}
        if self.year_from is None and self.year_to is None:
            filters.pop("include_undated", None)
        return filters


class SearchRequest(BaseModel):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS + 1000, examples=["What is an animateur?"])
    k: int = Field(5, ge=1, le=MAX_K, description="how many passages")
    mode: Literal["hybrid", "bm25", "dense"] = Field("hybrid", description="both, exact words, or meaning")
    filters: Filters = Field(default_factory=Filters)

    @field_validator("k", mode="before")
    @classmethod
    def k_is_a_number(cls, k):
        """JSON true is not 1 (pydantic would take it as 1): the Service's own check refuses it."""
        return check_k(k) if isinstance(k, bool) else k


class AskRequest(SearchRequest):
    history: list[str] = Field(default_factory=list, description="earlier questions of the conversation, oldest first")
    generator: Literal["extractive", "openai"] = Field(
        "extractive", description="extractive: sentences quoted from the documents (default); openai: the language "
        "model the server was started with (--generator openai), each sentence checked against the passage it "
        "cites, the extractive answer when too little is supported (see \"generated\" in the reply)")


def json_response(data, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def request_error(exc: RequestValidationError, question: bool = True) -> str:
    """What a request got wrong, in one line: for a question (`question`: /api/ask, /api/search)
    in the Service's own words (the same as the chat's /ask and the CLI) where its checks catch
    it, else pydantic's, naming the field."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
    if not question:
        return f"{where + ': ' if where else ''}{first.get('msg', 'invalid request')}"
    if first.get("type") == "json_invalid":
        return f"the request body is not valid JSON ({first.get('ctx', {}).get('error', 'cannot be parsed')})"
    body = getattr(exc, "body", None)
    if not isinstance(body, dict):
        return "the request body must be a JSON object, such as {\"question\": \"What is an animateur?\"}"
    try:
        check_question(body.get("question"))
        check_k(body.get("k", 5))
        check_mode(body.get("mode"))
        check_history(body.get("history"))
        check_filters(body.get("filters"))
    except QueryError as error:
        return str(error)
    return f"{where + ': ' if where else ''}{first.get('msg', 'invalid request')}"


def create_app(service: Service, auth: list | None = None, session_user=None, manage_documents: bool = True,
               max_upload_bytes: int = 50 * 2**20, check_login=None) -> FastAPI:
    """The FastAPI app with the /api routes. `auth`: [(user, password)] or None (no login);
    `check_login(user, password, address) -> bool`: how a login is checked (access.login_checker,
    which counts failures per user and address, and has `wait(user, address)`; default: a
    constant-time comparison);
    `session_user(request)`: the user of the chat's login cookie, if any; `manage_documents`:
    whether uploads and removals are allowed (not when exposed without a login)."""
    app = FastAPI(title="ragcomm", version="1", docs_url="/docs", redoc_url=None,
                  description="Cited answers from NHS commissioning documents. The same answers as the web chat "
                              "and `ragcomm ask --json`.")
    logins = dict(auth or [])

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        """A request of the wrong shape or types: 400 and one clear message (#11), no traceback."""
        question = request.url.path.rstrip("/").endswith(("/api/ask", "/api/search"))
        return json_response({"detail": request_error(exc, question)}, 400)

    async def user(request: Request) -> str | None:  # async: no thread hop for a dictionary look-up
        """The caller's login; 401 when the app has a login and the request has none."""
        if not logins:
            return None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                name, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                name, password = "", ""
            address = request.client.host if request.client else None
            wait = check_login.wait(name, address) if hasattr(check_login, "wait") else 0
            if wait:
                raise HTTPException(429, f"Too many failed logins: try again in {wait:.0f} s.",
                                    headers={"Retry-After": str(max(1, round(wait)))})
            if check_login is not None and check_login(name, password, address):
                return name
            if check_login is None and name in logins and secrets.compare_digest(password.encode(),
                                                                                 logins[name].encode()):
                return name
        elif session_user is not None and (name := session_user(request)):
            return name
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": 'Basic realm="ragcomm"'})

    async def manager(who=Depends(user)) -> str | None:
        if not manage_documents:
            raise HTTPException(403, "managing documents needs a login when the app is served beyond this "
                                     "machine: restart it with --auth-file or RAGCOMM_AUTH")
        return who

    def filters_of(body: SearchRequest) -> dict:
        filters, _ = check_years(body.filters.as_dict())
        return filters

    def answered(ask, body: AskRequest):
        """service.ask or service.stream for a request: 422 for a generator this server lacks,
        400 for a bad question."""
        if body.generator not in service.generators():
            raise HTTPException(422, "generated answers are not enabled on this server: start it with "
                                     "--generator openai --llm-url URL --llm-model NAME")
        try:
            return ask(body.question, k=body.k, mode=body.mode, history=body.history, filters=filters_of(body),
                       generator=body.generator)
        except QueryError as exc:
            raise HTTPException(400, str(exc))

    @app.post("/api/ask", tags=["questions"])
    def ask(body: AskRequest, _=Depends(user)):
        """A cited answer: the JSON of `ragcomm ask --json` (with `--generator` when `generator` is given)."""
        return json_response(answered(service.ask, body).to_dict())

    @app.post("/api/ask/stream", tags=["questions"])
    def ask_stream(body: AskRequest, _=Depends(user)):
        """The answer of /api/ask as server-sent events, for a language model's answer to show as
        it is written: `token` ({"text"}: the model's words as they come), `checked` (each of its
        sentences with its support verdict, as in `generated.sentences`), then `answer` (the JSON
        of /api/ask), or `error` ({"detail"}) if answering fails midway. The extractive answer
        is one `answer` event."""
        return StreamingResponse(server_sent(answered(service.stream, body)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/api/search", tags=["questions"])
    def search(body: SearchRequest, _=Depends(user)):
        """Ranked passages: the JSON of `ragcomm search --json`."""
        try:
            hits = service.search(body.question, k=body.k, mode=body.mode, filters=filters_of(body))
            searched = service.correct(body.question)
        except QueryError as exc:
            raise HTTPException(400, str(exc))
        return json_response({"question": body.question, **searched.to_dict(), "results": [h.to_dict() for h in hits]})

    @app.get("/api/documents", tags=["documents"])
    def documents(_=Depends(user)):
        """Indexed documents (doc_id, title, source, year, updated, kind, pages, added; for a record of a
        result listing its record number, journal, pmid and doi) and the index status."""
        return json_response({"documents": service.documents(), "status": service.status()})

    @app.get("/api/status", tags=["documents"])
    def status(_=Depends(user)):
        """The index, the latest update (its state: running, done or failed, and a message) and the
        answer generators this server offers."""
        return json_response({**service.status(), "generators": service.generators()})

    @app.post("/api/documents", tags=["documents"], status_code=202)
    def upload(files: list[UploadFile] = File(...), replace: bool = False, _=Depends(manager)):
        """Add files to the corpus; they are indexed in the background (poll /api/status)."""
        from ..ingest import SUPPORTED, CorpusError, safe_name

        with tempfile.TemporaryDirectory(prefix="ragcomm-upload-") as tmp:
            paths = []
            for f in files:
                name = safe_name(f.filename or "document")
                if Path(name).suffix.lower() not in SUPPORTED:
                    raise HTTPException(415, f"{f.filename}: unsupported file type (supported: "
                                             f"{', '.join(sorted(SUPPORTED))})")
                path = Path(tmp) / name
                with open(path, "wb") as out:
                    copied = copy_limited(f.file, out, max_upload_bytes)
                if copied is None:
                    raise HTTPException(413, f"{f.filename}: larger than {max_upload_bytes // 2**20} MB")
                paths.append(path)
            try:
                job = service.add_documents(paths, replace=replace)
            except CorpusError as exc:
                raise HTTPException(409 if "already running" in str(exc) or "exists" in str(exc) else 422, str(exc))
        return json_response(job, 202)

    @app.delete("/api/documents/{target:path}", tags=["documents"], status_code=202)
    def remove(target: str, _=Depends(manager)):
        """Take a document (doc_id) or corpus file out; the index is updated in the background."""
        from ..ingest import CorpusError

        try:
            job = service.remove_documents([target])
        except CorpusError as exc:
            raise HTTPException(409 if "already running" in str(exc) else 404, str(exc))
        return json_response(job, 202)

    @app.get("/files/{source:path}", tags=["documents"])
    def original(source: str, _=Depends(user)):
        """The original file of an indexed document (PDFs open at a page with #page=N)."""
        path = service.source_path(source)
        if path is None:
            raise HTTPException(404, "no such indexed document file")
        suffix = path.suffix.lower()
        nosniff = {"X-Content-Type-Options": "nosniff"}  # a browser must not guess HTML (and run it)
        if suffix in DOWNLOADS:
            return FileResponse(path, media_type=DOWNLOADS[suffix], content_disposition_type="attachment",
                                filename=path.name, headers=nosniff)
        media = MEDIA_TYPES.get(suffix, "application/octet-stream")
        return FileResponse(path, media_type=media, content_disposition_type="inline", filename=path.name,
                            headers=nosniff)

    @app.get("/view/{doc_id:path}", tags=["documents"], response_class=HTMLResponse)
    def view(doc_id: str, cite: list[str] = Query(default_factory=list), _=Depends(user)):
        """A document's text with the cited sentences (cite=start-end, offsets in the text) highlighted;
        for a PDF, the cited pages of the original first, the sentences marked on them."""
        text = service.document_text(doc_id)
        if text is None:  # a page for the reader of an older answer, not JSON: removed (and when), or unknown
            removed = service.removed(doc_id)
            return HTMLResponse(missing_page(doc_id, removed), status_code=410 if removed else 404)
        spans = cited_spans(cite, len(text))
        doc = {**service.index.documents[doc_id], "title": service.titles([doc_id])[doc_id]}  # the cards' title
        return HTMLResponse(document_page(doc, text, spans, pages=service.cited_pages(doc_id, spans), doc_id=doc_id))

    @app.get("/pages/{doc_id:path}", tags=["documents"], responses={200: {"content": {"image/png": {}}}})
    def page(doc_id: str, page: int = Query(..., ge=1, le=100_000), cite: list[str] = Query(default_factory=list),
             _=Depends(user)):
        """PNG of page `page` of a PDF document's original, the cited sentences (cite=start-end) marked."""
        text = service.document_text(doc_id)
        if text is None:
            raise HTTPException(404, "no such document")
        try:
            png = service.page_image(doc_id, page, cited_spans(cite, len(text)))
        except LookupError as exc:
            raise HTTPException(404, str(exc))
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    return app


def copy_limited(src, dst, limit: int) -> int | None:
    """Copy at most `limit` bytes; None (and stop) when the source is larger."""
    total = 0
    while chunk := src.read(1 << 20):
        total += len(chunk)
        if total > limit:
            return None
        dst.write(chunk)
    return total


def cited_spans(cite: list[str], length: int) -> list[tuple[int, int]]:
    """The valid 'start-end' spans of a text of `length` characters (at most 50).

    >>> cited_spans(["10-41", "x", "41-10", "5-999"], 100)
    [(10, 41)]
    """
    spans = []
    for c in cite[:50]:
        m = re.fullmatch(r"(\d+)-(\d+)", c)
        if m and int(m.group(1)) < int(m.group(2)) <= length:
            spans.append((int(m.group(1)), int(m.group(2))))
    return spans


def pages_html(doc: dict, doc_id: str, pages: list) -> str:
    """The cited pages of a PDF as images (rendered by /pages/), each with a link to the PDF there."""
    e = html.escape
    up = "../" * (doc_id.count("/") + 1)  # from /view/{doc_id} back to the app's root
    doc_url, file_url = quote(doc_id, safe="/"), quote(doc["source"], safe="/")
    figures = []
    for page, spans in pages:
        cites = "".join(f"&cite={a}-{b}" for a, b in spans)
        marked = f"{len(spans)} cited sentence{'s' if len(spans) != 1 else ''} marked in yellow"
        figures.append(
            f'<figure class="page"><img src="{e(f"{up}pages/{doc_url}?page={page}{cites}")}" loading="lazy" '
            f'alt="Page {page} of {e(doc["source"])}, {marked}">'
            f'<figcaption>Page {page} · {marked} · <a href="{e(f"{up}files/{file_url}#page={page}")}">the PDF at page {page}</a>'
            f' · <a href="#cited-1">the text</a></figcaption></figure>')
    heading = "The cited page" + ("s" if len(pages) != 1 else "") + " of the original"
    return f'<section class="pages" aria-label="{heading}"><h2>{heading}</h2>{"".join(figures)}</section>' \
           '<h2>The text as indexed</h2>'


PAGE_STYLE = ("body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:1.5rem auto;padding:0 1rem;"
              "color:#1f2937} header p{color:#4b5563;margin:.2rem 0}")


def missing_page(doc_id: str, removed: dict | None) -> str:
    """The page "Open at the cited sentence" shows for a document no longer in the index: when
    its file was removed, or that there is no such document."""
    e = html.escape
    up = "../" * (doc_id.count("/") + 1)  # from /view/{doc_id} back to the chat
    if removed:
        when = removed["removed"]
        heading = "This document was removed from the index"
        body = (f"<p>{e(removed['file'])} was removed on {when.day} {when:%B %Y} at {when:%H:%M}, after the answer "
                "that cites it was given. The sentences the answer quoted are still in the conversation; the "
                "document's text can no longer be opened here.</p><p>Its file is kept in the corpus folder's "
                ".removed/ folder: add it again (the Documents tab, or <code>ragcomm add</code>) to open it here "
                "once more.</p>")
    else:
        heading = "No such document in the index"
        body = f"<p>No document {e(doc_id)} is indexed now, and none of that name was removed.</p>"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{heading}</title>
<style>{PAGE_STYLE}</style></head>
<body><header><h1>{heading}</h1><p>Document: {e(doc_id)}</p></header><main>{body}
<p><a href="{up}">Back to the chat</a></p></main></body></html>"""


def document_page(doc: dict, text: str, spans: list[tuple[int, int]], pages: list | None = None,
                  doc_id: str = "") -> str:
    """A plain, readable page of a document's text, cited sentences marked, the first cited in view;
    with `pages` [(page, spans)] (a PDF), the cited pages of the original shown above the text."""
    e = html.escape
    body = highlighted(text, spans, anchors=True)
    meta = doc.get("metadata", {})
    record = " · ".join(str(x) for x in (meta.get("journal"), meta.get("year"), meta.get("kind")) if x)
    jump = ("<script>window.addEventListener('load',()=>{const m=document.getElementById('cited-1')||"
            "document.querySelector('mark[id^=cited-]');"
            "if(m){m.scrollIntoView({block:'center'});m.focus();}});</script>") if spans and not pages else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(doc['title'])}</title>
<style>body{{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:1.5rem auto;padding:0 1rem;color:#1f2937}}
.text{{white-space:pre-wrap;overflow-wrap:anywhere}} mark{{background:#fde68a;color:#111;padding:0 .1rem}}
header p{{color:#4b5563;margin:.2rem 0}} h2{{font-size:1.1rem;margin:1.5rem 0 .5rem}}
figure.page{{margin:0 0 1rem}} figure.page img{{max-width:100%;height:auto;border:1px solid #d1d5db}}
figcaption{{color:#4b5563;font-size:.9rem}}</style>{jump}</head>
<body><header><h1>{e(doc['title'])}</h1><p>{e(record)}</p><p>File: {e(doc['source'])}
{f"· {len(spans)} cited sentence{'s' if len(spans) != 1 else ''} highlighted" if spans else ""}</p></header>
{pages_html(doc, doc_id, pages) if pages else ""}<main class="text">{body}</main></body></html>"""
