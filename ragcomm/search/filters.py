"""Filters by document, source file, kind, year or any metadata field -> a mask over chunks."""
from __future__ import annotations

import numpy as np


def as_set(value) -> set:
    return {value} if isinstance(value, (str, int)) else set(value)


def document_passes(doc_id: str, doc: dict, filters: dict) -> bool:
    """Whether one document passes every filter; an empty value filters nothing.

    >>> document_passes("report", {"source": "r.txt", "metadata": {"year": 2006}}, {"year_from": 2010})
    False
    """
    meta = doc["metadata"]
    for key, value in filters.items():
        if value in (None, "", [], ()):
            continue
        if key == "doc_id":
            ok = doc_id in as_set(value) or doc_id.split("/")[0] in as_set(value)
        elif key == "source":
            ok = doc["source"] in as_set(value)
        elif key == "year_from":
            ok = meta.get("year") is not None and meta["year"] >= int(value)
        elif key == "year_to":
            ok = meta.get("year") is not None and meta["year"] <= int(value)
        else:
            ok = meta.get(key) in as_set(value)
        if not ok:
            return False
    return True


def chunk_mask(documents: dict, chunk_doc_ids: list[str], filters: dict | None) -> np.ndarray | None:
    """Boolean mask over chunks for filters, or None when nothing is filtered.

    filters: doc_id (str or list), source (str or list), kind (str or list),
    year_from / year_to (int), and any other metadata key (equality)."""
    if not filters:
        return None
    keep = {doc_id: document_passes(doc_id, d, filters) for doc_id, d in documents.items()}
    return np.array([keep[d] for d in chunk_doc_ids], dtype=bool)
