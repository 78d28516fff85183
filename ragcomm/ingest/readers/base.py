"""What every reader shares: the error it raises for a file it cannot read, and the richer
result a layout-aware reader gives (pages, title, headings, per-page facts)."""
from __future__ import annotations

from dataclasses import dataclass, field

PAGE_BREAK = "\f"  # between the pages (or slides) of an Extracted text


class IngestError(Exception):
    """A file that cannot be read; the message says why."""


@dataclass
class Extracted:
    """A file's text as a reader saw it. Simple readers return a plain string instead.

    text      pages separated by PAGE_BREAK when `paged` (page n is the n-th piece)
    paged     page numbers mean something to a reader of the original (PDF pages, slides)
    title     the document's own title, where the file says it ('' to let cleaning choose)
    headings  lines known to be headings (styles, font size): only these become sections;
              None lets cleaning guess headings from the text
    metadata  facts about the file: page count, OCR'd pages and their confidence, the
              running headers and footers that were taken out of the text
    """
    text: str
    paged: bool = False
    title: str = ""
    headings: set | None = None
    metadata: dict = field(default_factory=dict)


def as_extracted(result) -> Extracted:
    return result if isinstance(result, Extracted) else Extracted(result)
