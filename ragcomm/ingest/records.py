"""Raw text of one file -> its citable records (Documents), with their metadata.

A PubMed/LILACS result listing becomes one document per abstract (journal, year, PMID, DOI,
subject terms); any other file is one document, with a title, a kind and, where there is a
citation line near the top, its journal, year and DOI.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..types import Document
from .clean import BULLET, GENERIC_TITLES, clean_text, drop_boilerplate, normalise
from .describe import TOP, publication_year, recased, title_from_form
from .readers.base import PAGE_BREAK, Extracted

RECORD_START = re.compile(r"^(\d{1,4})\.\s*$")
RECORD_ID_LINE = re.compile(r"\|\s*(MEDLINE|LILACS|IBECS|BDENF|WPRIM|PubMed|[A-Z]{3,})\s*\|\s*ID:\s*(\S+)", re.I)
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s;,]+[^\s;,.])")
YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
PMID = re.compile(r"\bPMID:?\s*(\d{5,9})\b")
COVER_LINES = 12  # the lines of a document without pages that stand for its cover
HEAD_LINES = 6  # a record's number, then up to this many lines (title, authors, citation) before its ID line
AUTHORS = re.compile(r"^[^\W\d][\w'’. -]*,\s*[\w'’. -]+(\s*;\s*[^\W\d][\w'’. -]*,\s*[\w'’. -]+)*\s*\.?$")
CITATION = re.compile(r"\s;\s|\b(19|20)\d\d\b.*[:;(]|\d+\(\d+\)")


def record_starts(lines: list[str]) -> list[int]:
    """Where a listing's records start: a line with the record's number alone, its ID line
    ("Article in English | MEDLINE | ID: mdl-...") a few lines below."""
    return [i for i, ln in enumerate(lines) if RECORD_START.match(ln)
            and any(RECORD_ID_LINE.search(x) for x in lines[i + 1:i + 1 + HEAD_LINES])]


def is_listing(text: str) -> bool:
    return len(record_starts(text.split("\n"))) >= 2


def split_records(raw: str, source: str, extracted: Extracted | None = None) -> list[Document]:
    """One Document per record: a result listing gives many, any other file one. With a
    reader's `extracted` (its text is `raw`), its title, headings, pages and facts are kept."""
    stem = doc_stem(source)
    text = PAGE_BREAK.join(drop_boilerplate(normalise(page)) for page in raw.split(PAGE_BREAK))
    if not is_listing(text):
        return [_single_document(text, source, stem, web=bool(WEB_MARKERS.search(raw)), extracted=extracted)]
    lines = text.split("\n")
    starts = record_starts(lines)
    docs = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        docs.append(_listing_record(lines[start:end], source, stem))
    return [d for d in docs if d.text]


def _listing_record(lines: list[str], source: str, stem: str) -> Document:
    number = RECORD_START.match(lines[0]).group(1)
    head = [ln.strip() for ln in lines[1:1 + HEAD_LINES]]
    id_index = next(i for i, ln in enumerate(head) if RECORD_ID_LINE.search(ln))
    article_title, citation = record_head([ln for ln in head[:id_index] if ln])
    m = RECORD_ID_LINE.search(head[id_index])
    database, record_id = m.group(1), m.group(2)
    meta = {"kind": "abstract", "record": number, "database": database, "record_id": record_id,
            "citation": citation}
    lang = re.search(r"Article in (\w+)", head[id_index])
    if lang:
        meta["language"] = lang.group(1)
    if record_id.lower().startswith("mdl-"):
        meta["pmid"] = record_id[4:]
    journal = citation.split(" ; ")[0].split(";")[0].strip()
    if journal:
        meta["journal"] = journal
    years = YEAR.findall(citation)
    if years:
        meta["year"] = int(years[-1] if len(years) == 1 else max(years))
    doi = DOI.search(citation)
    if doi:
        meta["doi"] = doi.group(1)
    body, tail = split_index_terms("\n".join(lines[1 + id_index + 1:]))
    cleaned = clean_text(body)
    subjects = _subjects_after(tail, "Subject(s)")
    if subjects:
        meta["subjects"] = subjects
    if cleaned.references:
        meta["references"] = cleaned.references
    if article_title:
        meta["article_title"] = article_title
    # One title everywhere (card, document page, export, Documents tab): the article's own,
    # else the abstract's opening sentence, else the journal and year.
    label = f"PMID {meta['pmid']}" if "pmid" in meta else f"record {number}"
    title = article_title or headline(cleaned.text) or f"{journal} {meta.get('year', '')} ({label})".replace("  ", " ")
    doc_id = f"{stem}/pmid-{meta['pmid']}" if "pmid" in meta else f"{stem}/record-{number}"
    return Document(doc_id, title, cleaned.text, source, meta, cleaned.sections)


