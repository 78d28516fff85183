"""ragcomm: cited retrieval over NHS commissioning documents.

    from ragcomm import Settings, open_index, Retriever
    index = open_index(Settings(corpus_dir="corpus", index_dir="index"))  # loads, or builds
    hits = Retriever(index).search("what makes a good commissioning manager?", k=5)

The pipeline, one room per stage (docs/ARCHITECTURE.md):
ingest -> chunking -> embed -> backends -> index -> search -> answer -> serve / cli, and eval.
"""
from .version import __version__
from .config import Settings
from .types import Answer, Chunk, Citation, Document, Hit
from .ingest import load_corpus
from .chunking import chunk_document
from .index import Index, IndexCorrupt, IndexMismatch, IndexMissing, build_index, load_index, open_index
from .search import QueryError, Retriever

__all__ = ["__version__", "Settings", "Answer", "Chunk", "Citation", "Document", "Hit", "load_corpus",
           "chunk_document", "Index", "IndexCorrupt", "IndexMismatch", "IndexMissing", "build_index", "load_index",
           "open_index", "QueryError", "Retriever"]
