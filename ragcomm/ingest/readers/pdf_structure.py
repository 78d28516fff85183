"""A PDF's pages in lines (pdf.py) -> its structure: contents pages dropped, headings marked
by font size and weight, the title found, each page as text. Split out of pdf.py; works on its
Page and Line objects."""
from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotations only: pdf.py imports this module
    from .pdf import Line, Page

HEADING_SIZE = 1.12  # a heading's font is at least this much larger than the body's (or all bold)
CONTENTS_HEADING = re.compile(r"^\s*(table of )?contents\s*$", re.I)
ENDS_IN_PAGE_NUMBER = re.compile(r"\S.*(\s|\.{2,}|…)\d{1,3}\s*$")
CONTENTS_ENTRY_START = re.compile(r"^(\d{1,2}(\.\d{1,2})*|[A-Z]|appendix \w+)\s+\S", re.I)  # a wrapped entry


def drop_contents_pages(pages: list[Page]) -> list[int]:
    """Pages that are a table of contents: a 'Contents' line near the top and most other
    lines ending in a page number (with or without dot leaders). Their lines are dropped."""
    dropped = []
    in_contents = False
    for p in pages:
        texts = [line.text for line in p.lines]
        numbered = [t for t in texts if ENDS_IN_PAGE_NUMBER.match(t)]
        starts = any(CONTENTS_HEADING.match(t) for t in texts[:5])
        if (starts or in_contents) and texts and len(numbered) >= max(3, 0.5 * len(texts)):
            p.lines = [line for line in p.lines if not (ENDS_IN_PAGE_NUMBER.match(line.text)
                       or CONTENTS_HEADING.match(line.text) or CONTENTS_ENTRY_START.match(line.text))]
            dropped.append(p.number)
            in_contents = True
        else:
            in_contents = False
    return dropped


def body_size(pages: list[Page]) -> float:
    sizes: Counter = Counter()
    for p in pages:
        for line in p.lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def mark_headings(pages: list[Page], body: float) -> set:
    """Headings: short lines in a larger font than the body, or wholly bold, standing alone
    (not table rows, not sentences); a heading wrapped over two lines is joined."""
    headings = set()
    for p in pages:
        out: list[Line] = []
        for line in p.lines:
            heading = is_heading(line, body)
            if heading and out and out[-1].heading and abs(out[-1].size - line.size) < 0.5 \
                    and line.top - out[-1].bottom < 0.4 * line.size:  # wrapped, not the next heading
                out[-1].text = f"{out[-1].text} {line.text}"  # a heading wrapped onto a further line
                out[-1].bottom = line.bottom
                continue
            line.heading = heading
            out.append(line)
        p.lines = out
        headings.update(re.sub(r"\s+", " ", line.text).strip() for line in out if line.heading)
    return headings


def is_heading(line: Line, body: float) -> bool:
    s = line.text.strip()
    words = s.split()
    if not (2 <= len(s) <= 150) or len(words) > 18 or line.cells > 1 or not re.search(r"[A-Za-z]{2}", s):
        return False
    if re.search(r"[.,;]$", s) or ENDS_IN_PAGE_NUMBER.match(s) and re.search(r"\.{3}|…", s):
        return False
    larger = body and line.size >= HEADING_SIZE * body
    return bool(larger or (line.bold and line.size >= 0.95 * body))


def title_from(meta_title: str, pages: list[Page], headings: set) -> str:
    """The metadata title when it is one (not 'Layout 1' or a converter's file name), else
    the largest text on page 1, else the first heading ('' to let cleaning decide)."""
    t = (meta_title or "").strip()
    if t and len(t) >= 4 and " " in t and not re.search(r"^(microsoft \w+ - |layout \d)|\.(docx?|pdf|indd|qxp)$",
                                                         t, re.I):
        return t
    first = next((p for p in pages if p.lines), None)
    if first is not None:
        biggest = max(line.size for line in first.lines)
        parts = []
        for line in first.lines:
            if abs(line.size - biggest) < 0.5 and re.search(r"[A-Za-z]{2}", line.text):
                parts.append(line.text.strip())
            elif parts:
                break
        title = " ".join(parts)
        if 4 <= len(title) <= 200 and biggest > body_size(pages):
            return title
    for p in pages:
        for line in p.lines:
            if line.heading:
                return line.text.strip()
    return ""


def page_text(p: Page) -> str:
    """A page as text: blocks separated by blank lines, each heading a block of its own."""
    parts: list[str] = []
    prev = None
    for line in p.lines:
        if prev is not None and (line.new_block or line.heading or prev.heading):
            parts.append("")
        parts.append(line.text)
        prev = line
    return "\n".join(parts)
