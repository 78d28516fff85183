"""The cited page of an original file, for front ends that show where a citation comes from.

    png = page_image(corpus / citation.source, citation.page, highlight=citation.sentence)

A PDF page is rendered by PDFium with the cited sentence (or sentences) marked (a translucent yellow box
over each line of it, where PDFium finds the words on that page). Other paged formats
(slides) have no renderer here: `renderable(path)` says which files can be shown.
"""
from __future__ import annotations

import io
import re
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
    """PNG of page `page` (1-based) of a PDF, with `highlight` (a cited sentence, or a list of
    them) marked."""
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
        sentences = [highlight] if isinstance(highlight, str) else list(highlight or [])
        boxes = [(left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
                 for sentence in sentences for left, bottom, right, top in sentence_rects(pdf_page, sentence)]
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


def sentence_rects(pdf_page, sentence: str) -> list:
    """PDF-space rectangles (left, bottom, right, top) of a sentence on a page: searched in
    pieces of a few words (a sentence may wrap, hyphenate or cross a column)."""
    words = re.findall(r"\S+", sentence or "")
    textpage = pdf_page.get_textpage()
    rects = []
    try:
        for start in range(0, len(words), 5):
            piece = " ".join(words[start:start + 5]).strip(".,;:")
            if len(piece) < 4:
                continue
            searcher = textpage.search(piece, match_case=False, match_whole_word=False)
            found = searcher.get_next()
            if found:
                index, count = found
                for i in range(textpage.count_rects(index, count)):
                    rects.append(textpage.get_rect(i))
            searcher.close()
    finally:
        textpage.close()
    return rects
