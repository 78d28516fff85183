"""The index folder: save, load, verify; the manifest; one writer at a time.

    index/manifest.json    format, versions, model id/dim/max length/backend, chunking,
                           BM25 and vector backends, corpus file hashes, index file hashes
    index/documents.jsonl  one line per document: doc_id, title, source, metadata
    index/chunks.jsonl     one line per chunk: chunk_id, doc_id, text, start, end, section
    index/vectors.npy      float32 (chunks x dim), unit rows, in chunk order
    index/dense.faiss      only for an approximate FAISS index (a flat one is rebuilt from vectors.npy)
    index/bm25/            the lexical index (bm25s files, or parameters for rank-bm25)
    index/sentence_vectors.npy, sentence_chunks.npy
                           optional (manifest "sentences"): a vector per sentence of each chunk
                           and its chunk's position, for best-sentence dense scoring

A folder is written beside the target and swapped in whole, so an interrupted build
leaves the previous index as it was. On load the manifest is checked against what is
asked for (model, dimension, format, backend) and against the files (checksums, counts).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..backends import LexicalBackend, VectorBackend, load_lexical, vector_class
from ..chunking import embed_text
from ..config import Settings
from ..ingest import corpus_files
from ..types import Chunk

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LEXICAL_FOLDER = "bm25"
SENTENCE_VECTORS, SENTENCE_CHUNKS = "sentence_vectors.npy", "sentence_chunks.npy"


class IndexError_(Exception):
    """Base for index problems that users can act on; the message says what to do."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexBusy(IndexError_):
    pass


