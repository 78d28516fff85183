"""PDF files (pypdf): the text layer of each page, pages separated by form feeds."""
from __future__ import annotations

from pathlib import Path

from .base import IngestError

EXTENSIONS = (".pdf",)


def read(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        raise IngestError("encrypted PDF")
    pages = [page.extract_text() or "" for page in reader.pages]
    if not any(p.strip() for p in pages):
        raise IngestError("PDF has no extractable text (scanned images?)")
    return "\f".join(pages)
