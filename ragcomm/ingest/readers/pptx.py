"""PowerPoint (.pptx, python-pptx): one slide a page and a section ('Slide n: its title'),
its text boxes top to bottom, its tables as rows, its speaker notes last."""
from __future__ import annotations

import re
from pathlib import Path

from .base import PAGE_BREAK, Extracted
from .budget import DEFAULT, Budget, check_archive

EXTENSIONS = (".pptx",)


def read(path: Path, budget: Budget = DEFAULT) -> Extracted:
    from pptx import Presentation

    check_archive(path, budget)
    deck = Presentation(str(path))
    budget.check("pages", len(deck.slides))
    pages, headings, first_title = [], set(), ""
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = clean(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
        first_title = first_title or title
        heading = f"Slide {number}: {title}" if title else f"Slide {number}"
        headings.add(heading)
        lines = []
        for shape in sorted(flatten(slide.shapes), key=lambda s: (s.top or 0, s.left or 0)):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if shape.has_text_frame:
                for para in shape.text_frame.paragraphs:
                    text = clean(para.text)
                    if text:
                        lines.append(("• " if para.level > 0 else "") + text)
                lines.append("")
            elif getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    cells = [clean(cell.text) for cell in row.cells]
                    if any(cells):
                        lines.append(" | ".join(c for c in cells if c))
                lines.append("")
        if slide.has_notes_slide:
            notes = clean(slide.notes_slide.notes_text_frame.text) if slide.notes_slide.notes_text_frame else ""
            if notes:
                lines.append(f"Notes: {notes}")
        pages.append(f"{heading}\n\n" + "\n".join(lines).strip())
    title = (deck.core_properties.title or "").strip() or first_title
    return Extracted(PAGE_BREAK.join(pages), paged=True, title=title, headings=headings,
                     metadata={"page_count": len(pages), "pages_are": "slides"})


def flatten(shapes):
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group
            yield from flatten(shape.shapes)
        else:
            yield shape


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()
