"""The cited page of an original file, for front ends that show where a citation comes from.

    png = page_image(corpus / citation.source, citation.page, highlight=citation.sentence)

A PDF page is rendered by PDFium with the cited sentence (or sentences) marked: a translucent
yellow box over each stretch of a line that holds it, no more and no less. The sentence is
found among the page's characters by its letters and digits alone (spacing, hyphens at line
ends, ' | ' between table cells and punctuation aside), whole where it can be, else cell by
cell, else by the runs of its words the page holds (a sentence that crosses a page break, or
that the reader ordered otherwise than the PDF draws it). A page whose text layer is
garbled (read by OCR) has nothing to match, so nothing is marked. Other paged formats
(slides) have no renderer here: `renderable(path)` says which files can be shown.
"""
from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from .readers import IngestError
from .readers.ocr import render_scale

MAX_SIDE = 2000  # pixels: any page is shown at most this wide and high, whatever its size in points


def renderable(path: Path) -> bool:
    return Path(path).suffix.lower() == ".pdf"


def source_file(corpus_dir: Path, source: str) -> Path:
    """The corpus file behind a hit's or citation's `source`, refusing anything outside the corpus."""
    corpus_dir = Path(corpus_dir).resolve()
    path = (corpus_dir / source).resolve()
    if not path.is_relative_to(corpus_dir) or not path.is_file():
        raise IngestError(f"no corpus file '{source}'")
    return path


def page_image(path: Path, page: int, highlight: str | list | None = None, dpi: int = 110) -> bytes:
    """PNG of page `page` (1-based) of a PDF, with `highlight` marked: a cited sentence, or a
    list of them, each a sentence or (sentence, the page's indexed text before it), which tells
    copies of the same text on one page apart."""
    png, _boxes = render_page(path, page, highlight, dpi)
    return png


