"""Corpus files -> cleaned, citable documents (one per record).

    >>> docs, problems = load_corpus("corpus")
    >>> docs[0].doc_id, docs[0].title, docs[0].sections[:1]

Readers for .txt/.md/.html/.pdf/.docx give raw text; `clean_text` removes web-page
leftovers, reflows hard-wrapped lines (undoing end-of-line hyphenation where the joined
word is attested elsewhere in the file), finds section headings, and moves numbered
reference lists out of the retrievable body. `split_records` turns a PubMed/LILACS result
listing into one document per abstract, with its journal, year, PMID and subject terms.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED = {".txt", ".md", ".markdown", ".text", ".html", ".htm", ".pdf", ".docx"}
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class Document:
    doc_id: str
    title: str
    text: str  # cleaned text; chunk offsets point into it
    source: str  # source file, relative to the corpus folder
    metadata: dict = field(default_factory=dict)
    sections: list = field(default_factory=list)  # [(offset in text, heading), ...]

    def section_at(self, offset: int) -> str:
        """The heading in force at a character offset ('' before the first heading)."""
        current = ""
        for start, heading in self.sections:
            if start > offset:
                break
            current = heading
        return current


class IngestError(Exception):
    """A file that cannot be read; the message says why."""


# ---------------------------------------------------------------- readers

def read_text(path: Path) -> str:
    """Raw text of one file, by its extension. Raises IngestError if it can't be read."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise IngestError(f"unsupported file type '{ext or path.name}'")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(f"file too large ({size} bytes)")
        if ext == ".pdf":
            return _read_pdf(path)
        if ext == ".docx":
            return _read_docx(path)
        text = _decode(path.read_bytes())
        if ext in (".html", ".htm"):
            return _html_to_text(text)
        return text
    except IngestError:
        raise
    except Exception as exc:  # a parser's own failure: report, don't crash the build
        raise IngestError(f"{type(exc).__name__}: {exc}".strip()[:300]) from exc


def _decode(data: bytes) -> str:
    if data.count(b"\x00") > max(8, len(data) // 100):
        raise IngestError("binary content (NUL bytes) in a text file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "form", "svg", "template", "head"}
BLOCK_TAGS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "br", "td", "th",
              "blockquote", "pre", "ul", "ol", "table", "main", "aside", "dd", "dt", "hr"}


def _html_to_text(html: str) -> str:
    """Visible text of a page: a streaming parser (no tree), so any nesting depth is linear."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            if tag in SKIP_TAGS:
                self.skip += 1
            elif tag == "li":
                self.parts.append("\n• ")
            elif tag in BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_startendtag(self, tag, attrs):
            if tag in ("br", "hr"):
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag in SKIP_TAGS:
                self.skip = max(0, self.skip - 1)
            elif tag in BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        raise IngestError("encrypted PDF")
    pages = [page.extract_text() or "" for page in reader.pages]
    if not any(p.strip() for p in pages):
        raise IngestError("PDF has no extractable text (scanned images?)")
    return "\f".join(pages)


def _read_docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
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


# ---------------------------------------------------------------- cleaning

# Whole lines that are web-page or PDF furniture, never content.
BOILERPLATE = re.compile(
    r"^\s*(your browser does ?n[o']t support javascript\.?|loading\.*|show:\s*\d+(\s*\|\s*\d+)*"
    r"|results\s+\d+\s*-\s*\d+\s+(de|of)\s+\d+|filters?|edit this page|selection of citations"
    r"|search detail|\.\.\.|…|skip to (main )?content|back to top|print( this page)?|share( this page)?"
    r"|page \d+( of \d+)?|\d{1,3}|cookie settings|accept (all )?cookies|javascript is disabled.*)\s*$",
    re.IGNORECASE,
)
BULLET = re.compile(r"^\s*([•●▪◦‣∙·*]|[-–—](?=\s)|\(?[ivx]{1,4}\)|\(?[a-h]\)|\d{1,2}[.)](?=\s))\s*")
REFERENCE = re.compile(r"^\s*\[\d{1,3}\]\s+\S")
REFERENCES_HEADING = re.compile(r"^\s*(references|bibliography|works cited)\s*:?\s*$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?:;\"”’')\]]\s*$")
CONNECTORS = set(
    "a an the of and or but to in on at by for with from as that which who is are was were be been "
    "has have had their its this these those than then into onto upon our we it not no nor so".split()
)
GENERIC_TITLES = {"executive summary", "main research findings", "abstract", "summary", "introduction",
                  "contents", "table of contents", "background", "key findings", "overview"}


@dataclass
class Cleaned:
    text: str
    sections: list  # [(offset, heading)]
    references: list  # reference-list entries moved out of the body


def normalise(raw: str) -> str:
    """Line endings, control characters, odd spaces; form feeds become paragraph breaks."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00a0", " ").replace("\u00ad", "").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C" or ch == "\u200d")


