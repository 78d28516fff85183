"""Plain text files (.txt, .md): bytes -> text, refusing binary content."""
from __future__ import annotations

import re
from pathlib import Path

from .base import IngestError
from .budget import DEFAULT, Budget

EXTENSIONS = (".txt", ".md", ".markdown", ".text")
# Characters that text does not contain: C0 controls other than tab, newlines and form feed,
# DEL, and the C1 controls that bytes 0x80-0x9f become when they are not cp1252 text.
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
MAX_CONTROL_SHARE = 0.002  # one in 500 characters; random bytes give about one in six


def read(path: Path, budget: Budget = DEFAULT) -> str:
    return decode(Path(path).read_bytes())


def decode(data: bytes) -> str:
    """Text of a file's bytes (UTF-8 or UTF-16 with a byte-order mark, cp1252, else Latin-1),
    refusing bytes that are not text: NUL bytes, or control characters beyond a stray few.

    >>> decode("Café £5".encode("cp1252"))
    'Café £5'
    >>> decode(bytes(range(256)) * 4)
    Traceback (most recent call last):
    ...
    ragcomm.ingest.readers.base.IngestError: binary content, not text (23% control characters)
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if data.count(b"\x00") > max(8, len(data) // 100):
        raise IngestError("binary content (NUL bytes) in a text file")
    text = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        text = data.decode("latin-1")
    controls = len(CONTROL.findall(text))
    if controls > max(4, MAX_CONTROL_SHARE * len(text)):
        raise IngestError(f"binary content, not text ({controls / max(1, len(text)):.0%} control characters)")
    return text
