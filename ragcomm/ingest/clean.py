r"""Raw text -> cleaned, reflowed text with its section headings and reference list.

`clean_text` removes web-page and PDF furniture, reflows hard-wrapped lines (undoing
end-of-line hyphenation where the joined word is attested elsewhere in the file), finds
section headings, and moves numbered reference lists out of the retrievable body.

    >>> cleaned = clean_text("Findings\nGPs led the work and\nnurses joined later.")
    >>> cleaned.text, cleaned.sections
    ('Findings\n\nGPs led the work and nurses joined later.', [(0, 'Findings')])
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


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
    pages: list = field(default_factory=list)  # [(offset, page)]: where each page's text starts


# A contents line: dot leaders (or an ellipsis) before a page number.
CONTENTS_LINE = re.compile(r"(\.\s?){4,}\s*\d{1,4}\s*$|…\s*\d{1,4}\s*$")


def normalise(raw: str) -> str:
    """Line endings, control characters, odd spaces; form feeds become paragraph breaks."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00a0", " ").replace("\u00ad", "").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C" or ch == "\u200d")


def drop_boilerplate(text: str) -> str:
    return "\n".join("" if BOILERPLATE.match(line) or CONTENTS_LINE.search(line) else line
                     for line in text.split("\n"))


def clean_text(raw: str, headings: set | None = None) -> Cleaned:
    """Cleaned, reflowed text of one record, with its section headings, references and pages.

    Pages are separated by form feeds in `raw`; `Cleaned.pages` says where each page's text
    starts in the cleaned text. With `headings` (from styles or font sizes), exactly the
    lines in it that start a block are headings; without, headings are guessed."""
    known = None if headings is None else {" ".join(normalise(h).split()) for h in headings}
    tagged = []  # (line, page)
    for page, part in enumerate(raw.split("\f"), start=1):
        part = drop_boilerplate(normalise(part))
        # PDF extractions start a page's first line with one space: after a finished
        # sentence that is a new block (often a section heading).
        part = re.sub(r"(?<=[.!?:;”’\")])\n (?=[^\s•])", "\n\n", part)
        if page > 1:
            tagged.append(("", page))
        tagged.extend((line, page) for line in part.split("\n"))
    whole = "\n".join(line for line, _ in tagged)
    vocabulary = set(re.findall(r"[a-z]+", whole.lower()))
    compounds = set(re.findall(r"[a-z]+-[a-z]+", whole.lower()))
    blocks, block = [], []
    for line, page in tagged:
        if line.strip():
            block.append((line.rstrip(), page))
        elif block:
            blocks.append(block)
            block = []
    if block:
        blocks.append(block)

    references, body = [], []
    for i, block in enumerate(blocks):
        if REFERENCE.match(block[0][0]):
            references.append(" ".join(ln.strip() for ln, _ in block))
        elif REFERENCES_HEADING.match(block[0][0]) and len(block) == 1 and i + 1 < len(blocks) \
                and REFERENCE.match(blocks[i + 1][0][0]):
            continue
        else:
            body.append(block)

    # A paragraph cut by a page break: the next block carries on in lower case.
    merged = []
    for block in body:
        if merged and not SENTENCE_END.search(merged[-1][-1][0]) and block[0][0].lstrip()[:1].islower() \
                and not BULLET.match(block[0][0]):
            merged[-1].extend(block)
        else:
            merged.append(block)

    out, sections, pages, length = [], [], [], 0
    for i, block in enumerate(merged):
        next_first = merged[i + 1][0][0] if i + 1 < len(merged) else None
        paragraphs = []
        lines = block
        follower = lines[1][0] if len(lines) > 1 else next_first
        first = re.sub(r"[ ]{2,}", " ", lines[0][0].strip())
        if (looks_like_heading(lines[0][0], follower) if known is None
                else first in known and 2 <= len(first) <= 150):
            paragraphs.append(("heading", first, [(0, lines[0][1])]))
            lines = lines[1:]
        if lines:
            text, starts = reflow_with_offsets([re.sub(r"[ ]{2,}", " ", ln) for ln, _ in lines], vocabulary,
                                               compounds)
            paragraphs.append(("text", text, [(start, page) for start, (_, page) in zip(starts, lines)]))
        for kind, para, line_pages in paragraphs:
            lead = len(para) - len(para.lstrip())
            para = para.strip()
            if not para:
                continue
            if out:
                length += 2
            if kind == "heading":
                sections.append((length, para))
            for start, page in line_pages:
                if not pages or pages[-1][1] != page:
                    pages.append((length + max(0, min(start - lead, len(para) - 1)), page))
            out.append(para)
            length += len(para)
    return Cleaned("\n\n".join(out), sections, references, pages)


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
    return reflow_with_offsets(lines, vocabulary, compounds)[0]


def reflow_with_offsets(lines: list[str], vocabulary: set = frozenset(),
                        compounds: set = frozenset()) -> tuple[str, list[int]]:
    """`reflow`, and the offset in the result where each input line's text starts."""
    out, starts, length = [], [], 0  # length: of "\n".join(out)
    for line in lines:
        s = line.strip()
        if not out or BULLET.match(s):
            starts.append(length + (1 if out else 0))
            out.append(s)
            length += len(s) + (1 if len(out) > 1 else 0)
            continue
        prev = out[-1]
        m = re.search(r"([A-Za-z]+)-$", prev)
        n = re.match(r"([a-z]+)", s)
        if m and n:
            joined = (m.group(1) + n.group(1)).lower()
            hyphenated = f"{m.group(1)}-{n.group(1)}".lower()
            if joined in vocabulary and hyphenated not in compounds:
                out[-1] = prev[:-1] + s  # a word split across lines: undo the hyphen
                starts.append(length - 1)
                length += len(s) - 1
            else:
                out[-1] = prev + s  # a real compound (practice-based): keep the hyphen
                starts.append(length)
                length += len(s)
        else:
            out[-1] = prev + " " + s
            starts.append(length + 1)
            length += len(s) + 1
    return "\n".join(out), starts