def drop_boilerplate(text: str) -> str:
    return "\n".join("" if BOILERPLATE.match(line) else line for line in text.split("\n"))


def clean_text(raw: str) -> Cleaned:
    """Cleaned, reflowed text of one record, with its section headings and references."""
    text = drop_boilerplate(normalise(raw))
    # PDF extractions start a page's first line with one space: after a finished
    # sentence that is a new block (often a section heading).
    text = re.sub(r"(?<=[.!?:;”’\")])\n (?=[^\s•])", "\n\n", text)
    vocabulary = set(re.findall(r"[a-z]+", text.lower()))
    compounds = set(re.findall(r"[a-z]+-[a-z]+", text.lower()))
    blocks = [b.split("\n") for b in re.split(r"\n\s*\n", text)]
    blocks = [[ln.rstrip() for ln in b if ln.strip()] for b in blocks]
    blocks = [b for b in blocks if b]

    references, body = [], []
    for i, block in enumerate(blocks):
        if REFERENCE.match(block[0]):
            references.append(" ".join(ln.strip() for ln in block))
        elif REFERENCES_HEADING.match(block[0]) and len(block) == 1 and i + 1 < len(blocks) \
                and REFERENCE.match(blocks[i + 1][0]):
            continue
        else:
            body.append(block)

    # A paragraph cut by a page break: the next block carries on in lower case.
    merged = []
    for block in body:
        if merged and not SENTENCE_END.search(merged[-1][-1]) and block[0].lstrip()[:1].islower() \
                and not BULLET.match(block[0]):
            merged[-1].extend(block)
        else:
            merged.append(block)

    out, sections, length = [], [], 0
    for i, block in enumerate(merged):
        next_first = merged[i + 1][0] if i + 1 < len(merged) else None
        paragraphs = []
        lines = block
        follower = lines[1] if len(lines) > 1 else next_first
        if looks_like_heading(lines[0], follower):
            paragraphs.append(("heading", lines[0].strip()))
            lines = lines[1:]
        if lines:
            paragraphs.append(("text", reflow(lines, vocabulary, compounds)))
        for kind, para in paragraphs:
            para = re.sub(r"[ ]{2,}", " ", para).strip()
            if not para:
                continue
            if out:
                length += 2
            if kind == "heading":
                sections.append((length, para))
            out.append(para)
            length += len(para)
    return Cleaned("\n\n".join(out), sections, references)


def looks_like_heading(line: str, follower: str | None) -> bool:
    """A short title-like line standing before the start of a new sentence."""
    s = line.strip()
    words = s.split()
    if not (2 <= len(s) <= 80) or len(words) > 10 or follower is None:
        return False
    if re.search(r"[.,;!?]$", s) or (s.endswith(":") and len(words) > 4) or BULLET.match(s) and not re.match(r"^\d+\.\s+[A-Z]", s):
        return False
    if not (s[0].isupper() or s[0].isdigit()) or words[-1].lower() in CONNECTORS:
        return False
    if re.match(r"^(figure|table|source|note|contact)s?\b", s, re.IGNORECASE) or sum(c.isdigit() for c in s) > 6 \
            or "@" in s or words[-1].lower() in ("figure", "table", "section", "page", "p"):
        return False
    if "," in s and len(words) > 4:  # more likely the start of a wrapped sentence
        return False
    f = follower.lstrip()
    return bool(f) and (f[0].isupper() or f[0].isdigit() or bool(BULLET.match(f)) or f[0] == "(")


def reflow(lines: list[str], vocabulary: set = frozenset(), compounds: set = frozenset()) -> str:
    """Join hard-wrapped lines into one paragraph; list items keep their own lines."""
    out = []
    for line in lines:
        s = line.strip()
        if not out or BULLET.match(s):
            out.append(s)
            continue
        prev = out[-1]
        m = re.search(r"([A-Za-z]+)-$", prev)
        n = re.match(r"([a-z]+)", s)
        if m and n:
            joined = (m.group(1) + n.group(1)).lower()
            hyphenated = f"{m.group(1)}-{n.group(1)}".lower()
            if joined in vocabulary and hyphenated not in compounds:
                out[-1] = prev[:-1] + s  # a word split across lines: undo the hyphen
            else:
                out[-1] = prev + s  # a real compound (practice-based): keep the hyphen
        else:
            out[-1] = prev + " " + s
    return "\n".join(out)


