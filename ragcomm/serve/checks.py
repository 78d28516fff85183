"""What a request may hold: the checks every front end shares (the Service runs them; the
REST API words its 400s with them), and the filters described in words."""
from __future__ import annotations

from ..search import MODES, QueryError, check_question

MAX_K = 100


def check_k(k) -> int:
    """The number of passages: a whole number from 1 to MAX_K (a numeric string or 5.0 will do).

    >>> check_k("3"), check_k(4.0)
    (3, 4)
    """
    value = k
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, not {str(k)[:40]!r}")
    return value


def check_mode(mode) -> str | None:
    if mode in (None, ""):
        return None
    if not isinstance(mode, str) or mode not in MODES:
        raise QueryError(f"mode must be one of {', '.join(MODES)}, not {str(mode)[:40]!r}")
    return mode


MAX_HISTORY = 50  # earlier questions a request may carry (only the last ones are used)


def check_history(history) -> list[str]:
    """Earlier questions of the conversation, oldest first: a list of text (blank ones dropped).

    >>> check_history(["What is PBC?", "x" * 3000])
    Traceback (most recent call last):
    ...
    ragcomm.search.retriever.QueryError: history item 2 is too long (3000 characters; at most 2000)
    """
    if history in (None, ""):
        return []
    if not isinstance(history, (list, tuple)) or not all(isinstance(h, str) for h in history):
        raise QueryError("history must be a list of the earlier questions (text), oldest first")
    if len(history) > MAX_HISTORY:
        raise QueryError(f"history has {len(history)} items; at most {MAX_HISTORY} earlier questions")
    out = []
    for n, item in enumerate(history, start=1):
        if not item.strip():
            continue
        try:
            out.append(check_question(item))
        except QueryError as exc:
            raise QueryError(str(exc).replace("the question", f"history item {n}", 1)) from None
    return out


def describe_filters(filters: dict, total: int, searched: int, excluded: dict, undated: int) -> str:
    """One line, in words, of which filters are on and what they left out.

    >>> describe_filters({}, 22, 22, {}, 0)
    'No filters: searching all 22 documents.'
    >>> describe_filters({"year_from": 2015, "include_undated": True}, 22, 15, {"year": 7}, 4)
    'Filters: from 2015 (4 undated documents kept). Searching 15 of 22 documents; 7 left out by year.'
    """
    parts = []
    if filters.get("doc_id") or filters.get("source"):
        n = len(set(filters.get("doc_id") or [])) + len(set(filters.get("source") or []))
        parts.append(f"{n} chosen document{'s' if n != 1 else ''}")
    y0, y1 = filters.get("year_from"), filters.get("year_to")
    if y0 or y1:
        years = f"{y0} to {y1}" if y0 and y1 else (f"from {y0}" if y0 else f"up to {y1}")
        if filters.get("include_undated"):
            years += f" ({undated} undated document{'s' if undated != 1 else ''} kept)"
        else:
            years += " (undated documents left out)"
        parts.append(years)
    if filters.get("kind"):
        kinds = filters["kind"] if isinstance(filters["kind"], (list, tuple)) else [filters["kind"]]
        parts.append("kind: " + ", ".join(map(str, kinds)))
    if not parts:
        return f"No filters: searching all {total} documents."
    out = [f"{n} left out by {name}" for name, n in excluded.items() if n]
    line = f"Filters: {'; '.join(parts)}. Searching {searched} of {total} documents"
    line += ("; " + ", ".join(out) + "." if out else ".")
    if searched == 0:
        line += " Nothing to search: loosen the filters."
    return line
