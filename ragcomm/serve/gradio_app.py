"""The web chat (Gradio): ask the commissioning documents, get a cited extractive answer.

Every answer comes from the shared Answerer (serve/service.py), the same as `ragcomm ask`;
it is also the app's named API endpoint `/ask`, which returns the JSON of `ragcomm ask --json`:

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("What is an animateur?", api_name="/ask")

Gradio is imported here only: nothing else in ragcomm imports it.
"""
from __future__ import annotations

import html
import logging
import re

import gradio as gr

from ..answer import Answer
from ..search import MAX_QUESTION_CHARS, MODES, QueryError
from .service import Service

log = logging.getLogger("ragcomm.app")

EXAMPLES = [
    "What makes a good commissioning manager?",
    "Why were CCGs reluctant to outsource commissioning support functions?",
    "How did commissioners use academic research and local data?",
    "What is practice based commissioning?",
]

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto !important; }
#title h1 { margin-bottom: 0; font-size: 1.6rem; }
#title p { margin-top: .25rem; color: var(--body-text-color-subdued); }
#chat *, #sources, .rc-query, .rc-source h4, .rc-abstain { overflow-wrap: anywhere; }
#status { min-height: 1.5rem; }
#status p { margin: 0; }
.rc-query { font-size: .9rem; color: var(--body-text-color-subdued); margin: 0 0 .6rem; }
.rc-query b { color: var(--body-text-color); }
.rc-empty { color: var(--body-text-color-subdued); font-style: italic; }
.rc-source { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .7rem .85rem;
             margin: 0 0 .7rem; background: var(--background-fill-primary); }
.rc-source h4 { margin: 0 0 .2rem; font-size: 1rem; line-height: 1.3; }
.rc-marker { display: inline-block; min-width: 1.9rem; text-align: center; border-radius: 6px; margin-right: .35rem;
             background: var(--color-accent-soft); color: var(--color-accent); font-weight: 700; }
