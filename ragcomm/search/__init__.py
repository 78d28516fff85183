"""Search: a Retriever over one index (retriever.py), fusion (fusion.py), filters (filters.py)."""
from ..types import Hit
from .filters import chunk_mask
from .fusion import min_max, ranked, rrf, weighted
from .retriever import (FUSIONS, MAX_QUESTION_CHARS, MODES, QueryError, Retrieval, Retriever, check_filters,
                        check_options, check_question)

__all__ = ["FUSIONS", "MAX_QUESTION_CHARS", "MODES", "Hit", "QueryError", "Retrieval", "Retriever", "check_filters",
           "check_options", "check_question", "chunk_mask", "min_max", "ranked", "rrf", "weighted"]
