"""The web chat (Gradio), mounted on the REST API's FastAPI app: ask the commissioning
documents, get a cited extractive answer, click [n] to see where it comes from.

Every answer comes from the shared Service (serve/service.py), the same as `ragcomm ask`
and POST /api/ask; the Gradio API endpoint `/ask` returns the same JSON:

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("What is an animateur?", api_name="/ask")

The page renders conversations with serve/view.py (HTML made here, every value escaped);
static/chat.js makes the citations open their source cards and keeps conversations in the
browser. Gradio is imported here only: nothing else in ragcomm imports it.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import gradio as gr

from ..answer.generate import Checked, Token
from ..search import MAX_QUESTION_CHARS, QueryError, check_filters
from . import export, view
from .documents import coverage_text, documents_html, status_text
from .service import Service, check_years

log = logging.getLogger("ragcomm.app")
STATIC = Path(__file__).parent / "static"

EXAMPLES = [
    "What makes a good commissioning manager?",
    "Why were CCGs reluctant to outsource commissioning support functions?",
    "How did commissioners use academic research and local data?",
    "What is practice based commissioning?",
]
MODES = [("Both: exact words and meaning (recommended)", "hybrid"), ("Match meaning", "dense"),
         ("Match exact words", "bm25")]
ANY_YEAR = "Any year"
DRAFT_EVERY = 0.15  # seconds between updates of a generated answer being written
KINDS = {"abstract": "Research abstracts", "paper": "Research papers", "report": "Reports",
         "web page": "Web pages", "document": "Other documents"}


# ---------------------------------------------------------------- filters and choices

FILTER_NAMES = {"doc_id": "documents", "kind": "kinds"}  # /ask's parameter names, for its messages


def filters_for(documents, year_from, year_to, include_undated, kinds) -> dict:
    """The Options as Service filters: empty means no filter."""
    filters = {"doc_id": list(documents or []), "kind": list(kinds or [])}
    for key, value in (("year_from", year_from), ("year_to", year_to)):
        if value not in (None, "", ANY_YEAR):
            try:
                filters[key] = int(value)
            except (TypeError, ValueError):
                pass
    if "year_from" in filters or "year_to" in filters:
        filters["include_undated"] = bool(include_undated)
    return {k: v for k, v in filters.items() if v not in ([], None)}


def choices(service: Service) -> dict:
    """Documents, years and kinds to filter by, read from the index now (it can change)."""
    docs = service.documents()
    titles = service.titles(d["doc_id"] for d in docs)
    return {"documents": [(view.shorten(titles.get(d["doc_id"], d["title"]), 90) + (f" ({d['year']})" if d["year"]
                           else ""), d["doc_id"]) for d in docs],
            "years": [ANY_YEAR] + [str(y) for y in sorted({d["year"] for d in docs if d["year"]})],
            "kinds": [(KINDS.get(k, k.capitalize()), k) for k in sorted({d["kind"] for d in docs if d["kind"]})],
            "count": len(docs)}


def keep(value, allowed, default):
    """The value if it is still a choice, else the default (the index may have changed)."""
    allowed = {a[1] if isinstance(a, tuple) else a for a in allowed}
    if isinstance(value, list):
        return [v for v in value if v in allowed]
    return value if value in allowed else default


# ---------------------------------------------------------------- conversations

def new_conversation() -> dict:
    return {"id": uuid.uuid4().hex[:12], "title": "", "updated": time.time(), "turns": []}


def conversation_label(meta: dict) -> tuple[str, str]:
    when = datetime.fromtimestamp(meta.get("updated") or 0).strftime("%d %b %Y %H:%M")
    n = meta.get("turns", 0)
    return f"{view.shorten(meta.get('title') or 'Untitled', 70)} — {when} ({n} question{'s' if n != 1 else ''})", \
        meta["id"]


def listed(kept: list[dict], conversation: dict | None) -> list[dict]:
    """The saved-conversation list with this conversation first (as the browser keeps it)."""
    kept = [m for m in kept if not conversation or m["id"] != conversation["id"]]
    if conversation and conversation.get("turns"):
        kept.insert(0, {"id": conversation["id"], "title": conversation["title"], "updated": conversation["updated"],
                        "turns": len(conversation["turns"])})
    return kept


# ---------------------------------------------------------------- the page

def build_app(service: Service, history=None, manage_documents: bool = True, max_upload_bytes: int = 50 * 2**20,
              concurrency: int = 4, queue_size: int = 256) -> gr.Blocks:
    """The chat page. `history`: server-side conversations per logged-in user (serve/history.py)."""
    from ..ingest import SUPPORTED

    def user_of(request: gr.Request | None) -> str | None:
        return getattr(request, "username", None) if request else None

    def ask(question: str, k: int = 5, mode: str = "hybrid", history: list[str] | None = None,
            documents: list[str] | None = None, year_from: int | None = None, year_to: int | None = None,
            kinds: list[str] | None = None, generator: str = "extractive") -> dict:
        """Answer a question from the documents: JSON with the answer, its citations and sources
        (the same as `ragcomm ask --json` and POST /api/ask). `history` holds the earlier
        questions, oldest first; generator="openai" asks the server's language model, when it has one."""
        try:  # the types as received are checked (#11): a wrong one is a clear error, not a traceback
            raw = {"doc_id": documents, "kind": kinds, "year_from": year_from, "year_to": year_to}
            filters = check_filters({k: v for k, v in raw.items() if v not in (None, "", [])}, FILTER_NAMES)
            if "year_from" in filters or "year_to" in filters:
                filters["include_undated"] = True
            filters, _ = check_years(filters)
            answer = service.ask(question, k=k, mode=mode, history=history, filters=filters, generator=generator)
        except (QueryError, ValueError) as exc:  # the request's fault: a clear message, no traceback in the log
            raise gr.Error(str(exc), print_exception=False)
        except Exception:
            log.exception("answering %r through /ask failed", str(question)[:200])
            raise gr.Error("Something went wrong answering this; it has been logged.", print_exception=False)
        return answer.to_dict()

    def unchanged(message: str) -> tuple:  # only the status line and the indicator change
        done = f'<span data-done="{time.time()}"></span>'  # replaces the "searching" indicator
        return (gr.skip(),) * 4 + (message, done) + (gr.skip(),) * 5

    def checked_question(question) -> tuple[str, str | None]:
        """The question stripped, and what is wrong with it (None when it can be asked)."""
        question = (question or "").strip()
        if not question:
            return question, "**Type a question first.**"
        if len(question) > MAX_QUESTION_CHARS:
            return question, (f"**The question is too long ({len(question):,} characters; at most "
                              f"{MAX_QUESTION_CHARS:,}).** Shorten it and ask again.")
        return question, None

    def answer_turn(question, conversation, k, mode, documents, year_from, year_to, undated, kinds, kept,
                    request: gr.Request):
        """One question of the conversation -> the page updated, the conversation saved."""
        question, problem = checked_question(question)
        if problem:
            return unchanged(problem)
        conversation = conversation or new_conversation()
        filters, note = check_years(filters_for(documents, year_from, year_to, undated, kinds))
        try:
            answer = service.ask(question, k=k, mode=mode, filters=filters,
                                 history=[t["question"] for t in conversation["turns"]])
        except QueryError as exc:
            return unchanged(f"**{view.e(exc)}**")
        except Exception:  # never a stack trace in the page
            log.exception("answering %r failed", question)
            return unchanged("**Something went wrong answering this; it has been logged.**")
        return finish_turn(question, conversation, answer, filters, note, kept, request)

    def answer_stream(question, conversation, k, mode, documents, year_from, year_to, undated, kinds, kept, how,
                      request: gr.Request):
        """answer_turn with the generator chosen in Options (#17): a language model's answer is
        shown as it is written, each finished sentence marked supported or not, then the turn."""
        if how != "openai":
            yield answer_turn(question, conversation, k, mode, documents, year_from, year_to, undated, kinds, kept,
                              request)
            return
        question, problem = checked_question(question)
        if problem:
            yield unchanged(problem)
            return
        conversation = conversation or new_conversation()
        filters, note = check_years(filters_for(documents, year_from, year_to, undated, kinds))
        text, checked, shown = "", [], 0.0
        try:
            for event in service.stream(question, k=k, mode=mode, filters=filters, generator="openai",
                                        history=[t["question"] for t in conversation["turns"]]):
                if isinstance(event, Token):
                    text += event.text
                elif isinstance(event, Checked):
                    checked.append(asdict(event.support))
                else:
                    yield finish_turn(question, conversation, event, filters, note, kept, request)
                    return
                if isinstance(event, Checked) or time.monotonic() - shown > DRAFT_EVERY:
                    shown = time.monotonic()
                    yield (gr.skip(),) * 5 + (view.draft_html(text, checked, service.llm.model),) + (gr.skip(),) * 5
        except QueryError as exc:
            yield unchanged(f"**{view.e(exc)}**")
        except Exception:  # never a stack trace in the page
            log.exception("answering %r failed", question)
            yield unchanged("**Something went wrong answering this; it has been logged.**")

    def finish_turn(question, conversation, answer, filters, note, kept, request):
        done = f'<span data-done="{time.time()}"></span>'  # replaces the "searching" indicator
        data = answer.to_dict()
        turn = {"question": question, "answer": data, "asked": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "titles": service.titles(s["doc_id"] for s in data.get("sources", [])),
                "filters": service.filter_summary(filters)["text"] if filters else "", "note": note}
        conversation = {**conversation, "turns": [*conversation["turns"], turn], "updated": time.time(),
                        "title": conversation["title"] or view.shorten(question, 80)}
        user = user_of(request)
        if history is not None and user:
            history.save(user, conversation)
        kept = listed(kept or [], conversation)
        return (view.conversation_html(conversation), view.sources_html(conversation), conversation, "", "", done,
                json.dumps({"op": "save", "conversation": conversation, "at": time.time()}), kept,
                gr.update(choices=[conversation_label(m) for m in kept], value=None),
                gr.update(visible=False), gr.update(visible=False))

    def example_turn(question: str):
        if generated:
            def ask_example_streamed(conversation, k, mode, documents, year_from, year_to, undated, kinds, kept, how,
                                     request: gr.Request):
                yield from answer_stream(question, conversation, k, mode, documents, year_from, year_to, undated,
                                         kinds, kept, how, request)
            return ask_example_streamed

        def ask_example(conversation, k, mode, documents, year_from, year_to, undated, kinds, kept,
                        request: gr.Request):
            return answer_turn(question, conversation, k, mode, documents, year_from, year_to, undated, kinds, kept,
                               request)
        return ask_example

    def start_over(kept):
        """New conversation: everything back to the start (conversation, sources, options, exports)."""
        c = choices(service)
        return (view.conversation_html(None), view.sources_html(None), None, "", "", "",
                json.dumps({"op": "current", "id": None, "at": time.time()}), kept,
                gr.update(choices=[conversation_label(m) for m in kept or []], value=None),
                gr.update(visible=False), gr.update(visible=False),
                5, "hybrid", gr.update(choices=c["documents"], value=[]), gr.update(choices=c["years"], value=ANY_YEAR),
                gr.update(choices=c["years"], value=ANY_YEAR), True, gr.update(choices=c["kinds"], value=[]),
                f"No filters: searching all {c['count']} documents.") + (("extractive",) if generated else ())

    def restore(saved, current, request: gr.Request):
        """On page load: the conversations kept in this browser (or, with a login, on the server).
        A question sent before this step is done waits for it in the page (chat.js, rcLoaded);
        should one be answered first all the same (the page gave up waiting), that answer stays
        on the page and joins the list."""
        try:
            stored = json.loads(saved or "{}")
        except json.JSONDecodeError:
            stored = {}
        kept = [m for m in stored.get("list") or [] if isinstance(m, dict) and m.get("id")]
        conversation = stored.get("current") if isinstance(stored.get("current"), dict) else None
        user = user_of(request)
        if history is not None and user:
            kept = history.list(user)
            if conversation is None and kept:
                conversation = None  # a fresh page starts a fresh conversation; older ones are listed
        c = choices(service)
        if conversation and not isinstance(conversation.get("turns"), list):
            conversation = None
        shown = (view.conversation_html(conversation), view.sources_html(conversation), conversation)
        if current and current.get("turns"):
            kept, shown = listed(kept, current), (gr.skip(), gr.skip(), gr.skip())
        return (*shown, kept,
                gr.update(choices=[conversation_label(m) for m in kept], value=None),
                gr.update(choices=c["documents"]), gr.update(choices=c["years"]), gr.update(choices=c["years"]),
                gr.update(choices=c["kinds"]), header(), f"No filters: searching all {c['count']} documents.")

    def open_saved(chosen, stored, kept, request: gr.Request):
        """Open a saved conversation (from the browser, or the server with a login)."""
        user = user_of(request)
        conversation = None
        if history is not None and user and chosen:
            conversation = history.get(user, chosen)
        if conversation is None and stored:
            try:
                conversation = json.loads(stored)
            except json.JSONDecodeError:
                conversation = None
        if not conversation:
            return (gr.skip(), gr.skip(), gr.skip(), "**Choose a saved conversation first.**", gr.skip())
        return (view.conversation_html(conversation), view.sources_html(conversation), conversation,
                f"Opened: {view.e(conversation.get('title', ''))}. New questions continue it.",
                json.dumps({"op": "current", "id": conversation["id"], "at": time.time()}))

    def delete_saved(chosen, conversation, kept, request: gr.Request):
        if not chosen:
            return (gr.skip(),) * 5 + ("**Choose a saved conversation to delete.**", gr.skip(), gr.skip())
        user = user_of(request)
        if history is not None and user:
            history.delete(user, chosen)
        kept = [m for m in kept or [] if m["id"] != chosen]
        current = conversation if conversation and conversation["id"] != chosen else None
        return (view.conversation_html(current), view.sources_html(current), current, kept,
                gr.update(choices=[conversation_label(m) for m in kept], value=None), "Deleted.",
                json.dumps({"op": "delete", "id": chosen, "at": time.time()}),
                gr.update(visible=False) if current is None else gr.skip())

    def make_exports(conversation):
        if not conversation or not conversation.get("turns"):
            return gr.update(visible=False), gr.update(visible=False), "**Nothing to export yet: ask a question.**"
        folder = Path(tempfile.mkdtemp(prefix="ragcomm-export-"))
        stem = export.file_stem(conversation)
        md = folder / f"{stem}.md"
        md.write_text(export.to_markdown(conversation), encoding="utf-8")
        docx = export.to_docx(conversation, folder / f"{stem}.docx")
        return (gr.update(value=str(md), visible=True), gr.update(value=str(docx), visible=True),
                "Ready: download the conversation as Markdown or as a Word document.")

    def filter_line(documents, year_from, year_to, undated, kinds):
        filters, note = check_years(filters_for(documents, year_from, year_to, undated, kinds))
        return (note + " " if note else "") + service.filter_summary(filters)["text"]

    def refresh_options(documents, year_from, year_to, kinds):
        c = choices(service)
        return (gr.update(choices=c["documents"], value=keep(documents or [], c["documents"], [])),
                gr.update(choices=c["years"], value=keep(year_from, c["years"], ANY_YEAR)),
                gr.update(choices=c["years"], value=keep(year_to, c["years"], ANY_YEAR)),
                gr.update(choices=c["kinds"], value=keep(kinds or [], c["kinds"], [])))

    def header() -> str:
        """The page's title and what it answers from, worked out from the index (it can change)."""
        return (f"# Ask the commissioning documents\n**What it answers from:** {coverage_text(service.coverage())}\n\n"
                "Answers are sentences quoted word for word from these documents, each with its source: click a "
                "number like [1] to see it. Nothing is made up; when the documents do not answer, it says so.")

    # -------------------------------------------------------- documents tab

    def documents_view():
        files = sorted({d["source"] for d in service.documents()})
        return status_text(service), documents_html(service), gr.update(choices=files, value=None)

    def upload(files):
        if not manage_documents:
            return "**Adding documents needs a login when the app is served beyond this machine.**", \
                gr.skip(), gr.Timer(active=False)
        if not files:
            return "**Choose one or more files first.**", gr.skip(), gr.Timer(active=False)
        from ..ingest import CorpusError

        paths = []
        try:
            with tempfile.TemporaryDirectory(prefix="ragcomm-upload-") as tmp:
                for f in files:  # Gradio keeps uploads under a random name: use the original one
                    path = Path(f)
                    original = Path(tmp) / Path(getattr(f, "orig_name", None) or path.name).name
                    if path.stat().st_size > max_upload_bytes:
                        raise CorpusError(f"{original.name}: larger than {max_upload_bytes // 2**20} MB")
                    original.write_bytes(path.read_bytes())
                    paths.append(original)
                service.add_documents(paths)
        except CorpusError as exc:
            return f"**Not added:** {view.e(exc)}", gr.skip(), gr.Timer(active=False)
        return status_text(service), None, gr.Timer(active=True)

    def remove(source, confirmed):
        if not manage_documents:
            return "**Removing documents needs a login when the app is served beyond this machine.**", \
                gr.Timer(active=False)
        if not source:
            return "**Choose a file to remove first.**", gr.Timer(active=False)
        if confirmed != "yes":  # the browser's confirmation was cancelled
            return f"**Nothing removed:** {view.e(source)} stays in the index.", gr.Timer(active=False)
        from ..ingest import CorpusError

        try:
            service.remove_documents([source])
        except CorpusError as exc:
            return f"**Not removed:** {view.e(exc)}", gr.Timer(active=False)
        return status_text(service), gr.Timer(active=True)

    def poll():
        job = service.status()["job"]
        running = bool(job and job["state"] == "running")
        files = sorted({d["source"] for d in service.documents()})
        return (status_text(service), documents_html(service), gr.update(choices=files),
                gr.Timer(active=running), header())

    generated = "openai" in service.generators()  # the server was started with a language model (#17)
    accept = sorted(SUPPORTED)
    with gr.Blocks(title="ragcomm — ask the commissioning documents") as demo:
        title = gr.Markdown(header(), elem_id="title")
        conversation = gr.State(None)
        kept = gr.State([])
        saved_in_browser = gr.Textbox(visible=False)  # from localStorage on load (chat.js)
        to_browser = gr.Textbox(visible=False)  # commands for localStorage (chat.js)
        opened = gr.Textbox(visible=False)  # a saved conversation read from localStorage
        with gr.Tabs():
            with gr.Tab("Ask", id="ask-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chat = gr.HTML(view.conversation_html(None), elem_id="conversation")
                        progress = gr.HTML("", elem_id="progress")
                        with gr.Row(elem_id="ask-row"):
                            box = gr.Textbox(label="Your question", placeholder="e.g. What makes a good "
                                             "commissioning manager?", lines=1, max_lines=4, scale=5,
                                             elem_id="question", max_length=MAX_QUESTION_CHARS + 1000)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                        status = gr.Markdown("", elem_id="status")
                        active = gr.Markdown("", elem_id="filters-line")
                        with gr.Row():
                            clear = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                            export_button = gr.Button("Export conversation", size="sm", elem_id="export")
                            md_file = gr.DownloadButton("Download Markdown", visible=False, size="sm",
                                                        elem_id="download-md")
                            docx_file = gr.DownloadButton("Download Word", visible=False, size="sm",
                                                          elem_id="download-docx")
                        with gr.Column(elem_classes="rc-examples", elem_id="examples"):
                            gr.Markdown("**Example questions** (click one to ask it)")
                            example_buttons = [gr.Button(q, size="sm", elem_id=f"example-{i}")
                                               for i, q in enumerate(EXAMPLES, start=1)]
                        with gr.Accordion("Options", open=False, elem_id="options") as options:
                            k = gr.Slider(1, 10, value=5, step=1, label="How many passages to answer from",
                                          elem_id="passages")
                            mode = gr.Radio(MODES, value="hybrid", label="How to match your question", elem_id="mode")
                            documents = gr.Dropdown([], multiselect=True, elem_id="only-documents",
                                                    label="Only these documents (none chosen: all)")
                            with gr.Row():
                                year_from = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="From year",
                                                        elem_id="year-from")
                                year_to = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="To year", elem_id="year-to")
                            undated = gr.Checkbox(True, label="Keep documents without a year when years are chosen",
                                                  elem_id="keep-undated")
                            kinds = gr.CheckboxGroup([], label="Kinds of document (none ticked: all)", elem_id="kinds")
                            how = gr.Radio(
                                [("Quoted word for word from the documents (recommended)", "extractive"),
                                 (f"Written by a language model ({service.llm.model if generated else ''}), each "
                                  "sentence checked against its source", "openai")],
                                value="extractive", label="How to write the answer", elem_id="generator",
                                visible=generated, info="A written answer keeps only the sentences its sources "
                                "support; when too few are, the quoted answer is shown and says why.")
                        with gr.Accordion("Your conversations", open=False, elem_id="conversations"):
                            saved_list = gr.Dropdown([], label="Saved conversations", elem_id="saved-list")
                            with gr.Row():
                                open_button = gr.Button("Open", size="sm", elem_id="open-conversation")
                                delete_button = gr.Button("Delete", size="sm", variant="stop",
                                                          elem_id="delete-conversation")
                            gr.Markdown("Kept in this browser" + (" and, as you are logged in, on the server."
                                                                  if history is not None else "."))
                    with gr.Column(scale=2, min_width=300, elem_id="sources-column"):
                        gr.Markdown("## Sources", elem_id="sources-title")
                        sources = gr.HTML(view.sources_html(None), elem_id="sources")
            with gr.Tab("Documents", id="documents-tab") as documents_tab:
                index_status = gr.Markdown(status_text(service), elem_id="index-status")
                if manage_documents:
                    files = gr.File(file_count="multiple", file_types=accept, elem_id="upload",
                                    label=f"Add documents ({', '.join(accept)}; up to {max_upload_bytes // 2**20} MB "
                                          "each)")
                    add_button = gr.Button("Add to the index", variant="primary", elem_id="add-documents")
                else:
                    gr.Markdown("Adding and removing documents needs a login when the app is served beyond "
                                "this machine.")
                table = gr.HTML(documents_html(service), elem_id="documents")
                with gr.Row(visible=manage_documents):
                    to_remove = gr.Dropdown([], label="Remove a file from the index (it is kept in corpus/.removed/)",
                                            elem_id="remove-choice", scale=4)
                    remove_button = gr.Button("Remove", variant="stop", elem_id="remove-document", scale=1)
                    remove_confirmed = gr.Textbox(visible=False)  # 'yes' once the browser's confirmation is accepted
                timer = gr.Timer(1.0, active=False)
        gr.Markdown("For developers: the same answers through a [REST API](docs) (OpenAPI documentation).",
                    elem_id="footer")

        # The question: Enter, the Ask button and the examples all answer it.
        turn_in = [box, conversation, k, mode, documents, year_from, year_to, undated, kinds, kept]
        turn_out = [chat, sources, conversation, box, status, progress, to_browser, kept, saved_list, md_file,
                    docx_file]
        # An answer takes milliseconds: the page's question skips Gradio's queue (one POST to
        # /gradio_api/run/chat, not a queue join and an event stream), which keeps the chat fast
        # under load. When the server has a language model (#17), answer_stream yields a generated
        # answer as it is written (the switch in Options; extractive by default) and streaming
        # needs the queue, so then the question goes through it.
        turn_fn = answer_stream if generated else answer_turn
        if generated:
            turn_in = turn_in + [how]
        for trigger in (send.click, box.submit):
            trigger(turn_fn, turn_in, turn_out, js="(...a) => window.rcBusy ? window.rcBusy(...a) : a",
                    show_progress="hidden", api_visibility="undocumented", api_name="chat", queue=generated)
        for button, question in zip(example_buttons, EXAMPLES):
            button.click(example_turn(question), turn_in[1:], turn_out,
                         js="(...a) => window.rcBusy ? window.rcBusy(...a) : a", show_progress="hidden",
                         api_visibility="private", queue=generated)
        option_inputs = [documents, year_from, year_to, undated, kinds]
        gr.on([documents.change, year_from.change, year_to.change, undated.change, kinds.change], filter_line,
              option_inputs, active, api_visibility="private", queue=False)
        options.expand(refresh_options, [documents, year_from, year_to, kinds], [documents, year_from, year_to, kinds],
                       api_visibility="private", queue=False)
        clear.click(start_over, [kept], [chat, sources, conversation, box, status, progress, to_browser, kept,
                                         saved_list, md_file, docx_file, k, mode, documents, year_from, year_to,
                                         undated, kinds, active] + ([how] if generated else []),
                    api_visibility="private", queue=False)
        export_button.click(make_exports, [conversation], [md_file, docx_file, status], api_visibility="private")
        to_browser.change(None, [to_browser], None, js="(c) => { window.rcStore && window.rcStore.apply(c); }")
        demo.load(None, None, [saved_in_browser], js="() => window.rcStore ? window.rcStore.load() : '{}'").then(
            restore, [saved_in_browser, conversation], [chat, sources, conversation, kept, saved_list, documents,
                                                        year_from, year_to, kinds, title, active],
            api_visibility="private").then(None, None, None, js="() => { window.rcLoaded && window.rcLoaded(); }")
        open_button.click(open_saved, [saved_list, opened, kept], [chat, sources, conversation, status, to_browser],
                          js="(id, s, k) => [id, window.rcStore ? window.rcStore.get(id) : '', k]",
                          api_visibility="private")
        delete_button.click(delete_saved, [saved_list, conversation, kept],
                            [chat, sources, conversation, kept, saved_list, status, to_browser, md_file],
                            api_visibility="private")
        # Documents: the list is read from the Service each time (the index can change under it).
        documents_tab.select(documents_view, None, [index_status, table, to_remove], api_visibility="private")
        if manage_documents:
            add_button.click(upload, [files], [index_status, files, timer], api_visibility="private")
        remove_button.click(remove, [to_remove, remove_confirmed], [index_status, timer], api_visibility="private",
                            js="(f) => [f, f && confirm('Remove ' + f + ' from the index? The file is kept in "
                               "corpus/.removed/.') ? 'yes' : 'no']")
        timer.tick(poll, None, [index_status, table, to_remove, timer, title], api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
    # Questions answered at once (each takes milliseconds); the rest wait in a queue of
    # `queue_size`, beyond which a request is refused as busy ("Queue is full").
    demo.queue(default_concurrency_limit=max(1, concurrency), max_size=queue_size)
    return demo


class Mounted:
    """The chat mounted on the API's app; tells the API who is logged in to the chat."""

    def __init__(self, gradio_app):
        self.gradio_app = gradio_app

    def session_user(self, request) -> str | None:
        app = self.gradio_app
        token = (request.cookies.get(f"access-token-{app.cookie_id}")
                 or request.cookies.get(f"access-token-unsecure-{app.cookie_id}"))
        return app.tokens.get(token) if token else None


def upload_folder() -> Path:
    """A temporary folder of this process for whatever reaches Gradio's upload endpoint
    (removed by `ragcomm serve` when it stops); those of servers that were killed go now."""
    base = Path(tempfile.gettempdir())
    for old in base.glob("ragcomm-uploads-*"):
        try:
            pid = int(old.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue
    return Path(tempfile.mkdtemp(prefix=f"ragcomm-uploads-{os.getpid()}-"))


def mount(app, service: Service, auth, concurrency: int = 4, queue_size: int = 256, history=None,
          manage_documents: bool = True, max_upload_bytes: int = 50 * 2**20, upload_max_age: int = 600) -> Mounted:
    """Mount the chat at / of the FastAPI app (after its /api routes). `auth`: the logins, or
    a `check(user, password)` (access.login_checker, which throttles failures). Uploads are
    limited to `max_upload_bytes` and deleted `upload_max_age` seconds after they arrive."""
    from starlette.routing import Mount

    demo = build_app(service, history=history, manage_documents=manage_documents,
                     max_upload_bytes=max_upload_bytes, concurrency=concurrency, queue_size=queue_size)
    demo.delete_cache = (max(1, min(60, upload_max_age)), upload_max_age)
    gr.mount_gradio_app(app, demo, path="/", auth=auth or None, footer_links=[], show_error=False,
                        max_file_size=max_upload_bytes, theme=gr.themes.Soft(),
                        css=(STATIC / "chat.css").read_text() + (STATIC / "documents.css").read_text(),
                        head=f"<script>{(STATIC / 'chat.js').read_text()}</script>", run_history=False, ssr_mode=False)
    gradio_app = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "")
    return Mounted(gradio_app)
