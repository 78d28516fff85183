"""ragcomm: cited retrieval over NHS commissioning documents.

    >>> from ragcomm import Settings, open_index, Retriever
    >>> index = open_index(Settings(corpus_dir="corpus", index_dir="index"))  # loads, or builds
    >>> hits = Retriever(index).search("what makes a good commissioning manager?", k=5)
"""
__version__ = "0.1.0"

from .config import Settings  # noqa: E402
from .index import Index, IndexCorrupt, IndexMismatch, IndexMissing, build_index, load_index, open_index  # noqa: E402
from .ingest import Document, load_corpus  # noqa: E402
from .chunking import Chunk, chunk_document  # noqa: E402
from .retrieve import Hit, QueryError, Retriever  # noqa: E402

__all__ = ["Settings", "Index", "IndexCorrupt", "IndexMismatch", "IndexMissing", "build_index", "load_index",
           "open_index", "Document", "load_corpus", "Chunk", "chunk_document", "Hit", "QueryError", "Retriever"]