def record_head(lines: list[str]) -> tuple[str, str]:
    """(article title, citation) of the lines between a record's number and its ID line: the
    citation is the last (journal ; volume: pages, year); the title the lines before it, any
    author line ("Smith, Jane; Jones, A.") left out. A listing without titles gives ''.

    >>> record_head(["Skill mix in general practice:", "a survey.", "Smith, J; Jones, A.", "BMJ Open ; 9(4), 2019."])
    ('Skill mix in general practice: a survey', 'BMJ Open ; 9(4), 2019.')
    >>> record_head(["J Public Health (Oxf) ; 45(Suppl 1): i54-i62, 2023 12 21."])
    ('', 'J Public Health (Oxf) ; 45(Suppl 1): i54-i62, 2023 12 21.')
    """
    if not lines:
        return "", ""
    cited = max((i for i, ln in enumerate(lines) if CITATION.search(ln)), default=len(lines) - 1)
    title = " ".join(ln for ln in lines[:cited] if not AUTHORS.match(ln)).strip()
    return title.rstrip(".").strip(), " ".join(lines[cited:]).strip()


LABEL = re.compile(r"^(?:ABSTRACT\s*)?(?:[A-Z][A-Z /&-]{2,40}:\s*|(?:Objectives?|Background|Aims?|Purpose|Context)"
                   r"\s+(?=[A-Z]))?")


