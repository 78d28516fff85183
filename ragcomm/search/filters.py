"""Filters by document, source file, kind, year or any metadata field -> a mask over chunks."""
from __future__ import annotations

import numpy as np


def as_set(value) -> set:
    return {value} if isinstance(value, (str, int)) else set(value)


def document_passes(doc_id: str, doc: dict, filters: dict) -> bool:
    """Whether one document passes every filter; an empty value filters nothing.

    A year range drops undated documents unless `include_undated` is true (the web chat and
    the REST API keep them by default; the command line drops them).

    >>> document_passes("report", {"source": "r.txt", "metadata": {"year": 2006}}, {"year_from": 2010})
    False
    >>> document_passes("web", {"source": "w.html", "metadata": {}}, {"year_from": 2010, "include_undated": True})
    True
    """
    meta = doc["metadata"]
    undated_ok = bool(filters.get("include_undated"))
    for key, value in filters.items():
        if key == "include_undated" or value in (None, "", [], ()):
            continue
        if key == "doc_id":
            ok = doc_id in as_set(value) or doc_id.split("/")[0] in as_set(value)
        elif key == "source":
            ok = doc["source"] in as_set(value)
        elif key == "year_from":
            ok = undated_ok if meta.get("year") is None else meta["year"] >= int(value)
        elif key == "year_to":
            ok = undated_ok if meta.get("year") is None else meta["year"] <= int(value)
        else:
            ok = meta.get(key) in as_set(value)
        if not ok:
            return False
    return True


def chunk_mask(documents: dict, chunk_doc_ids: list[str], filters: dict | None) -> np.ndarray | None:
    """Boolean mask over chunks for filters, or None when nothing is filtered.

    filters: doc_id (str or list), source (str or list), kind (str or list),
    year_from / year_to (int), include_undated (bool, with a year range), and any other
    metadata key (equality)."""
    if not filters:
        return None
    keep = {doc_id: document_passes(doc_id, d, filters) for doc_id, d in documents.items()}
    return np.array([keep[d] for d in chunk_doc_ids], dtype=bool)
