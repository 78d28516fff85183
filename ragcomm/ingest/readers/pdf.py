"""PDF files (pypdfium2): each page's text in reading order, with its page number.

Every character is read with its position, size and weight, so that the reader can
- put a page's lines in reading order (two columns: the left one, then the right one),
- keep a table row on one line, its cells separated by ' | ',
- take out running headers and footers (the same text near the top or bottom of many
  pages, page numbers ignored) and keep them as metadata,
- drop contents pages (a 'Contents' heading over lines that end in page numbers),
- find headings by font size and weight, and the title (metadata, else the largest text
  on page 1),
- separate superscript footnote markers from the word they follow,
- read pages whose text layer is missing (scans) or garbled (fonts without a usable
  Unicode map) by OCR, keeping each page's confidence (ocr.py).

pypdfium2 (Apache-2.0 / BSD-3-Clause, PDFium) was chosen over pdfplumber/pdfminer.six (MIT,
about ten times slower here: 37 s against 3.5 s for the six PDFs of ../shared/realdocs) and
PyMuPDF (AGPL); it also renders pages, for OCR and for showing a cited page.
"""
from __future__ import annotations

import ctypes
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .base import PAGE_BREAK, Extracted, IngestError
from .budget import DEFAULT, Budget, check_pdf_streams
from .pdf_structure import body_size, drop_contents_pages, mark_headings, page_text, title_from

EXTENSIONS = (".pdf",)
SEGMENT_GAP = 1.5  # a horizontal gap wider than this many font sizes ends a segment (cell, column)
MARGIN_ZONE = 0.15  # running headers/footers live in this share of the page height, top or bottom
LABEL = re.compile(r"^(\(?[0-9]{1,3}(\.[0-9]{1,3})*[a-z]?[.)]?|\(?[a-z]\)|[A-Z][0-9]{1,2}|[•●▪◦‣∙·*–-])$")
STOPWORDS = frozenset("the of and to a in is for that on with as are be by this or it from at an was not have has "
                      "which will should their can may all been were they more other any also its".split())
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass
class Segment:
    """Characters on one baseline with no wide gap: a line of a column, or a table cell."""
    chars: list = field(default_factory=list)
    x0: float = 0.0
    x1: float = 0.0
    baseline: float = 0.0  # from the top of the page
    size: float = 0.0
    bold: int = 0  # characters in a bold font
    letters: int = 0

    @property
    def text(self) -> str:
        return "".join(self.chars).strip()


@dataclass
class Line:
    text: str
    top: float
    bottom: float
    size: float
    bold: bool = False
    x0: float = 0.0
    cells: int = 1
    new_block: bool = False  # a paragraph starts here (a vertical gap, a new OCR paragraph)
    heading: bool = False


@dataclass
class Page:
    number: int
    height: float
    width: float
    rows: list  # [[Segment, ...]] rows of segments, top to bottom (text layer)
    lines: list = field(default_factory=list)  # [Line] in reading order, once laid out
    ocr: dict | None = None  # {"confidence": mean word confidence} when read by OCR


def read(path: Path, log=None, budget: Budget = DEFAULT) -> Extracted:
    import pypdfium2 as pdfium

    check_pdf_streams(path, budget)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise IngestError("the PDF is encrypted with a password needed to open it (a user password): "
                              "ask for a copy without one") from None
        raise IngestError(f"not a readable PDF ({exc})") from None
    try:
        return extract(pdf, Path(path).name, log, budget)
    finally:
        pdf.close()


