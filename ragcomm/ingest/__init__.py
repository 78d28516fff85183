"""Corpus files -> cleaned, citable documents (one per record).

    readers/    one reader per file format: path -> raw text, within one budget (readers/budget.py)
    worker.py   reading in a worker process with limits, stopped when over the budget
    clean.py    furniture removed, lines reflowed, headings found, references moved out
    records.py  a result listing split into one document per abstract, with metadata
    ids.py      document ids unique whatever the file names
    corpus.py   the corpus folder: load every file, add and remove files safely
"""
from ..types import Document
from .clean import Cleaned, clean_text, reflow
from .corpus import (CorpusError, FileResult, Problem, add_files, corpus_files, load_corpus, load_file, plan_add,
                     plan_remove, remove_targets, safe_name, scan_corpus)
from .readers import MAX_FILE_BYTES, SUPPORTED, Budget, Extracted, IngestError, OverBudget, read_document, read_text
from .records import is_listing, split_records

# Bumped when reading or cleaning changes what a file becomes: an index built by another
# version reads every file again instead of reusing its stored documents.
# 2 (#23): ids unique across files (ids.py), binary text refused, reading within a budget.
# 3 (#25): titles and years from the best evidence in each document (describe.py).
INGEST_VERSION = 3

__all__ = ["INGEST_VERSION", "Document", "Cleaned", "clean_text", "reflow", "CorpusError", "Problem", "add_files",
           "corpus_files", "load_corpus", "load_file", "remove_targets", "safe_name", "FileResult", "plan_add",
           "plan_remove", "scan_corpus", "MAX_FILE_BYTES", "SUPPORTED", "IngestError", "read_text", "read_document",
           "Extracted", "is_listing", "split_records", "Budget", "OverBudget"]