.rc-meta { font-size: .82rem; color: var(--body-text-color-subdued); margin: .1rem 0; overflow-wrap: anywhere; }
.rc-passage { font-size: .9rem; line-height: 1.5; margin: .45rem 0; overflow-wrap: anywhere; }
.rc-passage mark { background: #fff1a8; color: #1f2937; padding: 0 .1rem; border-radius: 3px; }
.rc-evidence { display: flex; flex-wrap: wrap; gap: .35rem; font-size: .78rem; font-variant-numeric: tabular-nums; }
.rc-evidence span { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: .05rem .55rem;
                    color: var(--body-text-color-subdued); white-space: nowrap; }
.rc-abstain { border-left: 4px solid #d97706; padding-left: .6rem; }
"""


# ---------------------------------------------------------------- formatting (all user text escaped)

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_text(text: str) -> str:
    """Text shown literally inside Markdown: HTML-escaped, Markdown syntax backslash-escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def chat_message(answer: Answer) -> str:
    """The assistant's message: the answer with its markers, then a short source list, so that
    the message's copy button copies the answer with its citations."""
    if answer.abstained:
        body = f"**{md_text(answer.text)}**"
        if answer.note:
            body += f"\n\n{md_text(answer.note)}"
        closest = [f"{hit.title}" + (f", {hit.section}" if hit.section and hit.section != hit.title else "")
                   for hit in answer.sources]
        return body + "".join(f"\n- {md_text(line)}" for line in closest)
    body = re.sub(r"\\\[(\d+)\\\]", r"**[\1]**", md_text(answer.text))
    lines = []
    for hit in answer.sources:
        n = answer.markers()[hit.chunk_id]
        where = f", {hit.section}" if hit.section and hit.section != hit.title else ""
        record = hit.record_line()
        lines.append(f"[{n}] {hit.title}{where}" + (f" ({record})" if record else ""))
    return body + "\n\n" + "\n".join(f"- {md_text(line)}" for line in lines)


def plain_text(answer: Answer) -> str:
    """The answer with its markers and a source list, as plain text for copying."""
    lines = [answer.text, ""]
    markers = answer.markers()
    for n, hit in enumerate(answer.sources, start=1):
        label = f"[{markers[hit.chunk_id]}]" if hit.chunk_id in markers else f"(closest passage {n})"
        where = f", {hit.section}" if hit.section and hit.section != hit.title else ""
        record = hit.record_line()
        lines.append(f"{label} {hit.title}{where}" + (f". {record}" if record else "") +
                     f". {hit.source}, characters {hit.start}-{hit.end}")
    return "\n".join(lines)


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for a, b in sorted(spans):
        out.append(html.escape(text[at:a]))
        out.append(f"<mark>{html.escape(text[a:b])}</mark>")
        at = b
    out.append(html.escape(text[at:]))
    return "".join(out)


def fmt(value, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def sources_html(answer: Answer | None) -> str:
    if answer is None:
        return '<p class="rc-empty">Sources appear here: each cited passage, with the cited sentence highlighted.</p>'
    e = html.escape
    out = [f'<p class="rc-query">Searched: <b>{e(answer.query)}</b></p>']
    if answer.abstained:
        score = (f"Answerability {answer.confidence:.2f}" if answer.confidence is not None
                 else f"Best dense score {answer.evidence:.3f}")
        decided = f"; decided by {answer.decided_by}" if answer.decided_by else ""
        out.append(f'<p class="rc-abstain">{e(answer.text)} {score} (threshold {answer.threshold:.2f}{e(decided)}).</p>')
    markers = answer.markers()
    for n, hit in enumerate(answer.sources, start=1):
        marker = markers.get(hit.chunk_id)
        label = f"[{marker}]" if marker else f"#{n}"
        spans = [(c.passage_start, c.passage_end) for c in answer.citations if c.chunk_id == hit.chunk_id]
        section = f" — {e(hit.section)}" if hit.section and hit.section != hit.title else ""
        record = hit.record_line()
        out.append(
            f'<div class="rc-source" id="source-{e(str(marker or n))}">'
            f'<h4><span class="rc-marker">{e(label)}</span>{e(hit.title)}{section}</h4>'
            + (f'<div class="rc-meta">{e(record)}</div>' if record else "")
            + f'<div class="rc-meta">{e(hit.source)} · characters {hit.start}–{hit.end} · {e(hit.doc_id)}</div>'
            f'<div class="rc-passage">{highlighted(hit.text, spans)}</div>'
            '<div class="rc-evidence">'
            f'<span>BM25 #{fmt(hit.bm25_rank, 0)} · {fmt(hit.bm25_score, 2)}</span>'
            f'<span>dense #{fmt(hit.dense_rank, 0)} · {fmt(hit.dense_score, 3)}</span>'
            f'<span>fused #{hit.rank} · {fmt(hit.fused_score if hit.fused_score is not None else hit.score, 4)}</span>'
            '</div></div>')
    return "".join(out)


# ---------------------------------------------------------------- the app

def filters_for(documents, year_from, year_to, kinds) -> dict:
    filters = {"doc_id": list(documents or []), "kind": list(kinds or [])}
    if year_from not in (None, ""):
        filters["year_from"] = int(year_from)
    if year_to not in (None, ""):
        filters["year_to"] = int(year_to)
    return {k: v for k, v in filters.items() if v not in ([], None)}


def build_app(service: Service) -> gr.Blocks:
    documents_indexed = service.documents()
    doc_choices = [(d["title"][:90] + (f" ({d['year']})" if d["year"] else ""), d["doc_id"]) for d in documents_indexed]
    kinds = sorted({d["kind"] for d in documents_indexed if d["kind"]})

    def ask(question: str, k: int = 5, mode: str = "hybrid", history: list[str] | None = None,
            documents: list[str] | None = None, year_from: int | None = None, year_to: int | None = None,
            kinds: list[str] | None = None) -> dict:
        """Answer a question from the documents: JSON with the answer, its citations and sources
        (the same as `ragcomm ask --json`). `history` holds the earlier questions, oldest first."""
        try:
            answer = service.ask(question, k=int(k), mode=mode, history=list(history or []),
                                 filters=filters_for(documents, year_from, year_to, kinds))
        except QueryError as exc:
            raise gr.Error(str(exc), print_exception=False)
        return answer.to_dict()

    def respond(question, chat, asked, k, mode, documents, year_from, year_to, kinds_chosen):
        chat = list(chat or [])
        asked = list(asked or [])
        question = (question or "").strip()
        if not question:
            return chat, gr.update(), asked, "", "**Type a question first.**", gr.update()
        if len(question) > MAX_QUESTION_CHARS:
            return (chat, gr.update(), asked, question,
                    f"**The question is too long ({len(question):,} characters; at most {MAX_QUESTION_CHARS:,}).**",
                    gr.update())
        try:
            answer = service.ask(question, k=int(k), mode=mode, history=asked,
                                 filters=filters_for(documents, year_from, year_to, kinds_chosen))
        except QueryError as exc:
            return chat, gr.update(), asked, question, f"**{md_text(str(exc))}**", gr.update()
        except Exception:  # never a stack trace in the page
            log.exception("answering %r failed", question)
            return (chat, gr.update(), asked, question, "**Something went wrong answering this; it has been logged.**",
                    gr.update())
        chat += [{"role": "user", "content": md_text(question)},
                 {"role": "assistant", "content": chat_message(answer)}]
        status = "" if answer.query == question else f"Follow-up searched as: *{md_text(answer.query)}*"
        return chat, sources_html(answer), asked + [question], "", status, plain_text(answer)

    def reset():
        return [], sources_html(None), [], "", "", ""

    with gr.Blocks(title="ragcomm — ask the commissioning documents") as demo:
        gr.Markdown("# Ask the commissioning documents\n"
                    f"Answers are sentences copied word for word from {len(documents_indexed)} NHS commissioning "
                    "documents, each with its source [n]. Nothing is generated; when the documents do not "
                    "answer, it says so.", elem_id="title")
        asked = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chat = gr.Chatbot(label="Conversation", elem_id="chat", height=460, buttons=["copy", "copy_all"],
                                  sanitize_html=True, feedback_options=None, layout="bubble",
                                  placeholder="Ask a question, or start from an example below.")
                with gr.Row():
                    box = gr.Textbox(label="Your question", placeholder="e.g. What makes a good commissioning manager?",
                                     lines=1, max_lines=4, scale=5, elem_id="question", autofocus=True,
                                     max_length=MAX_QUESTION_CHARS + 1000)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                status = gr.Markdown("", elem_id="status")
                with gr.Accordion("Copy the answer with its citations", open=False):
                    copy = gr.Textbox(label="Answer and sources, plain text", lines=6, max_lines=14, interactive=False,
                                      buttons=["copy"], elem_id="copy")
                gr.Examples(EXAMPLES, inputs=[box], label="Example questions")
                with gr.Accordion("Options", open=False):
                    k = gr.Slider(1, 10, value=5, step=1, label="Passages to answer from")
                    mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval")
                    documents = gr.Dropdown(doc_choices, multiselect=True, label="Only these documents")
                    with gr.Row():
                        year_from = gr.Number(None, label="Year from", precision=0, minimum=1900, maximum=2100)
                        year_to = gr.Number(None, label="Year to", precision=0, minimum=1900, maximum=2100)
                    kind = gr.CheckboxGroup(kinds, label="Kind of document (none ticked: all)")
                clear = gr.Button("New conversation", size="sm", variant="secondary")
            with gr.Column(scale=2, min_width=300):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None), elem_id="sources")

        inputs = [box, chat, asked, k, mode, documents, year_from, year_to, kind]
        outputs = [chat, sources, asked, box, status, copy]
        send.click(respond, inputs, outputs, api_visibility="private")
        box.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(reset, None, outputs, api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def launch(service: Service, host: str, port: int, concurrency: int, auth: list | None) -> None:
    """Serve the chat until interrupted."""
    demo = build_app(service)
    demo.queue(default_concurrency_limit=max(1, concurrency), max_size=64)
    demo.launch(server_name=host, server_port=port, theme=gr.themes.Soft(), css=CSS,
                footer_links=["api"], show_error=False, auth=auth or None)
