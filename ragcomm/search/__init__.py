"""Search: a Retriever over one index (retriever.py), fusion (fusion.py), filters (filters.py)."""
from ..types import Hit
from .filters import chunk_mask
from .fusion import FUSIONS, WEIGHTINGS, dbsf, fuse, min_max, ranked, rrf, weighted, zscore
from .prf import DENSE_PRFS, PRFS, rm3, rocchio
from .retriever import (MAX_QUESTION_CHARS, MODES, RETRIEVAL_FIELDS, QueryError, Retrieval, Retriever,
                        check_filters, check_options, check_question, check_retrieval_settings, recorded_settings)
from .sentences import SENTENCE_MODES

__all__ = ["DENSE_PRFS", "FUSIONS", "MAX_QUESTION_CHARS", "MODES", "PRFS", "RETRIEVAL_FIELDS", "SENTENCE_MODES",
           "WEIGHTINGS", "Hit", "QueryError", "Retrieval", "Retriever", "check_filters", "check_options",
           "check_question", "check_retrieval_settings", "chunk_mask", "dbsf", "fuse", "min_max", "ranked",
           "recorded_settings", "rm3", "rocchio", "rrf", "weighted", "zscore"]
