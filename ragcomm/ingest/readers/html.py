"""Web pages (.html, .htm): visible text, with navigation, scripts and styles left out."""
from __future__ import annotations

from pathlib import Path

from .text import decode

EXTENSIONS = (".html", ".htm")


def read(path: Path) -> str:
    return html_to_text(decode(Path(path).read_bytes()))


SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "form", "svg", "template", "head"}
BLOCK_TAGS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "br", "td", "th",
              "blockquote", "pre", "ul", "ol", "table", "main", "aside", "dd", "dt", "hr"}


def html_to_text(html: str) -> str:
    """Visible text of a page: a streaming parser (no tree), so any nesting depth is linear."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            if tag in SKIP_TAGS:
                self.skip += 1
            elif tag == "li":
                self.parts.append("\n• ")
            elif tag in BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_startendtag(self, tag, attrs):
            if tag in ("br", "hr"):
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag in SKIP_TAGS:
                self.skip = max(0, self.skip - 1)
            elif tag in BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)
