"""Web pages (.html, .htm): visible text with headings (h1-h6) kept as headings, link text
kept, table rows as lines of cells joined by ' | '; navigation, scripts and styles left out."""
from __future__ import annotations

import re
from pathlib import Path

from .base import Extracted
from .budget import DEFAULT, Budget
from .text import decode

EXTENSIONS = (".html", ".htm")


def read(path: Path, budget: Budget = DEFAULT) -> Extracted:
    return html_document(decode(Path(path).read_bytes()))


SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "form", "svg", "template", "head"}
BLOCK_TAGS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "br",
              "blockquote", "pre", "ul", "ol", "table", "main", "aside", "dd", "dt", "hr", "caption"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def html_to_text(html: str) -> str:
    return html_document(html).text


def html_document(html: str) -> Extracted:
    """Visible text of a page: a streaming parser (no tree), so any nesting depth is linear."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.skip = [], 0
            self.heading: list | None = None
            self.headings, self.title, self.in_title, self.h1 = set(), "", False, ""
            self.cells = 0

        def handle_starttag(self, tag, attrs):
            if tag == "title":
                self.in_title = True
            if tag in SKIP_TAGS:
                self.skip += 1
            elif tag == "li":
                self.parts.append("\n• ")
            elif tag in ("td", "th"):
                self.parts.append(" | " if self.cells else "")
                self.cells += 1
            elif tag in BLOCK_TAGS:
                self.parts.append("\n\n")
                if tag == "tr":
                    self.cells = 0
                if tag in HEADINGS:
                    self.heading = []

        def handle_startendtag(self, tag, attrs):
            if tag in ("br", "hr"):
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag == "title":
                self.in_title = False
            if tag in SKIP_TAGS:
                self.skip = max(0, self.skip - 1)
            elif tag in HEADINGS and self.heading is not None:
                text = " ".join("".join(self.heading).split())
                if text:
                    self.headings.add(text)
                    self.h1 = self.h1 or (text if tag == "h1" else "")
                self.heading = None
                self.parts.append("\n\n")
            elif tag in BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_data(self, data):
            if self.in_title:
                self.title += data
            if not self.skip:
                self.parts.append(data)
                if self.heading is not None:
                    self.heading.append(data)

    parser = Text()
    parser.feed(html)
    parser.close()
    title = " ".join(parser.title.split())
    title = re.split(r"\s+[-|–]\s+", title)[0] if title else ""  # 'Typography - Site name'
    # a table row's cells stay on one line
    text = re.sub(r"[ \t]*\n\s*\|\s*", " | ", "".join(parser.parts))
    text = re.sub(r"(?m)^\s*•\s*$", "", text)  # empty list items (icons, menus)
    return Extracted(text, title=parser.h1 or title, headings=parser.headings or None)
