"""One reader per file format, chosen by extension: `read(path, budget)` -> raw text, or an
`Extracted` (text with page breaks, title, headings, per-page facts) for layout-aware ones.
Every reader keeps to one `Budget` (budget.py: expanded bytes, pages, cells, characters),
and refuses a file over it before parsing what it can count first.

A new format is a module here with `EXTENSIONS` and `read(path, budget)`, added to `READERS`.

    >>> sorted(SUPPORTED)[:3]
    ['.csv', '.doc', '.docx']
"""
from __future__ import annotations

import inspect
from pathlib import Path

from . import doc, docx, html, odt, pdf, pptx, sheets, text
from .base import PAGE_BREAK, Extracted, IngestError, as_extracted
from .budget import DEFAULT, Budget, OverBudget

READERS = {ext: module.read for module in (text, html, pdf, docx, odt, pptx, doc, sheets)
           for ext in module.EXTENSIONS}
SUPPORTED = frozenset(READERS)
MAX_FILE_BYTES = 200 * 1024 * 1024


def read_document(path: Path, log=None, budget: Budget = DEFAULT) -> Extracted:
    """One file as an Extracted, by its extension, within `budget`. Raises IngestError if it
    can't be read (OverBudget when it is over the budget). `log` hears about progress on
    long work (OCR). In this process: ingest/worker.py runs it where it can be stopped."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise IngestError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(sorted(SUPPORTED))})")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(f"file too large ({size} bytes; at most {MAX_FILE_BYTES // 2**20} MB)")
        if size == 0:
            raise IngestError("empty file (0 bytes)")
        reader = READERS[ext]
        options = {"log": log} if "log" in inspect.signature(reader).parameters else {}
        result = as_extracted(reader(path, budget=budget, **options))
        budget.check("text_chars", len(result.text))
        return result
    except IngestError:
        raise
    except MemoryError:
        raise OverBudget(budget.message("memory_bytes")) from None
    except Exception as exc:  # a parser's own failure: report, don't crash the build
        raise IngestError(f"{type(exc).__name__}: {exc}".strip()[:300]) from exc


def read_text(path: Path) -> str:
    """Raw text of one file (pages separated by form feeds). Raises IngestError if it can't be read."""
    return read_document(path).text


__all__ = ["Budget", "Extracted", "IngestError", "MAX_FILE_BYTES", "OverBudget", "PAGE_BREAK", "READERS", "SUPPORTED",
           "read_document", "read_text"]
