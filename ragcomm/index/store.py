"""The index folder: save, load, verify; the manifest; one writer at a time.

    index/manifest.json    format, versions, model id/dim/max length/backend, chunking,
                           BM25 and vector backends, corpus file hashes, index file hashes
    index/documents.jsonl  one line per document: doc_id, title, source, metadata, text, sections, pages
    index/chunks.jsonl     one line per chunk: chunk_id, doc_id, text, start, end, section
    index/vectors.npy      float32 (chunks x dim), unit rows, in chunk order
    index/dense.faiss      only for an approximate FAISS index (a flat one is rebuilt from vectors.npy)
    index/bm25/            the lexical index (bm25s files, or parameters for rank-bm25)
    index/sentence_vectors.npy, sentence_chunks.npy
                           optional (manifest "sentences"): a vector per sentence of each chunk
                           and its chunk's position, for best-sentence dense scoring

A folder is written beside the target and swapped in whole (an atomic exchange where the
system has one), so an interrupted build leaves the previous index as it was, and a reader
sees one whole index, the old or the new. On load every manifest field and every line of
the files is checked for shape (any damage is one IndexCorrupt naming the file and saying
`ragcomm index --rebuild`), then against what is asked for (model, dimension, format,
backend) and against the files (checksums, counts). Each save gets the next `generation`.

Writers (build, add, remove) take one lock and journal what they do (writers.py); readers
never need it. The manifest's shape is schema.py's, the errors errors.py's.

    index/../.index.generation  the last generation saved
"""
from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..backends import BackendUnavailable, LexicalBackend, VectorBackend, load_lexical, vector_class
from ..chunking import SENTENCE_SPLITTER, embed_text
from ..config import Settings
from ..durable import (exchange, fsync_dir, move_durably, pause_point, remove_path, sha256_file, write_atomic,
                       write_error)
from ..ingest import corpus_files
from ..types import Chunk
from .errors import REBUILD, IndexBusy, IndexCorrupt, IndexError_, IndexMismatch, IndexMissing, _warn
from .schema import (CHUNK_SHAPE, DOCUMENT_SHAPE, FORMAT_VERSION, LEXICAL_FOLDER, LEXICAL_SHAPE, MANIFEST_SHAPE,
                     REQUIRED_FILES, check_manifest, safe_relative, shape_problem)
from .writers import (begin_operation, build_lock, describe, end_operation, holds_writer_lock, pending_operation,
                      recover_operation, remove_leftovers, sibling, undo_operation, writer_lock)

MANIFEST = "manifest.json"
LOAD_PATIENCE_SECONDS = 10.0  # how long a reader retries while writers keep swapping the folder
SENTENCE_VECTORS, SENTENCE_CHUNKS = "sentence_vectors.npy", "sentence_chunks.npy"
# (errors.py, schema.py and writers.py were split out of this module; their names stay importable from here)
__all__ = ["REBUILD", "IndexBusy", "IndexCorrupt", "IndexError_", "IndexMismatch", "IndexMissing", "CHUNK_SHAPE",
           "DOCUMENT_SHAPE", "FORMAT_VERSION", "LEXICAL_FOLDER", "LEXICAL_SHAPE", "MANIFEST_SHAPE", "REQUIRED_FILES",
           "check_manifest", "safe_relative", "shape_problem", "begin_operation", "build_lock", "describe",
           "end_operation", "holds_writer_lock", "pending_operation", "recover_operation", "remove_leftovers",
           "sibling", "undo_operation", "writer_lock"]


# ---------------------------------------------------------------- saving: a whole folder, swapped in

def file_hash(path: Path) -> str:
    return sha256_file(path)


def corpus_hashes(corpus_dir: Path) -> dict:
    corpus_dir = Path(corpus_dir)
    return {str(p.relative_to(corpus_dir)).replace("\\", "/"): file_hash(p) for p in corpus_files(corpus_dir)}


def embed_backend(manifest: dict) -> str:
    """The embedding backend an index was built with (indexes from before it was recorded: torch)."""
    return manifest["model"].get("backend", "torch")


def vector_backend(manifest: dict) -> str:
    """The vector backend an index was built with (indexes from before it was recorded: faiss)."""
    return manifest["dense"].get("backend", "faiss")


