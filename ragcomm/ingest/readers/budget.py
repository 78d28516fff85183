"""What reading one file may cost: one budget that every reader applies.

    expanded_bytes  what an archive (DOCX, XLSX, PPTX, ODT: zip files) or a PDF's compressed
                    streams inflate to, counted before anything is parsed
    pages           PDF pages, slides
    cells           spreadsheet and table cells, and the paragraphs of Word, ODT and slide files
    text_chars      characters of text the file gives
    seconds         time to read it, wall clock (the reading process is stopped after it)
    memory_bytes    the reading process's address space (ingest/worker.py sets it with setrlimit)

A file over any of them is refused with one line that names the limit and the flag that
raises it (`--max-pages` ...); nothing else happens to it.

    >>> Budget(pages=10).check("pages", 11)
    Traceback (most recent call last):
    ...
    ragcomm.ingest.readers.budget.OverBudget: more than 10 pages (11; raise with --max-pages)
"""
from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from .base import IngestError

MB = 2**20


class OverBudget(IngestError):
    """A file that would cost more to read than the budget allows."""


# name -> (what it counts, the flag that sets it, how a value is shown)
LIMITS = {
    "expanded_bytes": ("expands to more than {limit}", "--max-expanded-mb", lambda v: f"{v / MB:,.0f} MB"),
    "pages": ("more than {limit} pages", "--max-pages", lambda v: f"{v:,}"),
    "cells": ("more than {limit} cells or paragraphs", "--max-cells", lambda v: f"{v:,}"),
    "text_chars": ("more than {limit} characters of text", "--max-text-chars", lambda v: f"{v:,}"),
    "seconds": ("takes longer than {limit} to read", "--max-read-seconds", lambda v: f"{v:g} s"),
    "memory_bytes": ("needs more than {limit} of memory to read", "--max-read-memory-mb", lambda v: f"{v / MB:,.0f} MB"),
}


@dataclass(frozen=True)
class Budget:
    expanded_bytes: int = 256 * MB
    pages: int = 5_000
    cells: int = 1_000_000
    text_chars: int = 10_000_000
    seconds: float = 300.0
    memory_bytes: int = 1024 * MB

    @classmethod
    def from_settings(cls, settings) -> "Budget":
        return cls(expanded_bytes=int(settings.max_expanded_mb * MB), pages=settings.max_pages,
                   cells=settings.max_cells, text_chars=settings.max_text_chars,
                   seconds=float(settings.max_read_seconds), memory_bytes=int(settings.max_read_memory_mb * MB))

    def as_dict(self) -> dict:
        return asdict(self)

    def message(self, name: str, value=None) -> str:
        what, flag, show = LIMITS[name]
        limit = getattr(self, name)
        seen = f"{show(value)}; " if value is not None else ""
        return f"{what.format(limit=show(limit))} ({seen}raise with {flag})"

    def check(self, name: str, value) -> None:
        """OverBudget when `value` is over the limit `name`."""
        if value > getattr(self, name):
            raise OverBudget(self.message(name, value))


DEFAULT = Budget()


# ---------------------------------------------------------------- archives (DOCX, XLSX, PPTX, ODT)

# The start tags of paragraphs (w:p, a:p, text:p, text:h) and cells (w:tc, a:tc, a sheet's c)
BLOCK = re.compile(rb"<(?:[\w.-]+:)?(?:p|tc|c|table-cell|h)[\s/>]")
MARKUP = re.compile(rb"<[^>]*>|\s+")


def check_archive(path: Path, budget: Budget, parts=None) -> None:
    """Before a zip-based file is parsed: what its members inflate to (as declared: Python's
    zipfile never inflates past a member's declared size), then the cells, paragraphs and
    characters of its XML parts (`parts(name) -> bool`: the ones the reader parses), counted
    in the inflated bytes as they stream past (no parser, little memory), stopping at the limit."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(f"not a readable {Path(path).suffix.lstrip('.').upper()} file ({exc})") from None
    with archive:
        members = archive.infolist()
        budget.check("expanded_bytes", sum(m.file_size for m in members))
        blocks = chars = 0
        for member in members:
            if not member.filename.endswith(".xml") or (parts is not None and not parts(member.filename)):
                continue
            carry = b""
            with archive.open(member) as stream:
                while piece := stream.read(1 << 20):
                    data = carry + piece
                    cut = data.rfind(b"<")  # a tag cut in two waits for the next piece
                    cut = len(data) if cut < 0 or data.find(b">", cut) >= 0 else cut
                    data, carry = data[:cut], data[cut:]
                    blocks += len(BLOCK.findall(data))
                    chars += len(MARKUP.sub(b"", data))  # text, spaces aside
                    budget.check("cells", blocks)
                    budget.check("text_chars", chars)


# ---------------------------------------------------------------- PDF streams

STREAM = re.compile(rb"stream\r?\n")


def check_pdf_streams(path: Path, budget: Budget) -> None:
    """What a PDF's Flate-compressed streams inflate to, counted in pieces (never held whole)
    before PDFium parses them: a small file whose content stream inflates to hundreds of MB
    is refused here."""
    import mmap

    total = 0
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            position = 0
            while (match := STREAM.search(data, position)) is not None:
                start = match.end()
                end = data.find(b"endstream", start)
                end = len(data) if end < 0 else end
                total += inflated_size(data, start, end, budget.expanded_bytes - total)
                budget.check("expanded_bytes", total)
                position = end + len(b"endstream")


def inflated_size(data, start: int, end: int, allowance: int) -> int:
    """Bytes the zlib stream in data[start:end] inflates to, stopping once past `allowance`;
    its raw length when it is not zlib (images, other filters)."""
    inflater = zlib.decompressobj()
    out = 0
    step = 1 << 20
    try:
        position = start
        while position < end and out <= allowance:
            piece = data[position:min(end, position + step)]
            position += len(piece)
            out += len(inflater.decompress(piece, step))
            while inflater.unconsumed_tail and not inflater.eof and out <= allowance:
                produced = len(inflater.decompress(inflater.unconsumed_tail, step))
                if not produced:
                    break
                out += produced
            if inflater.eof:
                break
    except zlib.error:
        return end - start
    return out
