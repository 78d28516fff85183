"""Word files (.docx, python-docx): paragraphs and tables in document order; headings from
the paragraph styles (Title, Heading n); contents (TOC) paragraphs left out."""
from __future__ import annotations

import re
from pathlib import Path

from .base import Extracted
from .budget import DEFAULT, Budget, check_archive

EXTENSIONS = (".docx",)
CONTENTS_ENTRY = re.compile(r"(\t|\.{3,}|…)\s*\d{1,4}\s*$")


def read(path: Path, budget: Budget = DEFAULT) -> Extracted:
    import docx as python_docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_archive(path, budget)
    document = python_docx.Document(str(path))
    parts, headings, title = [], set(), ""
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "tbl":
            parts.append(table_text(Table(element, document)))
            continue
        if tag != "p":
            continue
        para = Paragraph(element, document)
        text = re.sub(r"\s+", " ", para.text).strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith(("toc", "table of contents")) or CONTENTS_ENTRY.search(para.text):
            continue  # a contents line: a heading and its page number
        if style.startswith(("heading", "title")):
            headings.add(text)
            if style.startswith("title") and not title:
                title = text
            parts.append(f"\n{text}\n")  # its own block
        elif "list" in style:
            parts.append(f"• {text}")
        else:
            parts.append(text + "\n")
    core = (document.core_properties.title or "").strip()
    first_heading = next((p.strip() for p in parts if p.strip() in headings), "")
    # No heading styles at all (headings typed as bold text): let cleaning guess them.
    created = document.core_properties.created
    return Extracted("\n".join(parts), title=core or title or first_heading, headings=headings or None,
                     metadata={"file_created": created.date().isoformat()} if created else {})


def table_text(table) -> str:
    """A table as rows that read: cells joined by ' | ', merged cells once."""
    lines = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            text = re.sub(r"\s+", " ", cell.text).strip()
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return "\n" + "\n".join(lines) + "\n"