def extract(pdf, name: str, log=None, budget: Budget = DEFAULT) -> Extracted:
    from . import ocr

    n = len(pdf)
    if n == 0:
        raise IngestError("the PDF has no pages")
    budget.check("pages", n)
    pages, need_ocr = [], []
    chars = 0
    for i in range(n):
        page = pdf[i]
        width, height = page.get_size()
        textpage = page.get_textpage()
        chars += textpage.count_chars()  # counted before they are read one by one
        if chars > budget.text_chars:
            textpage.close()
            budget.check("text_chars", chars)
        segments = page_segments(page, height, textpage)
        p = Page(i + 1, height, width, rows(segments))
        text = " ".join(s.text for s in segments)
        if unreadable(text):
            need_ocr.append(p)
        pages.append(p)
    meta: dict = {"page_count": n}
    if need_ocr:
        if not ocr.available():
            readable = [p for p in pages if p not in need_ocr]
            if not any(p.rows for p in readable):
                raise IngestError(f"no readable text layer on any page (scanned or garbled): {ocr.MISSING}")
            for p in need_ocr:
                p.rows = []
            meta["unread_pages"] = [p.number for p in need_ocr]
        else:
            for k, p in enumerate(need_ocr, start=1):
                if log and (k == 1 or k % 10 == 0):
                    log(f"{name}: OCR of page {p.number} ({k} of {len(need_ocr)} pages without a usable text layer)")
                p.lines, p.ocr = ocr.page_lines(pdf[p.number - 1], p.height)
                p.rows = []
            meta["ocr_pages"] = {str(p.number): p.ocr["confidence"] for p in need_ocr}

    headers, footers = remove_running_lines(pages)
    if headers:
        meta["running_headers"] = headers
    if footers:
        meta["running_footers"] = footers
    for p in pages:
        if p.ocr is None:
            p.lines = layout(p)
    dropped = drop_contents_pages(pages)
    if dropped:
        meta["contents_pages"] = dropped
    body = body_size(pages)
    headings = mark_headings(pages, body)
    texts = [page_text(p) for p in pages]
    if not any(t.strip() for t in texts):
        raise IngestError("the PDF has no extractable text (scanned images, and OCR found nothing)")
    info = pdf.get_metadata_dict()
    title = title_from(info.get("Title", ""), pages, headings)
    created = re.match(r"^D:(\d{4})(\d\d)?(\d\d)?", info.get("CreationDate") or "")
    if created:  # the weakest evidence of a year (ingest/describe.py): a later copy has a later date
        meta["file_created"] = "-".join(g for g in created.groups() if g)
    return Extracted(PAGE_BREAK.join(texts), paged=True, title=title, headings=headings, metadata=meta)


# ---------------------------------------------------------------- characters -> segments -> rows

def page_segments(page, height: float, textpage=None) -> list[Segment]:
    """The page's characters grouped into segments, in the order the PDF draws them (from
    `textpage`, which it closes, else the page's own)."""
    import pypdfium2.raw as raw

    textpage = textpage or page.get_textpage()
    tp = textpage.raw
    box = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    segments: list[Segment] = []
    cur: Segment | None = None
    space = False
    for j in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(tp, j)
        ch = chr(code) if 0 < code < 0x110000 else ""
        if raw.FPDFText_IsGenerated(tp, j) or ch in ("\r", "\n", "") or (ch < " " and ch != "\x02"):
            if ch in (" ", "\r", "\n"):  # where a line really ends is decided by position below
                space = True
            continue
        if ch.isspace():
            space = True
            continue
        if ch in ("\ufffe", "\x02"):  # PDFium's marks for a hyphen that ends a line
            ch = "-"
        raw.FPDFText_GetLooseCharBox(tp, j, box)
        raw.FPDFText_GetCharOrigin(tp, j, ox, oy)
        size = box.top - box.bottom  # the font's height on the page (the font size may be scaled by a matrix)
        if size <= 0:
            size = raw.FPDFText_GetFontSize(tp, j)
        baseline = height - oy.value
        x0, x1 = box.left, box.right
        if cur is not None:
            raised = ch.isdigit() and size < 0.8 * cur.size and cur.baseline - baseline > 0.15 * cur.size \
                and x0 - cur.x1 < 0.5 * cur.size
            if raised:  # a footnote marker: kept, apart from the word it follows
                cur.chars.append((" " if cur.chars and cur.chars[-1][-1:] not in " ⁰¹²³⁴⁵⁶⁷⁸⁹" else "")
                                 + ch.translate(SUPERSCRIPT))
                cur.x1 = max(cur.x1, x1)
                space = False
                continue
            same_line = abs(baseline - cur.baseline) < 0.5 * max(size, cur.size)
            gap = x0 - cur.x1
            if not same_line or gap > SEGMENT_GAP * max(size, cur.size) or gap < -2 * max(size, cur.size):
                cur = None
        if cur is None:
            cur = Segment(x0=x0, x1=x1, baseline=baseline, size=size)
            segments.append(cur)
            space = False
        elif space or x0 - cur.x1 > 0.1 * size:  # a word gap without a space character
            cur.chars.append(" ")
        space = False
        cur.chars.append(ch)
        cur.x0, cur.x1 = min(cur.x0, x0), max(cur.x1, x1)
        cur.size = max(cur.size, size)
        if ch.isalpha():
            cur.letters += 1
            weight = raw.FPDFText_GetFontWeight(tp, j)
            if weight >= 600:
                cur.bold += 1
            elif weight <= 0:  # weight unknown: the font's name tells
                n = raw.FPDFText_GetFontInfo(tp, j, name, len(name), ctypes.byref(flags))
                if re.search(rb"bold|black|heavy|semibold|demi", name.value[:max(0, n)], re.I):
                    cur.bold += 1
    textpage.close()
    return [s for s in segments if s.text]