def render_page(path: Path, page: int, highlight: str | list | None = None, dpi: int = 110) -> tuple[bytes, list]:
    """(PNG bytes, [(left, top, right, bottom) in pixels of each marked box])."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    if not renderable(path):
        raise IngestError(f"{Path(path).name}: only PDF pages can be shown")
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise IngestError(f"{Path(path).name}: not a readable PDF ({exc})") from None
    try:
        if not isinstance(page, int) or not 1 <= page <= len(pdf):
            raise IngestError(f"{Path(path).name} has no page {page} (it has {len(pdf)})")
        pdf_page = pdf[page - 1]
        scale = render_scale(pdf_page, dpi, MAX_SIDE)
        image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
        height = pdf_page.get_size()[1]
        marks = [highlight] if isinstance(highlight, str) else list(highlight or [])
        marks = [(m, "") if isinstance(m, str) else tuple(m) for m in marks]
        text = PageText(pdf_page) if marks else None
        boxes = [(left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
                 for sentence, before in marks for left, bottom, right, top in text.rects(sentence, before)]
        if boxes:
            layer = image.copy()
            draw = ImageDraw.Draw(layer)
            for box in boxes:
                draw.rectangle(box, fill=(255, 230, 0, 255))
            image = _blend(image, layer)
        out = io.BytesIO()
        image.convert("RGB").save(out, "PNG")
        return out.getvalue(), boxes
    finally:
        pdf.close()


def _blend(image, layer):
    from PIL import Image

    return Image.blend(image, layer, 0.35)


def stream(text: str) -> tuple[str, list[int]]:
    """The letters and digits of a text, lower-cased and compatibility-normalised (a ligature
    is two letters, a superscript ¹ a 1), each with the index of the character it came from:
    what a sentence and a page have in common whatever the spacing, hyphenation at line ends,
    table-cell separators and punctuation in between.

    >>> stream("Re-design, ﬁne¹")
    ('redesignfine1', [0, 1, 3, 4, 5, 6, 7, 8, 11, 11, 12, 13, 14])
    """
    letters, where = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c.isalnum():
                letters.append(c)
                where.append(i)
    return "".join(letters), where


MIN_PART = 12  # letters: a shorter piece of a sentence is too likely to stand elsewhere on the page
CONTEXT = 40  # letters of the text before a sentence that tell apart its copies on a page


def find_spans(page: str, sentence: str, before: str = "") -> list[tuple[int, int, str]]:
    """Where a sentence stands in a page's letter stream: [(start, end, closing punctuation)],
    offsets in `page`'s letters.

    The whole sentence, else each of its table cells (' | ') on its own, else the runs of
    whole words of it that the page holds (`cover`: a sentence that runs over a page break,
    or that the reader put together in another order than the PDF draws it). A sentence or
    cell the page holds more than once is taken at the copy that follows the text before it
    (`before`: the page's indexed text up to the sentence), else at the same occurrence.

    >>> find_spans("xxcarecosts1yyzzcarecosts1", "Care costs¹.", before="Care costs¹. More.")
    [(16, 26, '.')]
    """
    if not stream(sentence)[0]:
        return []
    pieces = [sentence] if stream(sentence)[0] in page else sentence.split(" | ")
    spans: list[tuple[int, int, str]] = []
    for text in pieces:
        piece = stream(text)[0]
        if not piece:
            continue
        closing = re.search(r"[^\w\s]*\s*$", text).group(0).strip()
        found = occurrences(page, piece)
        if len(found) > 1 and not spans:  # the copy that follows what comes before it in the text
            context = stream(before)[0]
            for n in (CONTEXT, CONTEXT // 2):
                anchored = occurrences(page, context[-n:] + piece) if len(context) >= n else []
                if len(anchored) == 1:
                    found = [anchored[0] + n]
                    break
        if found:
            earlier = occurrences(stream(before)[0], piece) if before else []
            later = [f for f in found if spans and f >= spans[-1][1]]
            start = later[0] if later else found[min(len(earlier), len(found) - 1)]
            spans.append((start, start + len(piece), closing))
        else:
            spans += [(a, b, closing if last else "") for a, b, last in
                      cover(page, text, spans[-1][1] if spans else None)]
    return spans


def occurrences(text: str, piece: str) -> list[int]:
    out, at = [], text.find(piece)
    while at >= 0:
        out.append(at)
        at = text.find(piece, at + 1)
    return out


def cover(page: str, text: str, after: int | None = None) -> list[tuple[int, int, bool]]:
    """The runs of whole words of `text` that the page holds, longest first from each word
    on: [(start, end, whether the run ends the text)] in the page's letters. A run is kept
    when it is at least MIN_PART letters and stands once on the page, or carries straight
    on from the run before it (`after`: where that one ended); so a common word alone is
    never marked somewhere else on the page.

    >>> page = stream("Heading. Care at home. Other text about care at home for frail patients.")[0]
    >>> [page[a:b] for a, b, _ in cover(page, "Other text about people and care at home for frail patients.")]
    ['othertextabout', 'careathomeforfrailpatients']
    """
    piece = stream(text)[0]
    bounds = []  # where each word starts and ends in the piece's letters
    for word in re.finditer(r"\S+", text):
        n = len(stream(word.group(0))[0])
        if n:
            at = bounds[-1][1] if bounds else 0
            bounds.append((at, at + n))
    runs, w = [], 0
    while w < len(bounds):
        start = bounds[w][0]
        ends = [e for _, e in bounds[w:]]
        lo, hi = 0, len(ends)  # the most words from w on that the page holds: a binary search
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if piece[start:ends[mid - 1]] in page:
                lo = mid
            else:
                hi = mid - 1
        if lo:
            run = piece[start:ends[lo - 1]]
            found = occurrences(page, run)
            at = after if after in found else found[0] if len(found) == 1 and len(run) >= MIN_PART else None
            if at is not None:
                runs.append((at, at + len(run), ends[lo - 1] == len(piece)))
                after, w = at + len(run), w + lo
                continue
        w += 1
    return runs


class PageText:
    """A PDF page's characters as PDFium reads them, each one's loose box (None for a space or
    a character PDFium generated), and their letter stream: read once, for every sentence
    marked on the page."""

    def __init__(self, pdf_page):
        import pypdfium2.raw as raw

        textpage = pdf_page.get_textpage()
        try:
            chars, self.boxes = [], []
            for i in range(textpage.count_chars()):
                code = raw.FPDFText_GetUnicode(textpage.raw, i)
                ch = chr(code) if 0 < code < 0x110000 else " "
                generated = raw.FPDFText_IsGenerated(textpage.raw, i)
                chars.append(" " if generated else ch)
                self.boxes.append(None if generated or ch.isspace() else textpage.get_charbox(i, loose=True))
        finally:
            textpage.close()
        self.chars = "".join(chars)
        self.letters, self.where = stream(self.chars)

    def rects(self, sentence: str, before: str = "") -> list:
        """PDF-space rectangles (left, bottom, right, top) covering exactly a sentence: its
        characters found by their letters (find_spans), from the first to the last with the
        punctuation that closes it, one rectangle per stretch of a line. `before`: the page's
        indexed text up to the sentence, to tell copies of the same text on the page apart."""
        chars, out = self.chars, []
        for start, end, closing in find_spans(self.letters, sentence, before):
            first, last = self.where[start], self.where[end - 1]
            k = last + 1
            for mark in closing:  # the full stop (or bracket, quote) after the last letter
                while k < len(chars) and chars[k].isspace():
                    k += 1
                if k >= len(chars) or chars[k] != mark:
                    break
                last, k = k, k + 1
            out.extend(line_rects([b for b in self.boxes[first:last + 1] if b is not None]))
        return out


def line_rects(boxes: list) -> list:
    """Character boxes (in reading order) joined into one rectangle per stretch of a line."""
    rects = []
    for box in boxes:
        if rects:
            left, bottom, right, top = rects[-1]
            height = max(top - bottom, box[3] - box[1], 1.0)
            same_line = abs((box[1] + box[3]) / 2 - (bottom + top) / 2) < 0.5 * height
            if same_line and -0.5 * height < box[0] - right < 1.5 * height:
                rects[-1] = (min(left, box[0]), min(bottom, box[1]), max(right, box[2]), max(top, box[3]))
                continue
        rects.append(tuple(box))
    return rects


def sentence_rects(pdf_page, sentence: str, before: str = "") -> list:
    """PDF-space rectangles of a sentence on a page (PageText.rects)."""
    return PageText(pdf_page).rects(sentence, before)
