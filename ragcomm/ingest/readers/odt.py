"""OpenDocument text (.odt, odfpy): headings (text:h), paragraphs, lists and tables in order."""
from __future__ import annotations

import re
from pathlib import Path

from .base import Extracted
from .budget import DEFAULT, Budget, check_archive

EXTENSIONS = (".odt",)


def read(path: Path, budget: Budget = DEFAULT) -> Extracted:
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS
    from odf.opendocument import load

    check_archive(path, budget)
    document = load(str(path))
    parts, headings = [], set()

    def text_of(element) -> str:
        return re.sub(r"\s+", " ", teletype.extractText(element)).strip()

    def walk(element, in_list=False):
        for child in element.childNodes:
            name = getattr(child, "qname", None)
            if name == (TEXTNS, "h"):
                text = text_of(child)
                if text:
                    headings.add(text)
                    parts.append(f"\n{text}\n")
            elif name == (TEXTNS, "p"):
                text = text_of(child)
                if text:
                    parts.append(f"• {text}" if in_list else text + "\n")
            elif name in ((TEXTNS, "list"), (TEXTNS, "list-item")):
                walk(child, in_list=True)
            elif name == (TABLENS, "table"):
                rows = []
                for row in child.getElementsByType(_table_row()):
                    cells = [text_of(c) for c in row.childNodes if getattr(c, "qname", None) == (TABLENS, "table-cell")]
                    if any(cells):
                        rows.append(" | ".join(c for c in cells if c))
                parts.append("\n" + "\n".join(rows) + "\n")
            elif name == (TEXTNS, "section"):  # (a table-of-content is left out)
                walk(child, in_list)

    walk(document.text)
    title = ""
    for element in document.meta.childNodes:
        if getattr(element, "qname", (None, None))[1] == "title":
            title = text_of(element)
    first_heading = next((p.strip() for p in parts if p.strip() in headings), "")
    return Extracted("\n".join(parts), title=title or first_heading, headings=headings or None)


def _table_row():
    from odf.table import TableRow

    return TableRow
