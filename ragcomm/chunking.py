"""Document -> token-sized chunks aligned to sentences, with character offsets.

Sizes are counted in tiktoken's cl100k_base (the offline copy). Chunks are packed from
whole sentences (a sentence longer than the budget is split at word boundaries), overlap
by whole sentences up to `overlap` tokens, and start afresh at a section heading. An
optional `fits(text)` check lets the caller enforce a second limit, such as the embedding
model's own max_seq_length, so that no chunk is silently truncated by the embedder.

    >>> doc = Document("d", "Title", "GPs lead commissioning. Nurses help them. Managers support both.", "d.txt")
    >>> chunks = chunk_document(doc, size=12, overlap=5)
    >>> [c.text for c in chunks]
    ['GPs lead commissioning. Nurses help them.', 'Nurses help them. Managers support both.']
    >>> all(doc.text[c.start:c.end] == c.text for c in chunks)
    True
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Optional

from .config import TOKENIZER_ENCODING
from .types import Chunk, Document


@lru_cache(maxsize=1)
def encoding():
    import tiktoken

    return tiktoken.get_encoding(TOKENIZER_ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


# Blocks that no sentence crosses: lines (paragraphs, list items, headings), table cells (readers
# join a row's cells with " | ") and list items run together on one line ("... ● A summary").
BLOCK_BREAK = re.compile(r"\s*\n\s*|(?<!\S)\|(?:\s*\|)*(?!\S)|\s+(?=[•●▪■]\s)")
# Within a block, a sentence ends at . ! ? (optionally closed by a quote or bracket) before white
# space and a capital, digit, quote or bracket.
SENTENCE_BREAK = re.compile(r"[.!?][”’\"')\]]*(\s+)(?=[A-Z0-9‘“\"'(•])")
ABBREVIATION = re.compile(r"\b(e\.g|i\.e|et al|etc|vs|cf|Dr|Mr|Mrs|Ms|Prof|St|No|p|pp|Fig|approx|Oxf)\.$", re.I)
# Not sentence ends either: a list number ("1. Service name"), dot leaders before a page number,
# initials ("Dr A. Patel", "J. K. Rowling"), and, before them, a citation's year and month or Epub
# ("J Health Serv Res Policy. 2012 Jan;17(1):11-7.").
LIST_NUMBER = re.compile(r"(?:\d+(?:\.\d+)*|[a-z]|[ivx]+)\.", re.I)
NOT_AN_END = re.compile(r"(?:\.\s?){3,}$|\b(?:Dr|Mr|Mrs|Ms|Prof)\.? [A-Z]\.$|\b[A-Z]\.\s?[A-Z]\.$")
CITATION_NEXT = re.compile(r"(?:19|20)\d{2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b|"
                           r"(?:19|20)\d{2}\s*;|Epub\b")
# Recorded in the index manifest: an index split otherwise is rebuilt (chunks and sentence vectors
# follow the split). Change it whenever sentence_spans splits differently.
SENTENCE_SPLITTER = "blocks+regex/3"


def block_spans(text: str) -> list[tuple[int, int]]:
    r"""(start, end) of each line, table cell or run-in list item: no sentence crosses one.

    >>> text = "Service name | Cardiac Surgery\nIt must: ● Be safe ● Be open"
    >>> [text[a:b] for a, b in block_spans(text)]
    ['Service name', 'Cardiac Surgery', 'It must:', '● Be safe', '● Be open']
    """
    spans, start = [], 0
    for m in BLOCK_BREAK.finditer(text):
        _add_span(text, start, m.start(), spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def regex_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of one block (no line breaks), by SENTENCE_BREAK.

    >>> text = "Dr Smith met 41 GPs (n = 41), e.g. in Leeds. They agreed."
    >>> [text[a:b] for a, b in regex_sentences(text)]
    ['Dr Smith met 41 GPs (n = 41), e.g. in Leeds.', 'They agreed.']
    """
    spans, start = [], 0
    for m in SENTENCE_BREAK.finditer(text):
        before = text[start:m.start(1)]
        if (ABBREVIATION.search(before) or LIST_NUMBER.fullmatch(before.strip()) or NOT_AN_END.search(before)
                or CITATION_NEXT.match(text, m.end(1))):
            continue
        _add_span(text, start, m.start(1), spans)
        start = m.end(1)
    _add_span(text, start, len(text), spans)
    return spans