def as_built(settings: Settings) -> Settings:
    """Settings whose empty vector backend (and Milvus location) is the one the index in
    settings.index_dir was built with, so that `ragcomm index`, `add` and the app keep it."""
    try:
        manifest = read_manifest(settings.index_dir)
    except IndexError_:
        return settings.replace(vector_backend=settings.vector_backend or "faiss")
    built = vector_backend(manifest)
    backend = settings.vector_backend or built
    if backend != "milvus" or built != "milvus":
        return settings.replace(vector_backend=backend)
    from ..backends.milvus import resolve_uri

    dense = manifest["dense"]
    return settings.replace(vector_backend=backend, milvus_collection=settings.milvus_collection or dense["collection"],
                            milvus_uri=settings.milvus_uri or resolve_uri(dense["uri"], settings.index_dir))


def check_backend(manifest: dict, backend: str | None, folder: Path) -> None:
    """Raise IndexMismatch when the index was built with another vector backend."""
    built = vector_backend(manifest)
    if backend is not None and backend != built:
        raise IndexMismatch(f"the index in {folder} was built with the '{built}' vector backend, not '{backend}': "
                            f"run `ragcomm index --rebuild --backend {backend}`, or open it with '{built}'")


@dataclass
class Index:
    manifest: dict
    documents: dict  # doc_id -> {"title", "source", "metadata"}
    chunks: list  # [Chunk]
    vectors: np.ndarray
    lexical: LexicalBackend
    dense: VectorBackend
    folder: Path | None = None
    stale: list = field(default_factory=list)  # corpus files changed since the build
    sentence_vectors: np.ndarray | None = None  # optional: (sentences x dim), chunk order
    sentence_chunks: np.ndarray | None = None  # the chunk position of each sentence (ascending)

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    @property
    def embed_backend(self) -> str:
        """The embedding backend that made the vectors: queries must use the same one."""
        return embed_backend(self.manifest)

    @property
    def generation(self) -> int:
        """Which save of the index folder this is (1, 2, ...; 0 before it was recorded or unsaved)."""
        return int(self.manifest.get("generation", 0))

    @property
    def info(self) -> dict:
        """Which index this is, for answers and status lines: generation, build time, sizes."""
        return {"generation": self.generation, "built_at": self.manifest.get("built_at"),
                "documents": len(self.documents), "chunks": len(self.chunks)}

    def chunk_text_for_index(self, i: int) -> str:
        c = self.chunks[i]
        return embed_text(self.documents[c.doc_id]["title"], c.section, c.text)


def next_generation(folder: Path) -> int:
    """One more than any generation saved to this folder, even when the index there is broken."""
    seen = [0]
    for path in (Path(folder) / MANIFEST, sibling(folder, "generation")):
        try:
            value = json.loads(path.read_text())
            value = value.get("generation") if isinstance(value, dict) else value
            if isinstance(value, int) and not isinstance(value, bool):
                seen.append(value)
        except (OSError, ValueError):
            pass
    return max(seen) + 1


def save_index(index: Index, folder: Path) -> None:
    """Write to a sibling folder, load it back, then swap it in: readers never see a
    half-written index, and an index that does not load is never put in place (IndexCorrupt;
    the index there stays as it was). Takes the writer lock (re-entrant: a build that holds
    it already keeps it)."""
    folder = Path(folder).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(folder):
        recover_swap(folder)
        tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
        remove_path(tmp)
        tmp.mkdir()
        try:
            generation = next_generation(folder)
            manifest = _write_files({**index.manifest, "generation": generation}, index, tmp)
            try:
                _load_once(tmp, None, False, None, None)
            except IndexError_ as exc:
                raise IndexCorrupt(f"the new index was not saved, as it does not load back "
                                   f"({str(exc).replace(': ' + REBUILD, '')}); {folder} is kept as it was") from None
        except OSError as exc:
            remove_path(tmp)
            raise write_error(exc, tmp, f"the index in {folder} is kept as it was") from None
        except BaseException:
            remove_path(tmp)
            raise
        pause_point("save-written")
        swap_in(tmp, folder)
        write_atomic(sibling(folder, "generation"), str(generation))
    index.manifest, index.folder = manifest, folder


def swap_in(tmp: Path, folder: Path) -> None:
    """Put the finished folder `tmp` at `folder`. With an atomic exchange there is no moment
    without an index; otherwise two renames, and `recover_swap` finishes them if killed between."""
    if not folder.exists() and not folder.is_symlink():
        os.rename(tmp, folder)
    elif exchange(tmp, folder):
        pause_point("save-exchanged")
        remove_path(tmp)  # the previous index, now under the temporary name
    else:
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        os.rename(folder, old)
        pause_point("save-between-renames")
        os.rename(tmp, folder)
        remove_path(old)
    fsync_dir(folder.parent)


