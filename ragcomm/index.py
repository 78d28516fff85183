"""Build, save and load the index folder: chunks, vectors, BM25, and a manifest.

    index/manifest.json    format, versions, model id/dim/max length, chunking, BM25, hashes
    index/documents.jsonl  one line per document: doc_id, title, source, metadata
    index/chunks.jsonl     one line per chunk: chunk_id, doc_id, text, start, end, section
    index/vectors.npy      float32 (chunks x dim), unit rows, in chunk order
    index/dense.faiss      only for an HNSW index (a flat one is rebuilt from vectors.npy)
    index/bm25/            the lexical index (bm25s files, or parameters for rank-bm25)

A folder is written beside the target and swapped in whole, so an interrupted build
leaves the previous index as it was. On load the manifest is checked against what is
asked for (model, dimension, format) and against the files (checksums, counts).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .chunking import Chunk, chunk_document
from .config import TOKENIZER_ENCODING, Settings
from .dense import Dense, build_dense, load_dense
from .ingest import Document, corpus_files, load_corpus
from .lexical import Lexical, build_lexical, load_lexical

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class IndexError_(Exception):
    """Base for index problems that users can act on; the message says what to do."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_hashes(corpus_dir: Path) -> dict:
    corpus_dir = Path(corpus_dir)
    return {str(p.relative_to(corpus_dir)).replace("\\", "/"): file_hash(p) for p in corpus_files(corpus_dir)}


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_text(title: str, section: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its title and section, then its text."""
    head = title if not section or section == title else f"{title} | {section}" if title else section
    return f"{head}\n{text}" if head else text


@dataclass
class Index:
    manifest: dict
    documents: dict  # doc_id -> {"title", "source", "metadata"}
    chunks: list  # [Chunk]
    vectors: np.ndarray
    lexical: Lexical
    dense: Dense
    folder: Path | None = None
    stale: list = field(default_factory=list)  # corpus files changed since the build

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    def chunk_text_for_index(self, i: int) -> str:
        c = self.chunks[i]
        return embed_text(self.documents[c.doc_id]["title"], c.section, c.text)


# ---------------------------------------------------------------- build

def chunk_corpus(docs: list[Document], settings: Settings, fits_model=None) -> list[Chunk]:
    """Chunks of every document; with `fits_model`, each chunk's embedded text fits the model."""
    chunks = []
    for doc in docs:
        prefix = (lambda section, title=doc.title: embed_text(title, section, ""))
        chunks.extend(chunk_document(doc, settings.chunk_size, settings.chunk_overlap, fits_model, prefix))
    return chunks


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


def build_index(settings: Settings | None = None, embedder=None, log=print, progress: bool = True,
                save: bool = True) -> Index:
    """Read the corpus, chunk, embed, index, and (by default) save to settings.index_dir.
    Chunks whose text is unchanged since the index already there keep their vectors."""
    settings = settings or Settings()
    if save:
        with build_lock(settings.index_dir):
            remove_leftovers(settings.index_dir)
            return _build_index(settings, embedder, log, progress, save)
    return _build_index(settings, embedder, log, progress, save)


def _build_index(settings: Settings, embedder, log, progress: bool, save: bool) -> Index:
    t0 = time.perf_counter()
    docs, problems = load_corpus(settings.corpus_dir)
    for problem in problems:
        log(f"warning: {problem}")
    if not docs:
        raise IndexMissing(f"no readable documents in {settings.corpus_dir}")
    ingest_seconds = time.perf_counter() - t0
    reuse = previous_vectors(settings.index_dir, embedder.model_id if embedder is not None
                             else _canonical(settings.model),
                             getattr(embedder, "backend", "torch") if embedder is not None
                             else settings.embed_backend) if save else {}
    index = build_from_documents(docs, settings, embedder=embedder, log=log, progress=progress, reuse=reuse)
    manifest = index.manifest
    manifest["corpus"] = {"dir": str(Path(settings.corpus_dir).resolve()), "files": corpus_hashes(settings.corpus_dir),
                          "skipped": [{"path": p.path, "reason": p.message} for p in problems]}
    manifest["counts"] = {"files": len({d.source for d in docs}), **manifest["counts"]}
    manifest["build_seconds"] = round(time.perf_counter() - t0, 3)
    manifest["timings"] = {"ingest": round(ingest_seconds, 3), **manifest["timings"]}
    # Keep the manifest's key order stable for readers: corpus and counts before the build details.
    order = ["format", "ragcomm_version", "model", "chunking", "bm25", "dense", "corpus", "counts", "built_at",
             "build_seconds", "timings"]
    index.manifest = {k: manifest[k] for k in order if k in manifest}
    if save:
        save_index(index, settings.index_dir)
    return index


def _canonical(model: str) -> str:
    from .embed import canonical_model_id

    return canonical_model_id(model)


def previous_vectors(folder: Path, model_id: str, backend: str = "torch") -> dict:
    """Vectors of the index already in `folder`, by embedded-text hash, when it was built
    with the same model and backend and is intact; else nothing (everything is embedded afresh)."""
    try:
        old = load_index(folder)
    except IndexError_:
        return {}
    if old.model_id != model_id or old.manifest["model"].get("backend", "torch") != backend:
        return {}
    return {text_key(old.chunk_text_for_index(i)): old.vectors[i] for i in range(len(old.chunks))}


def build_from_documents(docs: list[Document], settings: Settings, embedder=None, log=print,
                         progress: bool = False, chunks: list[Chunk] | None = None,
                         reuse: dict | None = None) -> Index:
    """An in-memory index of documents (not saved): chunked with `settings` unless `chunks`
    are given (the evaluator passes one chunk per document to embed documents whole)."""
    timings = {}
    t0 = time.perf_counter()
    if embedder is None:
        from .embed import get_embedder

        embedder = get_embedder(settings.model, settings.embed_backend)
    if chunks is None:
        chunks = chunk_corpus(docs, settings, embedder.fits)
        chunking = {"tokenizer": TOKENIZER_ENCODING, "size": settings.chunk_size, "overlap": settings.chunk_overlap,
                    "embedded_text": "title | section + newline + text"}
    else:
        chunking = {"given": True, "embedded_text": "title | section + newline + text"}
    timings["chunking"] = time.perf_counter() - t0
    documents = {d.doc_id: {"title": d.title, "source": d.source, "metadata": d.metadata} for d in docs}
    texts = [embed_text(documents[c.doc_id]["title"], c.section, c.text) for c in chunks]

    t = time.perf_counter()
    # Content-hash reuse: a chunk whose embedded text is unchanged keeps its vector.
    reuse = reuse or {}
    todo = [i for i, text in enumerate(texts) if text_key(text) not in reuse]
    log(f"embedding {len(todo)} chunks with {embedder.model_id}"
        + (f" ({len(texts) - len(todo)} unchanged, reused)" if len(todo) < len(texts) else "") + " ...")
    fresh = embedder.encode([texts[i] for i in todo], batch_size=settings.batch_size, progress=progress)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    done = set(todo)
    for row, i in enumerate(todo):
        vectors[i] = fresh[row]
    for i, text in enumerate(texts):
        if i not in done:
            vectors[i] = reuse[text_key(text)]
    timings["embedding"] = time.perf_counter() - t

    t = time.perf_counter()
    lexical = build_lexical(texts, settings.bm25_backend, settings.bm25_analyzer, settings.bm25_k1, settings.bm25_b)
    dense = build_dense(vectors, settings.ann_threshold, settings.hnsw_m, settings.hnsw_ef_search,
                        ann_kind=settings.ann_kind, nprobe=settings.ivf_nprobe)
    timings["indexing"] = time.perf_counter() - t

    manifest = {
        "format": FORMAT_VERSION,
        "ragcomm_version": __version__,
        "model": {"id": embedder.model_id, "dim": int(embedder.dim), "max_seq_length": embedder.max_seq_length,
                  "backend": getattr(embedder, "backend", "torch")},
        "chunking": chunking,
        "bm25": lexical.params,
        "dense": {"kind": dense.kind, "ann_threshold": settings.ann_threshold, "nprobe": settings.ivf_nprobe,
                  "hnsw_m": settings.hnsw_m,
                  "ef_search": settings.hnsw_ef_search},
        "counts": {"documents": len(docs), "chunks": len(chunks), "embedded": len(todo),
                   "reused": len(texts) - len(todo)},
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    return Index(manifest, documents, chunks, vectors, lexical, dense)


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
    if index.dense.kind != "flat":
        index.dense.save(tmp / "dense.faiss")
    index.lexical.save(tmp / "bm25")
    manifest = dict(index.manifest)
    manifest["files"] = {str(p.relative_to(tmp)): file_hash(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    for p in tmp.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    return manifest


# ---------------------------------------------------------------- load

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
    from .embed import canonical_model_id

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
               verify: bool = True, ef_search: int | None = None) -> Index:
    """Load an index folder; a missing, broken or mismatched index raises a clear error."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_compatible(manifest, model)
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
        lexical = load_lexical(folder / "bm25",
                               lambda: [embed_text(documents[c.doc_id]["title"], c.section, c.text) for c in chunks])
        if (folder / "dense.faiss").exists():
            dense = load_dense(folder / "dense.faiss", ef_search or manifest["dense"].get("ef_search", 128),
                               manifest["dense"].get("nprobe", 32))
        else:
            dense = build_dense(vectors, ann_threshold=len(vectors) + 1)
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
    index.stale = stale_files(manifest, corpus_dir)
    return index


def settings_match(manifest: dict, settings: Settings) -> list[str]:
    """Build settings that differ between an index and what is asked for now."""
    from .embed import BACKENDS, canonical_model_id

    # An index embedded by a custom embedder object (a test's fake) has no backend to compare.
    backend = manifest["model"].get("backend", "torch")
    wanted = {
        "model": canonical_model_id(settings.model),
        "embedding backend": settings.embed_backend if backend in BACKENDS else backend,
        "chunk size": settings.chunk_size, "chunk overlap": settings.chunk_overlap,
        "BM25 backend": settings.bm25_backend, "BM25 analyzer": settings.bm25_analyzer,
        "BM25 k1": settings.bm25_k1, "BM25 b": settings.bm25_b,
    }
    built = {
        "model": manifest["model"]["id"], "embedding backend": backend,
        "chunk size": manifest["chunking"]["size"], "chunk overlap": manifest["chunking"]["overlap"],
        "BM25 backend": manifest["bm25"]["backend"], "BM25 analyzer": manifest["bm25"]["analyzer"],
        "BM25 k1": manifest["bm25"]["k1"], "BM25 b": manifest["bm25"]["b"],
    }
    return [f"{k}: built {built[k]!r}, asked {wanted[k]!r}" for k in wanted if wanted[k] != built[k]]


def open_index(settings: Settings | None = None, build: bool = True, rebuild: bool = False,
               log=print, embedder=None) -> Index:
    """The index for these settings: loaded if present and current, else (re)built."""
    settings = settings or Settings()
    folder = Path(settings.index_dir)
    if not rebuild:
        try:
            index = load_index(folder, corpus_dir=settings.corpus_dir)
            differences = settings_match(index.manifest, settings)
            if not index.stale and not differences:
                return index
            reason = (f"corpus changed: {', '.join(index.stale)}" if index.stale
                      else "settings changed: " + "; ".join(differences))
            if not build:
                raise IndexMismatch(f"the index in {folder} is out of date ({reason}): run `ragcomm index`")
            log(f"rebuilding the index ({reason})")
        except IndexMissing:
            if not build:
                raise
            log(f"no index in {folder}: building it")
        except (IndexCorrupt, IndexMismatch):
            if not build:
                raise
            log(f"the index in {folder} is unusable: rebuilding it")
            print(f"warning: {sys.exc_info()[1]}", file=sys.stderr)
    return build_index(settings, embedder=embedder, log=log)