# How a block is split into sentences (bench/segmenters.py measures others in its place).
prose_sentences = regex_sentences


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, list item or table cell, white space excluded."""
    spans = []
    for a, b in block_spans(text):
        spans.extend((a + s, a + e) for s, e in prose_sentences(text[a:b]))
    return spans


def _add_span(text: str, start: int, end: int, spans: list) -> None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right > left:
        spans.append((start + left, start + right))


def _split_long(text: str, start: int, end: int, budget: int, fits) -> list[tuple[int, int]]:
    """Split an over-long sentence into pieces within the budget, at word boundaries where
    there are any. Linear in the sentence's length: it is tokenized once."""
    import bisect

    span = text[start:end]
    tokens = encoding().encode(span, disallowed_special=())
    decoded, offsets = encoding().decode_with_offsets(tokens)
    if decoded != span:  # cannot map tokens to characters: fall back to characters
        offsets = list(range(0, len(span), 4))
    pieces, pos = [], 0
    while pos < len(span):
        first = bisect.bisect_left(offsets, pos)
        limit = first + budget
        cut = len(span) if limit >= len(offsets) else offsets[limit]
        while True:
            if cut < len(span):
                space = span.rfind(" ", pos + 1, cut)
                if space > pos:
                    cut = space
            piece = span[pos:cut]
            if cut - pos <= 1 or (count_tokens(piece) <= budget and fits(piece)):
                break
            cut = pos + max(1, (cut - pos) * 3 // 4)
        right = len(piece.rstrip())
        if right:
            pieces.append((start + pos, start + pos + right))
        pos = cut
        while pos < len(span) and span[pos].isspace():
            pos += 1
    return pieces


def chunk_document(doc: Document, size: int = 160, overlap: int = 32,
                   fits: Optional[Callable[[str], bool]] = None,
                   prefix: Optional[Callable[[str], str]] = None) -> list[Chunk]:
    """Pack a document's sentences into chunks of at most `size` tokens. With `fits`, every
    chunk also passes fits(prefix(its section) + its text), e.g. the embedding model's limit
    on what is embedded."""
    if size < 8:
        raise ValueError("chunk size must be at least 8 tokens")
    if not 0 <= overlap < size:
        raise ValueError("overlap must be at least 0 and smaller than the chunk size")
    base = fits or (lambda _text: True)

    def fits_at(start: int):
        head = prefix(doc.section_at(start)) if prefix else ""
        return lambda t: base(head + t)

    text = doc.text
    headings = {start for start, _ in doc.sections}
    units = []  # (start, end, tokens, is_heading)
    for s, e in sentence_spans(text):
        if count_tokens(text[s:e]) > size or not fits_at(s)(text[s:e]):
            units.extend((a, b, count_tokens(text[a:b]), False) for a, b in _split_long(text, s, e, size, fits_at(s)))
        else:
            units.append((s, e, count_tokens(text[s:e]), s in headings))

    chunks, i = [], 0
    while i < len(units):
        j, tokens = i, units[i][2]
        while j + 1 < len(units):
            nxt = units[j + 1]
            if nxt[3] and tokens >= size // 3:
                break  # a heading starts a new chunk
            candidate = text[units[i][0]:nxt[1]]
            if tokens + nxt[2] > size or (count_tokens(candidate) > size) or not fits_at(units[i][0])(candidate):
                break
            j += 1
            tokens += nxt[2]
        start, end = units[i][0], units[j][1]
        piece = text[start:end]
        chunks.append(Chunk(f"{doc.doc_id}#{len(chunks)}", doc.doc_id, piece, start, end,
                            doc.section_at(start), count_tokens(piece), doc.page_at(start), doc.page_at(end - 1)))
        if j + 1 >= len(units):
            break
        # Next chunk: step back over whole sentences worth at most `overlap` tokens,
        # but never across a heading that starts the next chunk, and always move forward.
        k, carried = j + 1, 0
        if not units[j + 1][3]:
            while k - 1 > i and carried + units[k - 1][2] <= overlap:
                k -= 1
                carried += units[k][2]
        i = k
    return chunks



def embed_text(title: str, section: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its title and section, then its text.

    >>> embed_text("Report", "Leadership", "GPs lead.")
    'Report | Leadership\\nGPs lead.'
    """
    head = title if not section or section == title else f"{title} | {section}" if title else section
    return f"{head}\n{text}" if head else text