def recover_swap(folder: Path, log=_warn) -> None:
    """A writer killed between the two renames of `swap_in` left no index but a finished new
    one (`.index.tmp-PID`, complete before the first rename) and the previous one
    (`.index.old-PID`): put the new one in place. Then clear what killed builds left."""
    folder = Path(folder).resolve()
    if not folder.exists() and not folder.is_symlink():
        for old in sorted(folder.parent.glob(f".{folder.name}.old-*")):
            new = folder.parent / f".{folder.name}.tmp-{old.name.rsplit('-', 1)[1]}"
            if (new / MANIFEST).is_file():
                move_durably(new, folder)
                log(f"an interrupted index swap was completed: {folder} is the index it had finished")
            else:
                move_durably(old, folder)
                log(f"an interrupted index swap was rolled back: {folder} is the previous index")
            break
    remove_leftovers(folder)


def _write_files(manifest: dict, index: Index, tmp: Path) -> dict:
    with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
        for doc_id, d in index.documents.items():
            fh.write(json.dumps({"doc_id": doc_id, **d}, ensure_ascii=False) + "\n")
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c in index.chunks:
            fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    np.save(tmp / "vectors.npy", index.vectors)
    if index.sentence_vectors is not None:
        np.save(tmp / SENTENCE_VECTORS, np.asarray(index.sentence_vectors, dtype=np.float32))
        np.save(tmp / SENTENCE_CHUNKS, np.asarray(index.sentence_chunks, dtype=np.int64))
    index.dense.save(tmp)
    index.lexical.save(tmp / LEXICAL_FOLDER)
    manifest = dict(manifest)
    manifest["files"] = {p.relative_to(tmp).as_posix(): file_hash(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    for p in [*tmp.rglob("*"), tmp]:
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        else:
            fsync_dir(p)
    return manifest



def read_manifest(folder: Path) -> dict:
    folder = Path(folder)
    path = folder / MANIFEST
    if folder.exists() and not folder.is_dir():
        raise IndexCorrupt(f"{folder} is a file, not an index folder: {REBUILD}")
    if not path.exists() and not path.is_symlink():
        if not folder.exists() and any(folder.resolve().parent.glob(f".{folder.resolve().name}.old-*")):
            raise IndexMissing(f"no index in {folder}: a swap of index folders was interrupted; "
                               "`ragcomm index` finishes it")
        raise IndexMissing(f"no index in {folder}: run `ragcomm index` to build it")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:  # not JSON, not UTF-8, a folder, unreadable, a dangling link
        raise IndexCorrupt(f"{path} cannot be read ({type(exc).__name__}: {exc}): {REBUILD}") from exc
    return check_manifest(manifest, path)


def check_compatible(manifest: dict, model: str | None = None, dim: int | None = None) -> None:
    """Raise IndexMismatch when the index was built for another model or dimension."""
    from ..embed import canonical_model_id

    built = manifest["model"]
    if model is not None and canonical_model_id(model) != built["id"]:
        raise IndexMismatch(f"the index was built with model '{built['id']}', not '{canonical_model_id(model)}': "
                            f"run `ragcomm index --rebuild --model {model}` or ask for '{built['id']}'")
    if dim is not None and int(dim) != int(built["dim"]):
        raise IndexMismatch(f"the index holds {built['dim']}-dimensional vectors, the model gives {dim}: "
                            "run `ragcomm index --rebuild`")


def verify_files(folder: Path, manifest: dict) -> None:
    for name, digest in manifest.get("files", {}).items():
        path = Path(folder) / name
        if not path.exists():
            raise IndexCorrupt(f"index file {path} is missing: {REBUILD}")
        if not path.is_file():
            raise IndexCorrupt(f"index file {path} is not a file: {REBUILD}")
        try:
            same = file_hash(path) == digest
        except OSError as exc:
            raise IndexCorrupt(f"index file {path} cannot be read ({exc}): {REBUILD}") from exc
        if not same:
            raise IndexCorrupt(f"index file {path} does not match its checksum in the manifest "
                               f"(truncated, corrupted or edited): {REBUILD}")


def stale_files(manifest: dict, corpus_dir: Path | None) -> list[str]:
    """Corpus files added, changed or removed since the index was built."""
    if corpus_dir is None or not Path(corpus_dir).is_dir():
        return []
    now = corpus_hashes(corpus_dir)
    then = manifest["corpus"]["files"]
    return sorted(f for f in set(now) | set(then) if now.get(f) != then.get(f))


# ---------------------------------------------------------------- loading

@contextmanager
def reading(path: Path):
    """Any failure while reading one index file becomes IndexCorrupt naming that file."""
    try:
        yield
    except (IndexError_, BackendUnavailable):
        raise
    except Exception as exc:
        raise IndexCorrupt(f"index file {path} cannot be read ({type(exc).__name__}: {str(exc)[:200]}): "
                           f"{REBUILD}") from exc


def read_jsonl(path: Path, shape: dict) -> list[dict]:
    """Rows of a JSONL index file, each checked against `shape`."""
    rows = []
    with reading(path), open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            row = json.loads(line)
            problem = shape_problem(row, shape)
            if problem:
                raise IndexCorrupt(f"index file {path}, line {n}, is damaged ({problem}): {REBUILD}")
            rows.append(row)
    return rows


def indexed_documents(folder: Path) -> dict:
    """doc_id -> source of an index, as far as it can be read ({} when it cannot)."""
    path = Path(folder) / "documents.jsonl"
    try:
        return {row["doc_id"]: row["source"] for row in read_jsonl(path, DOCUMENT_SHAPE)}
    except (IndexError_, OSError):
        return {}


def folder_identity(folder: Path):
    """What changes when an index folder is swapped or its manifest rewritten (None: no folder)."""
    try:
        a, b = os.stat(folder), os.stat(Path(folder) / MANIFEST)
        return (a.st_dev, a.st_ino, b.st_ino, b.st_mtime_ns, b.st_size)
    except OSError:
        return None


# One load at a time in a process: numpy reads each .npy header with ast.literal_eval, and on
# our CPython (3.11.7) two AST builds in two threads at once can fail with "SystemError: AST
# constructor recursion depth mismatch" (the AST state is shared; cf. CPython gh-106905), which a
# load reported as a corrupt index (tests/index/test_store.py: 1 of 991 loads racing each other).
_LOADING = threading.Lock()


def load_index(folder: Path, model: str | None = None, corpus_dir: Path | None = None,
               verify: bool = True, ef_search: int | None = None, backend: str | None = None) -> Index:
    """Load an index folder; a missing, broken or mismatched index raises a clear error.
    With `backend`, an index built with another vector backend is refused. A folder swapped
    by a writer while it was being read is read again, so the result is one whole index."""
    folder = Path(folder)
    deadline = time.monotonic() + LOAD_PATIENCE_SECONDS  # a writer that keeps swapping: try for a while
    attempt = 0
    while True:
        before = folder_identity(folder)
        last = time.monotonic() >= deadline
        try:
            with _LOADING:
                index = _load_once(folder, model, verify, ef_search, backend)
        except IndexError_:
            swapping = any(folder.resolve().parent.glob(f".{folder.resolve().name}.old-*"))
            if last or (folder_identity(folder) == before and (not swapping or attempt >= 4)):
                raise  # damaged, not being replaced (a swap's leftovers get five tries, not the whole wait)
        else:
            if folder_identity(folder) == before:
                index.stale = stale_files(index.manifest, corpus_dir)
                return index
        if last:
            raise IndexCorrupt(f"the index in {folder} kept changing while it was read: try again")
        attempt += 1
        time.sleep(min(0.05 * attempt, 0.5))


def _load_once(folder: Path, model, verify: bool, ef_search, backend) -> Index:
    manifest = read_manifest(folder)
    check_compatible(manifest, model)
    check_backend(manifest, backend, folder)
    if verify:
        verify_files(folder, manifest)
    documents = {}
    for d in read_jsonl(folder / "documents.jsonl", DOCUMENT_SHAPE):
        documents[d.pop("doc_id")] = d
    rows = read_jsonl(folder / "chunks.jsonl", CHUNK_SHAPE)
    with reading(folder / "chunks.jsonl"):
        chunks = [Chunk(**row) for row in rows]
    unknown = next((c.doc_id for c in chunks if c.doc_id not in documents), None)
    if unknown is not None:
        raise IndexCorrupt(f"index file {folder / 'chunks.jsonl'} names a document, {unknown!r}, that "
                           f"{folder / 'documents.jsonl'} lacks: {REBUILD}")
    with reading(folder / "vectors.npy"):
        vectors = np.load(folder / "vectors.npy", mmap_mode=None, allow_pickle=False)
    if vectors.ndim != 2 or vectors.shape[1] != manifest["model"]["dim"] or vectors.dtype.kind != "f":
        raise IndexCorrupt(f"{folder / 'vectors.npy'} has shape {vectors.shape} ({vectors.dtype}), expected "
                           f"(n, {manifest['model']['dim']}) floats: {REBUILD}")
    lexical_params = folder / LEXICAL_FOLDER / "lexical.json"
    with reading(lexical_params):
        problem = shape_problem(json.loads(lexical_params.read_text(encoding="utf-8")), LEXICAL_SHAPE)
    if problem:
        raise IndexCorrupt(f"index file {lexical_params} is damaged ({problem}): {REBUILD}")
    with reading(folder / LEXICAL_FOLDER):
        lexical = load_lexical(folder / LEXICAL_FOLDER,
                               lambda: [embed_text(documents[c.doc_id]["title"], c.section, c.text) for c in chunks])
        lexical_size = len(lexical.scores(""))
    with reading(folder / "dense.faiss"):
        dense = vector_class(vector_backend(manifest)).load(
            folder, vectors, ef_search=ef_search or manifest["dense"].get("ef_search", 128),
            nprobe=manifest["dense"].get("nprobe", 32))
    counts = manifest["counts"]
    if not (len(chunks) == counts["chunks"] == len(vectors) == dense.size == lexical_size) \
            or len(documents) != counts["documents"]:
        raise IndexCorrupt(f"the index in {folder} is inconsistent (chunks, vectors, BM25 and manifest counts "
                           f"differ): {REBUILD}")
    index = Index(manifest, documents, chunks, vectors, lexical, dense, folder.resolve())
    if "sentences" in manifest:
        index.sentence_vectors, index.sentence_chunks = _load_sentences(folder, manifest, len(chunks))
    return index


def _load_sentences(folder: Path, manifest: dict, chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """The optional sentence vectors (memory-mapped: only the candidates' rows are read)."""
    try:
        vectors = np.load(folder / SENTENCE_VECTORS, mmap_mode="r")
        owners = np.load(folder / SENTENCE_CHUNKS)
    except Exception as exc:
        raise IndexCorrupt(f"cannot read the sentence vectors in {folder} ({type(exc).__name__}: {exc}): "
                           "run `ragcomm index --rebuild`") from exc
    count = manifest["sentences"].get("count")
    if (vectors.ndim != 2 or vectors.shape != (count, manifest["model"]["dim"]) or owners.shape != (count,)
            or (count and (owners.min() < 0 or owners.max() >= chunks or np.any(np.diff(owners) < 0)))):
        raise IndexCorrupt(f"the sentence vectors in {folder} do not match the manifest or the chunks: "
                           "run `ragcomm index --rebuild`")
    return vectors, owners


def settings_match(manifest: dict, settings: Settings) -> list[str]:
    """Build settings that differ between an index and what is asked for now."""
    from ..embed import BACKENDS, canonical_model_id

    # An index embedded by a custom embedder object (a test's fake) has no backend to compare.
    backend = embed_backend(manifest)
    wanted = {
        "model": canonical_model_id(settings.model),
        "embedding backend": settings.embed_backend if backend in BACKENDS else backend,
        "chunk size": settings.chunk_size, "chunk overlap": settings.chunk_overlap,
        "sentence splitter": SENTENCE_SPLITTER,  # chunks and sentence vectors follow the split
        "BM25 backend": settings.bm25_backend, "BM25 analyzer": settings.bm25_analyzer,
        "BM25 k1": settings.bm25_k1, "BM25 b": settings.bm25_b, "vector backend": settings.vector_backend,
    }
    built = {
        "model": manifest["model"]["id"], "embedding backend": backend,
        "chunk size": manifest["chunking"].get("size"), "chunk overlap": manifest["chunking"].get("overlap"),
        "sentence splitter": manifest["chunking"].get("sentences"),
        "BM25 backend": manifest["bm25"]["backend"], "BM25 analyzer": manifest["bm25"]["analyzer"],
        "BM25 k1": manifest["bm25"]["k1"], "BM25 b": manifest["bm25"]["b"], "vector backend": vector_backend(manifest),
    }
    # No vector backend asked: the one built. Milvus serves BM25 from its collection too.
    wanted["vector backend"] = settings.vector_backend or built["vector backend"]
    if wanted["vector backend"] == built["vector backend"] == "milvus":
        from ..backends.milvus import location, resolve_uri

        wanted["BM25 backend"] = "milvus"
        wanted["Milvus location"] = location(as_built(settings))
        built["Milvus location"] = (resolve_uri(manifest["dense"]["uri"], settings.index_dir),
                                    manifest["dense"]["collection"])
        wanted["Milvus analyzer"], built["Milvus analyzer"] = settings.milvus_analyzer, \
            manifest["bm25"].get("milvus_analyzer")
    if settings.dense_sentences != "off":  # wanted and missing (extra sentence vectors do no harm)
        wanted["sentence vectors"], built["sentence vectors"] = True, "sentences" in manifest
    return [f"{k}: built {built[k]!r}, asked {wanted[k]!r}" for k in wanted if wanted[k] != built[k]]
