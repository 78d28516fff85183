"""Document ids that are unique whatever the file names: a function of the corpus's file
names alone, so `ragcomm index --rebuild` gives every document the id it had.

A file's documents are named after its path without the extension (`report`, or
`listing/pmid-123` for the records of a result listing), as long as no other file's
documents would get the same id, compared without case and Unicode form (`Report` and
`report`, `café` composed and decomposed, `a b` and `a_b`). Files that clash keep their
extension (`report.pdf`, `report.docx`), and where even that clashes, a short hash of the
file name is added (`Report.pdf~3f2a9c1e`). Ids of files without a clash never change.

    >>> [d.doc_id for d in unique_ids([doc("control.txt"), doc("control.md"), doc("other.txt")])]
    ['control.txt', 'control.md', 'other']
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

from ..types import Document


def prefix_of(source: str, extension: bool = False) -> str:
    """A file's id prefix: its path in the corpus (without extension unless asked), spaces as
    '_' (without extension, records.doc_stem: how a reader names a file's documents)."""
    path = str(Path(source) if extension else Path(source).with_suffix("")).replace("\\", "/")
    return re.sub(r"\s+", "_", path)


def clash_key(doc_id: str) -> str:
    """What two ids must not share: case, Unicode form and spacing aside."""
    return re.sub(r"[\s_]+", "_", unicodedata.normalize("NFKC", doc_id).casefold())


def prefixes(source: str) -> list[str]:
    """Every prefix an id of this file may carry, longest first."""
    digest = hashlib.sha1(source.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return [f"{prefix_of(source, True)}~{digest}", prefix_of(source, True), prefix_of(source)]


def local_part(doc: Document) -> str:
    """The part of a document's id after its file's prefix ('' for a file's only document,
    '/pmid-123' for a record), whichever prefix it was given."""
    for prefix in prefixes(doc.source):
        if doc.doc_id == prefix or doc.doc_id.startswith(prefix + "/") or doc.doc_id.startswith(prefix + "~"):
            return doc.doc_id[len(prefix):]
    return "/" + doc.doc_id  # named otherwise by its reader: kept under the file's prefix


def number_repeats(docs: list[Document]) -> list[Document]:
    """Ids unique within one file: a listing may repeat a record (`x/pmid-1`, `x/pmid-1~2`)."""
    seen: dict = {}
    for d in docs:
        key = clash_key(d.doc_id)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            d.doc_id = f"{d.doc_id}~{seen[key]}"
    return docs


def unique_ids(docs: list[Document]) -> list[Document]:
    """Give every document of a corpus its id (in place; also returned): the plainest prefix
    of its file (see `prefixes`) that no other file's documents share."""
    by_source: dict = defaultdict(list)
    for d in docs:
        by_source[d.source].append(d)
    local = {id(d): local_part(d) for d in docs}
    level = {source: 2 for source in by_source}  # index into prefixes(): start with the plain stem
    while True:
        owners: dict = defaultdict(set)
        for source, group in by_source.items():
            prefix = prefixes(source)[level[source]]
            for d in group:
                owners[clash_key(prefix + local[id(d)])].add(source)
        clashing = {s for sources in owners.values() if len(sources) > 1 for s in sources if level[s] > 0}
        if not clashing:
            break
        for source in clashing:
            level[source] -= 1
    for source, group in by_source.items():
        prefix = prefixes(source)[level[source]]
        for d in group:
            d.doc_id = prefix + local[id(d)]
    return docs


def doc(source: str) -> Document:  # for the doctest
    return Document(prefix_of(source), "", "text", source)