def rows(segments: list[Segment]) -> list[list[Segment]]:
    """Segments on the same baseline, left to right; rows top to bottom."""
    out: list[list[Segment]] = []
    for s in sorted(segments, key=lambda s: (s.baseline, s.x0)):
        if out and abs(out[-1][0].baseline - s.baseline) < 0.3 * max(s.size, out[-1][0].size):
            out[-1].append(s)
        else:
            out.append([s])
    return [sorted(r, key=lambda s: s.x0) for r in out]


def row_text(row: list[Segment]) -> str:
    """A row's segments: a label (number, bullet) joins its text, table cells get ' | '."""
    text = row[0].text
    for prev, s in zip(row, row[1:]):
        text += " " if LABEL.match(prev.text) else " | "
        text += s.text
    return text


def unreadable(text: str) -> bool:
    """No text layer to speak of, or a garbled one (glyphs mapped to the wrong characters):
    real English prose has stopwords and mostly plain words."""
    words = text.split()
    if sum(len(w) for w in words) < 20:
        return True
    plain = sum(1 for w in words if re.fullmatch(r"[(\"'‘“]?[A-Za-z][a-z’'-]*[)\"'’”.,;:!?]*|[0-9][0-9.,%]*[.,;:)]?", w))
    stop = sum(1 for w in words if w.lower().strip(".,;:()") in STOPWORDS)
    if len(words) >= 30 and stop / len(words) < 0.03 and plain / len(words) < 0.6:
        return True
    return plain / len(words) < 0.35


# ---------------------------------------------------------------- running headers and footers

def furniture_key(text: str) -> str:
    """Running text compared with digits (page numbers, dates) and spacing ignored."""
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", text)).strip().lower()


def remove_running_lines(pages: list[Page]) -> tuple[list[str], list[str]]:
    """Take out rows near the top or bottom of the page whose text (digits aside) recurs on
    many pages, and bare page numbers there; return the header and footer texts."""
    def zone(p: Page, top: float) -> str | None:
        if top < MARGIN_ZONE * p.height:
            return "header"
        if top > (1 - MARGIN_ZONE) * p.height:
            return "footer"
        return None

    def page_items(p: Page):  # (text, its pieces, top)
        if p.ocr is not None:
            return [(line.text, [line.text], line.top) for line in p.lines]
        return [(row_text(r), [s.text for s in r], r[0].baseline) for r in p.rows]

    counts: Counter = Counter()
    for p in pages:  # a row, and each of its pieces (a footer may share its row with the page number)
        counts.update({furniture_key(t) for text, pieces, top in page_items(p) if zone(p, top)
                       for t in {text, *pieces}})
    needed = max(2, round(0.4 * len(pages))) if len(pages) >= 3 else 2

    def frequent(text: str) -> bool:
        key = furniture_key(text)
        return counts[key] >= needed or bool(re.fullmatch(r"(page )?#( of #?)?", key))

    found = {"header": {}, "footer": {}}

    def running(p: Page, text: str, pieces: list, top: float) -> bool:
        where = zone(p, top)
        if where is None or not (frequent(text) or all(frequent(t) for t in pieces)):
            return False
        if re.search(r"[A-Za-z]{2}", text):  # page numbers and chart axes go unlisted
            found[where].setdefault(furniture_key(text), text)
        return True

    for p in pages:
        if p.ocr is not None:
            p.lines = [line for line in p.lines if not running(p, line.text, [line.text], line.top)]
        else:
            p.rows = [r for r in p.rows if not running(p, row_text(r), [s.text for s in r], r[0].baseline)]
    return list(found["header"].values()), list(found["footer"].values())


# ---------------------------------------------------------------- reading order