def headline(text: str, limit: int = 110) -> str:
    """The opening sentence of an abstract, without its ABSTRACT/BACKGROUND: labels, cut to a
    headline (a record without its article's title is known by it).

    >>> headline("ABSTRACT\\n\\nBACKGROUND: GPs are leaving. We asked why.")
    'GPs are leaving.'
    >>> headline("Objectives To explore what GPs bring. Methods We asked.")
    'To explore what GPs bring.'
    """
    text = LABEL.sub("", " ".join(text.split()))
    sentence = re.split(r"(?<=[.?!])\s+(?=[A-Z])", text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


WEB_MARKERS = re.compile(r"edit this page|your browser does ?n[o']t support javascript|<html", re.I)


def _single_document(text: str, source: str, stem: str, web: bool = False,
                     extracted: Extracted | None = None) -> Document:
    extracted = extracted or Extracted(text)
    text, tail = split_index_terms(text)
    cleaned = clean_text(text, extracted.headings)
    meta: dict = dict(extracted.metadata)
    first = re.sub(r"^#{1,6}\s+", "", cleaned.text.split("\n\n", 1)[0].strip())  # a Markdown heading's marks
    title = " ".join(extracted.title.split())
    if not title and first and len(first) <= 250 and not first.endswith(".") \
            and first.lower() not in GENERIC_TITLES and "\n" not in first:
        title = first
    pages = text.split(PAGE_BREAK)
    # the cover: the first page with text, or the first lines of a document without pages
    cover = next((p for p in pages if p.strip()), "") if extracted.paged else \
        "\n".join([ln for ln in text[:2000].split("\n") if ln.strip()][:COVER_LINES])
    title = recased(title_from_form(title, cover), cleaned.text) if title else humanise(stem.rsplit("/", 1)[-1])
    # A citation line near the top (journal. year ... doi: ...).
    for block in cleaned.text.split("\n\n")[:4]:
        doi = DOI.search(block)
        if doi and len(block) < 400:
            meta["doi"] = doi.group(1)
            meta["citation"] = block.strip()
            journal = re.match(r"^([A-Z][^.]{2,80})\.\s", block)
            if journal:
                meta["journal"] = journal.group(1)
            year = YEAR.search(block)
            if year:
                meta["year"] = int(year.group(1))
            break
    year, evidence, updated = publication_year(
        cover=cover, furniture=meta.get("running_headers", []) + meta.get("running_footers", []),
        top=cleaned.text[:TOP], citation_year=meta.get("year"), file_name=source, text=cleaned.text,
        file_dates=[meta.get("file_created")])
    if year:
        meta.update(year=year, year_evidence=evidence)
    if updated:
        meta["updated"] = updated
    pmid = PMID.search(cleaned.text[:5000])
    if pmid:
        meta["pmid"] = pmid.group(1)
    subjects = _subjects_after(tail, "MeSH terms")
    if subjects:
        meta["subjects"] = subjects
    types = _subjects_after(tail, "Publication types")
    if types:
        meta["publication_types"] = types
    if cleaned.references:
        meta["references"] = cleaned.references
    if web or source.lower().endswith((".html", ".htm")):
        meta["kind"] = "web page"
    elif "doi" in meta and len(cleaned.text) < 8000:
        meta["kind"] = "abstract"
    elif cleaned.references:
        meta["kind"] = "paper"
    elif source.lower().endswith((".csv", ".xlsx")):
        meta["kind"] = "spreadsheet"
    elif source.lower().endswith(".pptx"):
        meta["kind"] = "slides"
    elif source.lower().endswith(".pdf") or len(cleaned.text) > 50_000:
        meta["kind"] = "report"
    else:
        meta["kind"] = "document"
    return Document(stem, title, cleaned.text, source, meta, cleaned.sections,
                    cleaned.pages if extracted.paged else [])


INDEX_TERMS = re.compile(r"^[ \t]*(Subject\(s\)|MeSH terms|Publication types|Substances|Grant support)[ \t]*$",
                         re.M | re.I)


def split_index_terms(text: str) -> tuple[str, str]:
    """Body and trailing index terms (subject headings, publication types): the terms go to
    metadata, not into the retrievable text, where they would match every question."""
    m = INDEX_TERMS.search(text)
    if not m or not text[:m.start()].strip():
        return text, ""
    return text[:m.start()], text[m.start():]


def humanise(name: str) -> str:
    """'hsmc-pct-commissioning-report-2006' -> 'HSMC PCT commissioning report 2006'."""
    words = re.split(r"[-_\s]+", name.strip())
    words = [w.upper() if w.isalpha() and not re.search(r"[aeiouy]", w, re.I) else w.lower() for w in words if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _subjects_after(text: str, label: str) -> list[str]:
    """Subject terms listed after a label, one line with ' , ' or bullet lines."""
    m = re.search(re.escape(label) + r"\s*\n((?:\s*\n)*)((?:.+\n?)+)", text)
    if not m:
        return []
    block = m.group(2).strip().split("\n")
    if len(block) == 1 and "," in block[0] and not BULLET.match(block[0]):
        return [t.strip() for t in block[0].split(" , ") if t.strip()]
    return [BULLET.sub("", ln).strip() for ln in block if BULLET.match(ln)]


def doc_stem(source: str) -> str:
    """Stable id of a file: its path in the corpus without extension, spaces as '_'."""
    stem = str(Path(source).with_suffix("")).replace("\\", "/")
    return re.sub(r"\s+", "_", stem)
