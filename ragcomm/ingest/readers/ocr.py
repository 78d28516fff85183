"""OCR of a PDF page with Tesseract (Debian's tesseract-ocr and tesseract-ocr-eng; `make setup`
installs them): the page is rendered by PDFium, read by the `tesseract` command, and comes
back as lines in Tesseract's reading order with the mean confidence of its words."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .base import IngestError

MISSING = "OCR needs Tesseract: apt-get install tesseract-ocr tesseract-ocr-eng (`make setup` installs it)"
DPI = 300
TIMEOUT_SECONDS = 300
MAX_SIDE = 5000  # pixels: a page of any size is rendered at most this wide and high (A4 at 300 dpi: 3508)


def available() -> bool:
    return shutil.which("tesseract") is not None


def page_lines(page, height: float) -> tuple[list, dict]:
    """([Line], {"confidence": 0-100}) of one pypdfium2 page, positions in PDF points."""
    scale = render_scale(page, DPI, MAX_SIDE)
    image = page.render(scale=scale).to_pil()
    with tempfile.TemporaryDirectory(prefix="ragcomm-ocr-") as folder:
        png = Path(folder) / "page.png"
        image.save(png)
        try:
            run = subprocess.run(["tesseract", str(png), "stdout", "-l", "eng", "tsv"], capture_output=True,
                                 text=True, timeout=TIMEOUT_SECONDS, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except subprocess.TimeoutExpired:
            raise IngestError(f"OCR took longer than {TIMEOUT_SECONDS} s on one page") from None
    if run.returncode != 0:
        raise IngestError(f"OCR failed: {run.stderr.strip()[:200]}")
    return tsv_lines(run.stdout, scale)


def render_scale(page, dpi: float, max_side: int) -> float:
    """PDFium's scale for a page at `dpi`, smaller where that would make the image wider or
    higher than `max_side` pixels (a 14,400 pt page at 300 dpi would be 60,000 pixels square)."""
    width, height = page.get_size()
    largest = max(width, height, 1.0)
    return min(dpi / 72, max_side / largest)


def tsv_lines(tsv: str, scale: float) -> tuple[list, dict]:
    """Tesseract's TSV (one row per word) -> lines, a new block at each new paragraph."""
    from .pdf import Line

    lines, words_conf = [], []
    current, key_of_current, block_of_current = None, None, None
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        block, par, line_no = cols[2], cols[3], cols[4]
        left, top, width, height = (int(c) for c in cols[6:10])
        conf = float(cols[10])
        if conf >= 0:
            words_conf.append(conf)
        key = (block, par, line_no)
        if key != key_of_current:
            current = Line(cols[11], top / scale, (top + height) / scale, height / scale, x0=left / scale)
            current.new_block = bool(lines) and (block, par) != block_of_current
            lines.append(current)
            key_of_current, block_of_current = key, (block, par)
        else:
            current.text += " " + cols[11]
            current.top = min(current.top, top / scale)
            current.bottom = max(current.bottom, (top + height) / scale)
    confidence = round(sum(words_conf) / len(words_conf), 1) if words_conf else 0.0
    return [line for line in lines if readable(line)], {"confidence": confidence}


def readable(line) -> bool:
    """Not the specks of a logo or a chart read as text: a line needs a real word."""
    return any(len(w) >= 3 and sum(c.isalpha() for c in w) >= 0.6 * len(w) for w in line.text.split())
