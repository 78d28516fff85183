"""Spreadsheets (.csv, .xlsx): each data row a line that carries its column headers
("Header: value; ..."), so that a row read alone (a cited sentence) still says what it is.
A sheet is a section of its own; free-text rows (notes) stay as they are."""
from __future__ import annotations

import csv
import re
import io
from pathlib import Path

from .base import Extracted, IngestError
from .budget import DEFAULT, Budget, check_archive
from .text import decode

EXTENSIONS = (".csv", ".xlsx")


def read(path: Path, budget: Budget = DEFAULT) -> Extracted:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        text = decode(path.read_bytes())
        budget.check("text_chars", len(text))
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        rows, cells = [], 0
        for row in csv.reader(io.StringIO(text), dialect):
            cells += len(row)
            if cells > budget.cells:
                budget.check("cells", cells)
            rows.append(row)
        body = table_lines(rows)
        if not body:
            raise IngestError("no rows in the CSV file")
        return Extracted("\n\n".join(body), headings=set())
    return read_xlsx(path, budget)


def read_xlsx(path: Path, budget: Budget = DEFAULT) -> Extracted:
    import openpyxl

    check_archive(path, budget)
    book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    parts, headings = [], set()
    cells = 0
    try:
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):  # a sheet's declared size pads rows: counted too
                cells += len(row)
                if cells > budget.cells:
                    budget.check("cells", cells)
                rows.append([cell_text(v) for v in row])
            lines = table_lines(rows)
            if lines:
                heading = f"Sheet {sheet.title}"
                headings.add(heading)
                parts.append(f"{heading}\n\n" + "\n\n".join(lines))
    finally:
        book.close()
    if not parts:
        raise IngestError("no cells with text in the workbook")
    props = (book.properties.title or "").strip() if book.properties else ""
    first = parts[0].split("\n\n")[1] if parts[0].count("\n\n") >= 1 else ""
    first = re.sub(r"^title:\s*", "", first, flags=re.I)
    if not props and 4 <= len(first) <= 150 and ": " not in first:  # a title cell above the data
        props = first
    created = book.properties.created if book.properties else None
    return Extracted("\n\n".join(parts), title=props, headings=headings,
                     metadata={"file_created": created.date().isoformat()} if created else {})


def table_lines(rows: list[list[str]]) -> list[str]:
    """Rows as paragraphs. The header is the first row with (nearly) as many filled cells as
    the widest row, mostly words; each later row becomes 'Header: value; ... .'. Rows above
    it (titles, notes, 'Label: value' pairs) stay text."""
    rows = [[" ".join(c.split()) for c in row] for row in rows]
    widest = max((sum(1 for c in row if c) for row in rows), default=0)
    out, header = [], None
    for row in rows:
        filled = [c for c in row if c]
        if not filled:
            continue
        if header is None:
            wordy = sum(1 for c in filled if re.search(r"[A-Za-z]{2}", c) and len(c) <= 150)
            if len(filled) >= max(2, 0.6 * widest) and wordy >= 0.8 * len(filled) and (widest > 2 or len(filled[0]) <= 40) \
                    and not filled[0].endswith(":"):
                header = row
            else:
                out.append(" ".join(filled) if len(filled) > 1 and filled[0].endswith(":")
                           else ": ".join(filled) if len(filled) == 2 else " | ".join(filled))
            continue
        pairs = [f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {c}"
                 for i, c in enumerate(row) if c]
        line = "; ".join(pairs)
        out.append(line if line[-1:] in ".!?" else line + ".")
    return out


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