@contextmanager
def build_lock(folder: Path):
    """One build of a given index folder at a time, across processes (an flock that the
    kernel releases when its holder dies, so a killed build never leaves it stuck)."""
    import fcntl

    folder = Path(folder).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    fh = open(folder.parent / f".{folder.name}.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip()
        fh.close()
        raise IndexBusy(f"another ragcomm process{f' (pid {holder})' if holder else ''} is building {folder}: "
                        "wait for it to finish, then try again") from None
    fh.truncate(0)
    fh.write(str(os.getpid()))
    fh.flush()
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def remove_leftovers(folder: Path) -> None:
    """Half-written folders of builds that were killed (only called under the build lock)."""
    folder = Path(folder).resolve()
    for pattern in (f".{folder.name}.tmp-*", f".{folder.name}.old-*"):
        for path in folder.parent.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_hashes(corpus_dir: Path) -> dict:
    corpus_dir = Path(corpus_dir)
    return {str(p.relative_to(corpus_dir)).replace("\\", "/"): file_hash(p) for p in corpus_files(corpus_dir)}


def embed_backend(manifest: dict) -> str:
    """The embedding backend an index was built with (indexes from before it was recorded: torch)."""
    return manifest["model"].get("backend", "torch")


def vector_backend(manifest: dict) -> str:
    """The vector backend an index was built with (indexes from before it was recorded: faiss)."""
    return manifest["dense"].get("backend", "faiss")


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

    def chunk_text_for_index(self, i: int) -> str:
        c = self.chunks[i]
        return embed_text(self.documents[c.doc_id]["title"], c.section, c.text)


def save_index(index: Index, folder: Path) -> None:
    """Write to a sibling folder, then swap it in: readers never see a half-written index."""
    folder = Path(folder).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        manifest = _write_files(index, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    index.manifest, index.folder = manifest, folder


def _write_files(index: Index, tmp: Path) -> dict:
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
    manifest = dict(index.manifest)
    manifest["files"] = {str(p.relative_to(tmp)): file_hash(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    for p in tmp.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    return manifest


def read_manifest(folder: Path) -> dict:
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise IndexMissing(f"no index in {folder}: run `ragcomm index` to build it")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{path} is not valid JSON ({exc}): run `ragcomm index --rebuild`") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(f"{path} has index format {manifest.get('format')!r}, this ragcomm reads "
                            f"{FORMAT_VERSION}: run `ragcomm index --rebuild`")
    return manifest


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
            raise IndexCorrupt(f"index file {path} is missing: run `ragcomm index --rebuild`")
        if file_hash(path) != digest:
            raise IndexCorrupt(f"index file {path} does not match its checksum in the manifest "
                               "(truncated, corrupted or edited): run `ragcomm index --rebuild`")


def stale_files(manifest: dict, corpus_dir: Path | None) -> list[str]:
    """Corpus files added, changed or removed since the index was built."""
    if corpus_dir is None or not Path(corpus_dir).is_dir():
        return []
    now = corpus_hashes(corpus_dir)
    then = manifest["corpus"]["files"]
    return sorted(f for f in set(now) | set(then) if now.get(f) != then.get(f))


def load_index(folder: Path, model: str | None = None, corpus_dir: Path | None = None,
               verify: bool = True, ef_search: int | None = None, backend: str | None = None) -> Index:
    """Load an index folder; a missing, broken or mismatched index raises a clear error.
    With `backend`, an index built with another vector backend is refused."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_compatible(manifest, model)
    check_backend(manifest, backend, folder)
    if verify:
        verify_files(folder, manifest)
    try:
        documents = {}
        with open(folder / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                documents[d.pop("doc_id")] = d
        with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
            chunks = [Chunk(**json.loads(line)) for line in fh]
        vectors = np.load(folder / "vectors.npy", mmap_mode=None)
        lexical = load_lexical(folder / LEXICAL_FOLDER,
                               lambda: [embed_text(documents[c.doc_id]["title"], c.section, c.text) for c in chunks])
        dense = vector_class(vector_backend(manifest)).load(
            folder, vectors, ef_search=ef_search or manifest["dense"].get("ef_search", 128),
            nprobe=manifest["dense"].get("nprobe", 32))
    except IndexError_:
        raise
    except Exception as exc:
        raise IndexCorrupt(f"cannot read the index in {folder} ({type(exc).__name__}: {exc}): "
                           "run `ragcomm index --rebuild`") from exc
    counts = manifest["counts"]
    if not (len(chunks) == counts["chunks"] == len(vectors) == dense.size) or len(documents) != counts["documents"]:
        raise IndexCorrupt(f"the index in {folder} is inconsistent (chunks, vectors and manifest counts "
                           "differ): run `ragcomm index --rebuild`")
    if vectors.ndim != 2 or vectors.shape[1] != manifest["model"]["dim"]:
        raise IndexCorrupt(f"{folder / 'vectors.npy'} has shape {vectors.shape}, expected "
                           f"(n, {manifest['model']['dim']}): run `ragcomm index --rebuild`")
    index = Index(manifest, documents, chunks, vectors, lexical, dense, folder.resolve())
    if "sentences" in manifest:
        index.sentence_vectors, index.sentence_chunks = _load_sentences(folder, manifest, len(chunks))
    index.stale = stale_files(manifest, corpus_dir)
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
        "BM25 backend": settings.bm25_backend, "BM25 analyzer": settings.bm25_analyzer,
        "BM25 k1": settings.bm25_k1, "BM25 b": settings.bm25_b, "vector backend": settings.vector_backend,
    }
    built = {
        "model": manifest["model"]["id"], "embedding backend": backend,
        "chunk size": manifest["chunking"]["size"], "chunk overlap": manifest["chunking"]["overlap"],
        "BM25 backend": manifest["bm25"]["backend"], "BM25 analyzer": manifest["bm25"]["analyzer"],
        "BM25 k1": manifest["bm25"]["k1"], "BM25 b": manifest["bm25"]["b"], "vector backend": vector_backend(manifest),
    }
    if settings.dense_sentences != "off":  # wanted and missing (extra sentence vectors do no harm)
        wanted["sentence vectors"], built["sentence vectors"] = True, "sentences" in manifest
    return [f"{k}: built {built[k]!r}, asked {wanted[k]!r}" for k in wanted if wanted[k] != built[k]]
