"""A conversation exported as clean Markdown or as a Word document (python-docx), with one
numbered reference list for the whole conversation (a document cited in several answers
keeps its number)."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .view import answer_text, reference_line, references


def numbered(conversation: dict) -> tuple[list[tuple[dict, str]], list[dict]]:
    """[(turn, answer text with conversation-wide reference numbers)] and the references."""
    refs: dict[str, dict] = {}
    turns = []
    for turn in conversation.get("turns") or []:
        answer = turn["answer"]
        own, numbers = references(answer, turn.get("titles"))
        if not any(r["cited"] for r in own):  # an abstention cites nothing
            turns.append((turn, answer.get("answer", "")))
            continue
        local_to_global = {}
        for ref in own:
            if ref["doc_id"] not in refs:
                refs[ref["doc_id"]] = {**ref, "n": len(refs) + 1, "quotes": []}
            refs[ref["doc_id"]]["quotes"].extend(ref["quotes"])
            local_to_global[ref["n"]] = refs[ref["doc_id"]]["n"]
        text = answer_text(answer, {m: local_to_global[n] for m, n in numbers.items()})
        turns.append((turn, text))
    return turns, list(refs.values())


def title_of(conversation: dict) -> str:
    turns = conversation.get("turns") or []
    return conversation.get("title") or (turns[0]["question"] if turns else "Conversation")


def md_escape(text: str) -> str:
    """Text that Markdown shows as written (no accidental emphasis, links or headings).

    >>> md_escape("Use *this* [1] # not a heading")
    'Use \\\\*this\\\\* \\\\[1\\\\] \\\\# not a heading'
    """
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


def to_markdown(conversation: dict, now: datetime | None = None) -> str:
    turns, refs = numbered(conversation)
    when = (now or datetime.now()).strftime("%d %B %Y, %H:%M")
    out = [f"# {md_escape(title_of(conversation))}", "",
           f"Answers quoted word for word from the indexed NHS commissioning documents (ragcomm), exported {when}.",
           ""]
    for i, (turn, text) in enumerate(turns, start=1):
        out += [f"## {i}. {md_escape(turn['question'])}", ""]
        # markers stay readable as [n]: escape the text, then restore the reference numbers
        out += [re.sub(r"\\\[(\d+)\\\]", r"[\1]", md_escape(text)), ""]
        for note in (turn.get("filters"), turn["answer"].get("note")):
            if note:
                out += [f"_{md_escape(note)}_", ""]
    if refs:
        out += ["## References", ""]
        for ref in refs:
            out.append(f"{ref['n']}. {md_escape(reference_line(ref))}")
            for q in ref["quotes"]:
                out.append(f"    > {md_escape(q['sentence'])}")
        out.append("")
    return "\n".join(out)


def to_docx(conversation: dict, path: Path, now: datetime | None = None) -> Path:
    """The conversation as a Word document: title, each question as a heading, its answer
    with [n], and a numbered reference list."""
    from docx import Document
    from docx.shared import Pt

    turns, refs = numbered(conversation)
    doc = Document()
    doc.core_properties.title = title_of(conversation)[:200]
    doc.add_heading(title_of(conversation), level=1)
    when = (now or datetime.now()).strftime("%d %B %Y, %H:%M")
    doc.add_paragraph(f"Answers quoted word for word from the indexed NHS commissioning documents (ragcomm), "
                      f"exported {when}.").runs[0].italic = True
    for i, (turn, text) in enumerate(turns, start=1):
        doc.add_heading(f"{i}. {turn['question']}", level=2)
        doc.add_paragraph(text)
        for note in (turn.get("filters"), turn["answer"].get("note")):
            if note:
                doc.add_paragraph(note).runs[0].italic = True
    if refs:
        doc.add_heading("References", level=2)
        for ref in refs:
            p = doc.add_paragraph(f"[{ref['n']}] {reference_line(ref)}")
            for q in ref["quotes"]:
                run = doc.add_paragraph(f"“{q['sentence']}”").runs[0]
                run.italic = True
                run.font.size = Pt(9)
            p.paragraph_format.space_before = Pt(6)
    path = Path(path)
    doc.save(path)
    return path


def file_stem(conversation: dict) -> str:
    """A safe file name from the conversation's title.

    >>> file_stem({"title": "What is PBC? / GPs' views"})
    'what-is-pbc-gps-views'
    """
    stem = re.sub(r"[^a-z0-9]+", "-", title_of(conversation).lower()).strip("-")[:60].strip("-")
    return stem or "conversation"
