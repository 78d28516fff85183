"""A conversation exported as clean Markdown or as a Word document (python-docx), with one
numbered reference list for the whole conversation (a document cited in several answers
keeps its number, each sentence it gave quoted once), PubMed and DOI records as links, and
under an answer that declined, the closest passages it found."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from .view import answer_text, record_line, reference_line, references, sentences, shorten

EXCERPT = 400  # characters of a closest passage quoted under an answer that declined


def numbered(conversation: dict) -> tuple[list[tuple[dict, str, list[dict]]], list[dict]]:
    """[(turn, answer text with conversation-wide reference numbers, the closest passages'
    references when the answer declined)] and the references."""
    refs: dict[str, dict] = {}
    turns = []
    for turn in conversation.get("turns") or []:
        answer = turn["answer"]
        own, numbers = references(answer, turn.get("titles"))
        if not any(r["cited"] for r in own):  # an abstention cites nothing: its closest passages instead
            turns.append((turn, answer.get("answer", ""), own))
            continue
        local_to_global = {}
        for ref in own:
            if ref["doc_id"] not in refs:
                refs[ref["doc_id"]] = {**ref, "n": len(refs) + 1, "quotes": []}
            kept = refs[ref["doc_id"]]["quotes"]
            kept.extend(q for q in ref["quotes"] if (q["start"], q["end"]) not in {(k["start"], k["end"]) for k in kept})
            local_to_global[ref["n"]] = refs[ref["doc_id"]]["n"]
        text = answer_text(answer, {m: local_to_global[n] for m, n in numbers.items()})
        turns.append((turn, text, []))
    return turns, list(refs.values())


def record_links(meta: dict) -> list[tuple[str, str]]:
    """(label, url) of a record's PubMed and DOI pages.

    >>> record_links({"pmid": "25320000", "doi": "10.1136/bmjopen-2014-005970"})
    [('PMID 25320000', 'https://pubmed.ncbi.nlm.nih.gov/25320000/'), ('doi:10.1136/bmjopen-2014-005970', 'https://doi.org/10.1136/bmjopen-2014-005970')]
    """
    out = []
    if meta.get("pmid"):
        out.append((f"PMID {meta['pmid']}", f"https://pubmed.ncbi.nlm.nih.gov/{quote(str(meta['pmid']))}/"))
    if meta.get("doi"):
        out.append((f"doi:{meta['doi']}", f"https://doi.org/{quote(meta['doi'], safe='/:;()')}"))
    return out


def plain_record(meta: dict) -> str:
    """The record line without its PMID and DOI (they follow as links)."""
    return record_line({k: v for k, v in meta.items() if k not in ("pmid", "doi")})


def md_reference(ref: dict) -> str:
    """A reference in Markdown: its words escaped, the PubMed and DOI records as links."""
    meta = ref.get("metadata") or {}
    parts = [md_escape(plain_record(meta))] if plain_record(meta) else []
    record = " · ".join(parts + [f"[{md_escape(label)}]({url})" for label, url in record_links(meta)])
    return reference_line({**ref, "title": md_escape(ref["title"]), "source": md_escape(ref["source"])}, record)


def excerpt(hit: dict) -> str:
    return shorten(hit.get("text", ""), EXCERPT)


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
    for i, (turn, text, closest) in enumerate(turns, start=1):
        out += [f"## {i}. {md_escape(turn['question'])}", ""]
        if turn["answer"].get("caution"):
            out += [f"**{md_escape(turn['answer']['caution'])}**", ""]
        # markers stay readable as [n]: escape the text, then restore the reference numbers
        out += [re.sub(r"\\\[(\d+)\\\]", r"[\1]", md_escape(text)), ""]
        for note in (turn.get("filters"), turn["answer"].get("note")):
            if note:
                out += [f"_{md_escape(note)}_", ""]
        if closest:
            out += ["The closest passages found (not cited, for you to check):", ""]
            for ref in closest:
                out.append(f"- {md_reference(ref)}")
                for hit in ref["passages"]:
                    out.append(f"    > {md_escape(excerpt(hit))}")
            out.append("")
    if refs:
        out += ["## References", ""]
        for ref in refs:
            out.append(f"{ref['n']}. {md_reference(ref)}")
            for q in ref["quotes"]:
                out.append(f"    > {md_escape(q['sentence'])}")
        out.append("")
    return "\n".join(out)


def add_reference(doc, prefix: str, ref: dict):
    """A reference as a Word paragraph, the PubMed and DOI records as hyperlinks."""
    meta = ref.get("metadata") or {}
    record, links = plain_record(meta), record_links(meta)
    p = doc.add_paragraph(prefix + sentences([ref["title"]]))
    if record or links:
        p.add_run(" " + record)
        for n, (label, url) in enumerate(links):
            p.add_run(" · " if n or record else "")
            add_hyperlink(p, label, url)
        p.add_run(".")
    rest = reference_line({**ref, "title": "", "record": ""})
    if rest:
        p.add_run(" " + rest)
    return p


def add_hyperlink(paragraph, text: str, url: str) -> None:
    """A clickable link in a python-docx paragraph (python-docx has no call for one)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.extend([style, color, underline])
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


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
    for i, (turn, text, closest) in enumerate(turns, start=1):
        doc.add_heading(f"{i}. {turn['question']}", level=2)
        if turn["answer"].get("caution"):
            doc.add_paragraph(turn["answer"]["caution"]).runs[0].bold = True
        doc.add_paragraph(text)
        for note in (turn.get("filters"), turn["answer"].get("note")):
            if note:
                doc.add_paragraph(note).runs[0].italic = True
        if closest:
            doc.add_paragraph("The closest passages found (not cited, for you to check):")
            for ref in closest:
                add_reference(doc, "• ", ref)
                for hit in ref["passages"]:
                    run = doc.add_paragraph(f"“{excerpt(hit)}”").runs[0]
                    run.italic = True
                    run.font.size = Pt(9)
    if refs:
        doc.add_heading("References", level=2)
        for ref in refs:
            p = add_reference(doc, f"[{ref['n']}] ", ref)
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
