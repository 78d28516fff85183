"""The index: built from the corpus (build.py), kept in a folder with a manifest (store.py),
changed safely by adding and removing files (update.py).

    index = open_index(Settings(corpus_dir="corpus", index_dir="index"))  # loads, or builds
    index.chunks[0], index.vectors.shape, index.manifest["model"]
"""
from .build import build_from_documents, build_index, chunk_corpus, open_index, previous_vectors, text_key
from .store import (FORMAT_VERSION, Index, IndexBusy, IndexCorrupt, IndexError_, IndexMismatch, IndexMissing,
                    build_lock, check_compatible, embed_backend, load_index, read_manifest, save_index,
                    settings_match, stale_files, vector_backend)
from .store import (begin_operation, describe, end_operation, pending_operation, recover_operation, undo_operation,
                    writer_lock)
from .update import add_documents, remove_documents, stage_add, stage_remove, update_index

__all__ = ["FORMAT_VERSION", "Index", "IndexBusy", "IndexCorrupt", "IndexError_", "IndexMismatch", "IndexMissing",
           "build_from_documents", "build_index", "build_lock", "check_compatible", "chunk_corpus",
           "embed_backend", "load_index", "open_index", "previous_vectors", "read_manifest", "save_index",
           "settings_match", "stale_files", "text_key", "vector_backend",
           "add_documents", "begin_operation", "describe", "end_operation", "pending_operation",
           "recover_operation", "remove_documents", "stage_add", "stage_remove", "undo_operation", "update_index",
           "writer_lock"]
