"""One reader per file format, chosen by extension: `read(path) -> raw text`.

A new format is a module here with `EXTENSIONS` and `read(path)`, added to `READERS`.

    >>> sorted(SUPPORTED)[:3]
    ['.docx', '.htm', '.html']
"""
from __future__ import annotations

from pathlib import Path

from . import docx, html, pdf, text
from .base import IngestError

READERS = {ext: module.read for module in (text, html, pdf, docx) for ext in module.EXTENSIONS}
SUPPORTED = frozenset(READERS)
MAX_FILE_BYTES = 200 * 1024 * 1024


def read_text(path: Path) -> str:
    """Raw text of one file, by its extension. Raises IngestError if it can't be read."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise IngestError(f"unsupported file type '{ext or path.name}'")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(f"file too large ({size} bytes)")
        return READERS[ext](path)
    except IngestError:
        raise
    except Exception as exc:  # a parser's own failure: report, don't crash the build
        raise IngestError(f"{type(exc).__name__}: {exc}".strip()[:300]) from exc


__all__ = ["IngestError", "MAX_FILE_BYTES", "READERS", "SUPPORTED", "read_text"]
