"""Plain text files (.txt, .md): bytes -> text, refusing binary content."""
from __future__ import annotations

from pathlib import Path

from .base import IngestError

EXTENSIONS = (".txt", ".md", ".markdown", ".text")


def read(path: Path) -> str:
    return decode(Path(path).read_bytes())


def decode(data: bytes) -> str:
    if data.count(b"\x00") > max(8, len(data) // 100):
        raise IngestError("binary content (NUL bytes) in a text file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