# ---------------------------------------------------------------- records

RECORD_START = re.compile(r"^(\d{1,4})\.\s*$")
RECORD_ID_LINE = re.compile(r"\|\s*(MEDLINE|LILACS|IBECS|BDENF|WPRIM|PubMed|[A-Z]{3,})\s*\|\s*ID:\s*(\S+)", re.I)
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s;,]+[^\s;,.])")
YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
PMID = re.compile(r"\bPMID:?\s*(\d{5,9})\b")


def is_listing(text: str) -> bool:
    lines = text.split("\n")
    hits = sum(1 for i, ln in enumerate(lines) if RECORD_START.match(ln)
               and any(RECORD_ID_LINE.search(x) for x in lines[i + 1:i + 4]))
    return hits >= 2


def split_records(raw: str, source: str) -> list[Document]:
    """One Document per record: a result listing gives many, any other file one."""
    stem = doc_stem(source)
    text = drop_boilerplate(normalise(raw))
    if not is_listing(text):
        return [_single_document(text, source, stem, web=bool(WEB_MARKERS.search(raw)))]
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if RECORD_START.match(ln)
              and any(RECORD_ID_LINE.search(x) for x in lines[i + 1:i + 4])]
    docs = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        docs.append(_listing_record(lines[start:end], source, stem))
    return [d for d in docs if d.text]


def _listing_record(lines: list[str], source: str, stem: str) -> Document:
    number = RECORD_START.match(lines[0]).group(1)
    head = [ln.strip() for ln in lines[1:4]]
    id_index = next(i for i, ln in enumerate(head) if RECORD_ID_LINE.search(ln))
    citation = " ".join(head[:id_index]).strip()
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
    label = f"PMID {meta['pmid']}" if "pmid" in meta else f"record {number}"
    title = f"{journal} {meta.get('year', '')} ({label})".replace("  ", " ").strip()
    doc_id = f"{stem}/pmid-{meta['pmid']}" if "pmid" in meta else f"{stem}/record-{number}"
    return Document(doc_id, title, cleaned.text, source, meta, cleaned.sections)


WEB_MARKERS = re.compile(r"edit this page|your browser does ?n[o']t support javascript|<html", re.I)


def _single_document(text: str, source: str, stem: str, web: bool = False) -> Document:
    text, tail = split_index_terms(text)
    cleaned = clean_text(text)
    meta: dict = {}
    first = cleaned.text.split("\n\n", 1)[0].strip()
    title = ""
    if first and len(first) <= 250 and not first.endswith(".") and first.lower() not in GENERIC_TITLES \
            and "\n" not in first:
        title = first
    if not title:
        title = humanise(stem.rsplit("/", 1)[-1])
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
    elif source.lower().endswith(".pdf") or len(cleaned.text) > 50_000:
        meta["kind"] = "report"
    else:
        meta["kind"] = "document"
    return Document(stem, title, cleaned.text, source, meta, cleaned.sections)


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


# ---------------------------------------------------------------- corpus

@dataclass
class Problem:
    path: str
    message: str

    def __str__(self):
        return f"skipped {self.path}: {self.message}"


def corpus_files(corpus_dir: Path) -> list[Path]:
    corpus_dir = Path(corpus_dir)
    return sorted(p for p in corpus_dir.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts))


def load_file(path: Path, corpus_dir: Path) -> list[Document]:
    source = str(Path(path).relative_to(corpus_dir)).replace("\\", "/")
    raw = read_text(path)
    if not raw.strip():
        raise IngestError("empty file")
    docs = split_records(raw, source)
    if not docs or not any(d.text.strip() for d in docs):
        raise IngestError("no text after cleaning")
    return docs


def load_corpus(corpus_dir) -> tuple[list[Document], list[Problem]]:
    """All documents of a corpus folder, and the files that were skipped and why."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    docs, problems = [], []
    for path in corpus_files(corpus_dir):
        try:
            docs.extend(load_file(path, corpus_dir))
        except IngestError as exc:
            problems.append(Problem(str(path), str(exc)))
    seen = {}
    for d in docs:  # ids must be unique: a listing may repeat a record
        if d.doc_id in seen:
            seen[d.doc_id] += 1
            d.doc_id = f"{d.doc_id}~{seen[d.doc_id]}"
        else:
            seen[d.doc_id] = 1
    return docs, problems
