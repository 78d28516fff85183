"""Word files (.docx, python-docx): paragraphs with headings as their own blocks, then tables."""
from __future__ import annotations

from pathlib import Path

EXTENSIONS = (".docx",)


def read(path: Path) -> str:
    import docx as python_docx

    document = python_docx.Document(str(path))
    parts = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith(("heading", "title")):
            parts.append(f"\n{text}\n")  # its own block: found as a heading by clean_text
        elif "list" in style:
            parts.append(f"• {text}")
        else:
            parts.append(text + "\n")
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells) + "\n")
    return "\n".join(parts)