def layout(p: Page) -> list[Line]:
    """The page's rows as lines in reading order; a two-column page column by column."""
    gutter = find_gutter(p)
    if gutter is None:
        return lines_of(merge_tables(p.rows))
    out: list[Line] = []
    left: list[Segment] = []
    right: list[Segment] = []
    for row in p.rows:  # a row crossing the gutter (a title over both columns) ends a band
        if any(s.x0 < gutter < s.x1 for s in row):
            out += lines_of(rows(left)) + lines_of(rows(right))
            left, right = [], []
            out += lines_of([row])
        else:
            left += [s for s in row if s.x1 <= gutter]
            right += [s for s in row if s.x0 >= gutter]
    out += lines_of(rows(left))
    right_lines = lines_of(rows(right))
    if right_lines:
        right_lines[0].new_block = True
    return out + right_lines


def is_table_row(row: list[Segment]) -> bool:
    return len(row) > 1 and " | " in row_text(row)


def merge_tables(rows_: list[list[Segment]]) -> list[list[Segment]]:
    """Tables whose cells wrap over several lines, put back together: one row of the table
    becomes one row of cells (' | '), each cell's lines joined in order. A table is a run of
    rows with cells, with the lines that continue them (closely spaced, or starting under a
    column); a table row ends where the line spacing opens up (cell padding, borders)."""
    out: list[list[Segment]] = []
    i = 0
    while i < len(rows_):
        if not is_table_row(rows_[i]):
            out.append(rows_[i])
            i += 1
            continue
        widest = rows_[i]
        j = i
        while j + 1 < len(rows_):
            nxt, size = rows_[j + 1], max(s.size for s in rows_[j])
            close = nxt[0].baseline - rows_[j][0].baseline <= 1.5 * size
            under = any(abs(s.x0 - a.x0) < 4 for s in nxt for a in widest[1:])
            if not (is_table_row(nxt) or close or under):
                break
            j += 1
            if len(nxt) > len(widest) and is_table_row(nxt):
                widest = nxt
        run = rows_[i:j + 1]
        i = j + 1
        if sum(is_table_row(r) for r in run) < 2 and len(run) < 2:
            out.extend(run)
            continue
        anchors = [s.x0 for s in widest]
        table_rows: list[list[list[Segment]]] = []
        previous = None
        for row in run:
            size = max(s.size for s in row)
            if previous is None or row[0].baseline - previous > 1.5 * size:
                table_rows.append([[] for _ in anchors])
            previous = row[0].baseline
            for s in row:
                column = max([k for k, a in enumerate(anchors) if a <= s.x0 + 4] or [0])
                table_rows[-1][column].append(s)
        for cells in table_rows:
            merged = []
            for parts in cells:
                if parts:
                    merged.append(Segment(chars=list(" ".join(s.text for s in parts)), x0=parts[0].x0,
                                          x1=max(s.x1 for s in parts), baseline=parts[0].baseline,
                                          size=max(s.size for s in parts), bold=sum(s.bold for s in parts),
                                          letters=sum(s.letters for s in parts)))
            out.append(merged)
    return out


def find_gutter(p: Page) -> float | None:
    """x of the white strip between two columns of prose, or None: a strip near the middle
    that no segment crosses, with many long lines of text on each side (table columns are
    narrower and uneven)."""
    segments = [s for r in p.rows for s in r]
    if len(segments) < 12:
        return None
    for frac in (0.5, 0.45, 0.55, 0.4, 0.6):
        g = p.width * frac
        if any(s.x0 < g < s.x1 for s in segments if len(s.text) > 3):
            continue
        left = [s for s in segments if s.x1 <= g]
        right = [s for s in segments if s.x0 >= g]
        if len(left) < 6 or len(right) < 6:
            continue
        lw = sorted(len(s.text) for s in left)[len(left) // 2]
        rw = sorted(len(s.text) for s in right)[len(right) // 2]
        if lw >= 25 and rw >= 25:
            return g
    return None


def lines_of(rows_: list[list[Segment]]) -> list[Line]:
    out: list[Line] = []
    for row in rows_:
        size = max(s.size for s in row)
        letters = sum(s.letters for s in row)
        text = row_text(row)
        line = Line(text, row[0].baseline - size, row[0].baseline, size,
                    bold=letters > 0 and sum(s.bold for s in row) >= 0.9 * letters, x0=row[0].x0,
                    cells=1 + text.count(" | "))
        if out:
            prev = out[-1]
            gap = line.top - prev.bottom
            line.new_block = gap > 0.55 * size or gap < -2 * size or abs(size - prev.size) > 0.15 * size \
                or line.bold != prev.bold or (line.cells > 1) != (prev.cells > 1)
        out.append(line)
    return out
