"""Corpus -> chunks -> vectors -> an index (in memory, or saved to the index folder).

Files unchanged since the index already there (content hash) are not read again: their
cleaned documents are kept in documents.jsonl. Chunks whose embedded text is unchanged keep
their vectors (content hash), so an update reads only new files and embeds only new text.
"""
from __future__ import annotations

import hashlib
import sys
from collections import Counter
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from ..backends import build_lexical, build_vector
from ..chunking import SENTENCE_SPLITTER, chunk_document, embed_text, sentence_spans
from ..config import TOKENIZER_ENCODING, Settings
from ..embed import canonical_model_id
from ..ingest import INGEST_VERSION, Budget, load_corpus
from ..types import Chunk, Document
from ..version import __version__
from .store import (DOCUMENT_SHAPE, FORMAT_VERSION, Index, IndexCorrupt, IndexError_, IndexMismatch, IndexMissing, as_built,
                    corpus_hashes,
                    end_operation, load_index, read_jsonl, read_manifest, recover_operation, recover_swap, save_index,
                    settings_match, verify_files, writer_lock)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_corpus(docs: list[Document], settings: Settings, fits_model=None) -> list[Chunk]:
    """Chunks of every document; with `fits_model`, each chunk's embedded text fits the model."""
    chunks = []
    for doc in docs:
        prefix = partial(embed_text, doc.title, text="")
        chunks.extend(chunk_document(doc, settings.chunk_size, settings.chunk_overlap, fits_model, prefix))
    return chunks


def build_index(settings: Settings | None = None, embedder=None, log=print, progress: bool = True,
                save: bool = True, fresh: bool = False) -> Index:
    """Read the corpus, chunk, embed, index, and (by default) save to settings.index_dir.
    Files and chunks unchanged since the index already there keep their documents and
    vectors, unless `fresh` (`ragcomm index --rebuild`: from the corpus alone).
    Saving takes the writer lock and first completes what a killed writer left half-done
    (an index swap, an add or a remove); the saved index ends that operation."""
    settings = settings or Settings()
    if save:
        settings = as_built(settings)  # no vector backend asked: keep the index's
        with writer_lock(settings.index_dir):
            recover_swap(settings.index_dir, log)
            recover_operation(settings.index_dir, log)
            index = _build_index(settings, embedder, log, progress, save, fresh)
            end_operation(settings.index_dir)
            return index
    return _build_index(settings, embedder, log, progress, save, fresh)


def _build_index(settings: Settings, embedder, log, progress: bool, save: bool, fresh: bool = False) -> Index:
    t0 = time.perf_counter()
    reuse_old = save and not fresh
    known = previous_documents(settings.index_dir) if reuse_old else {}
    read_seconds: dict = {}
    docs, problems = load_corpus(settings.corpus_dir, known=known, log=log, timings=read_seconds,
                                 budget=Budget.from_settings(settings))
    for source, seconds in read_seconds.items():
        log(f"read {source} in {seconds:.2f} s")
    reused_files = len({d.source for d in docs} - set(read_seconds))
    if reused_files:
        log(f"{reused_files} unchanged files not read again (their documents are kept in the index)")
    for problem in problems:
        log(f"warning: {problem}")
    if not docs:
        raise IndexMissing(f"no readable documents in {settings.corpus_dir}")
    ingest_seconds = time.perf_counter() - t0
    reuse = previous_vectors(settings.index_dir, embedder.model_id if embedder is not None
                             else canonical_model_id(settings.model),
                             embedder.backend if embedder is not None else settings.embed_backend) if reuse_old else {}
    index = build_from_documents(docs, settings, embedder=embedder, log=log, progress=progress, reuse=reuse,
                                 persistent=save)
    manifest = index.manifest
    manifest["corpus"] = {"dir": str(Path(settings.corpus_dir).resolve()), "files": corpus_hashes(settings.corpus_dir),
                          "skipped": [{"path": p.path, "reason": p.message} for p in problems]}
    manifest["counts"] = {"files": len({d.source for d in docs}), **manifest["counts"]}
    manifest["build_seconds"] = round(time.perf_counter() - t0, 3)
    manifest["timings"] = {"ingest": round(ingest_seconds, 3), **manifest["timings"], "files_read": read_seconds}
    manifest["ingest"] = {"version": INGEST_VERSION, "files_reused": reused_files}
    # Keep the manifest's key order stable for readers: corpus and counts before the build details.
    order = ["format", "ragcomm_version", "generation", "model", "chunking", "bm25", "dense", "retrieval", "sentences",
             "corpus", "counts", "built_at", "build_seconds", "timings", "ingest"]
    index.manifest = {k: manifest[k] for k in order if k in manifest}
    if save:
        save_index(index, settings.index_dir)
    return index


def previous_documents(folder: Path) -> dict:
    """{source: (file hash, [Document])} of the index already in `folder`, when it was read
    by this version of ingestion; else nothing (every file is read afresh)."""
    try:
        manifest = read_manifest(folder)
        if manifest.get("ingest", {}).get("version") != INGEST_VERSION:
            return {}
        hashes = manifest["corpus"]["files"]
        verify_files(folder, manifest)  # a damaged index gives nothing to reuse
        by_source: dict = {}
        for d in read_jsonl(Path(folder) / "documents.jsonl", DOCUMENT_SHAPE):
            doc = Document(d["doc_id"], d["title"], d["text"], d["source"], d["metadata"],
                           [tuple(s) for s in d["sections"]], [tuple(p) for p in d["pages"]])
            by_source.setdefault(doc.source, []).append(doc)
    except (IndexError_, OSError, ValueError, KeyError, TypeError):
        return {}
    return {source: (hashes[source], group) for source, group in by_source.items() if source in hashes}


def previous_vectors(folder: Path, model_id: str, backend: str = "torch") -> dict:
    """Vectors of the index already in `folder`, by embedded-text hash, when it was built
    with the same model and backend and is intact; else nothing (everything is embedded afresh)."""
    try:
        old = load_index(folder)
    except IndexError_:
        return {}
    if old.model_id != model_id or old.embed_backend != backend:
        return {}
    reuse = {text_key(old.chunk_text_for_index(i)): old.vectors[i] for i in range(len(old.chunks))}
    # A sentence's row is known only by splitting its chunk again: with the splitter that cut it.
    pairs = chunk_sentences(old.chunks) if old.sentence_vectors is not None else []
    same_split = old.manifest["chunking"].get("sentences") == SENTENCE_SPLITTER
    if pairs and same_split and len(pairs) == len(old.sentence_vectors):
        reuse.update((text_key(t), old.sentence_vectors[row]) for row, (_, t) in enumerate(pairs))
    return reuse


def chunk_sentences(chunks: list[Chunk]) -> list[tuple[int, str]]:
    """(chunk position, sentence text) of every sentence of every chunk, in chunk order: what
    the index stores sentence vectors of (search/sentences.py splits the same way)."""
    return [(i, c.text[a:b]) for i, c in enumerate(chunks) for a, b in sentence_spans(c.text)]


def embed_sentences(chunks: list[Chunk], embedder, batch_size: int, reuse: dict, log=print,
                    progress: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """Sentence vectors of every chunk (content-hash reuse as for chunks): (chunk position of
    each sentence, vectors, number embedded afresh)."""
    pairs = chunk_sentences(chunks)
    texts = [t for _, t in pairs]
    todo = list(dict.fromkeys(t for t in texts if text_key(t) not in reuse))
    log(f"embedding {len(todo)} sentences for best-sentence scoring"
        + (f" ({len(texts) - len(todo)} reused)" if len(todo) < len(texts) else "") + " ...")
    fresh = dict(zip(todo, embedder.encode(todo, batch_size=batch_size, progress=progress))) if todo else {}
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, t in enumerate(texts):
        vectors[row] = fresh[t] if t in fresh else reuse[text_key(t)]
    return np.array([i for i, _ in pairs], dtype=np.int64), vectors, len(todo)


def build_from_documents(docs: list[Document], settings: Settings, embedder=None, log=print,
                         progress: bool = False, chunks: list[Chunk] | None = None,
                         reuse: dict | None = None, persistent: bool = False) -> Index:
    """An in-memory index of documents (not saved): chunked with `settings` unless `chunks`
    are given (the evaluator passes one chunk per document to embed documents whole).
    `persistent`: the index is about to be saved to settings.index_dir (a Milvus backend then
    syncs that index's collection; else it fills a temporary one)."""
    timings = {}
    t0 = time.perf_counter()
    if embedder is None:
        from ..embed import get_embedder

        embedder = get_embedder(settings.model, settings.embed_backend)
    if chunks is None:
        chunks = chunk_corpus(docs, settings, embedder.fits)
        chunking = {"tokenizer": TOKENIZER_ENCODING, "size": settings.chunk_size, "overlap": settings.chunk_overlap,
                    "embedded_text": "title | section + newline + text", "sentences": SENTENCE_SPLITTER}
    else:
        chunking = {"given": True, "embedded_text": "title | section + newline + text",
                    "sentences": SENTENCE_SPLITTER}
    timings["chunking"] = time.perf_counter() - t0
    # The cleaned text, sections and page map are kept so that a later build reuses an
    # unchanged file's documents without reading it again (and citations find their page).
    documents = {d.doc_id: {"title": d.title, "source": d.source, "metadata": d.metadata, "text": d.text,
                            "sections": d.sections, "pages": d.pages} for d in docs}
    if len(documents) != len(docs):  # ingest.unique_ids gives every document its own id
        twice = sorted(doc_id for doc_id, n in Counter(d.doc_id for d in docs).items() if n > 1)
        raise ValueError(f"two documents have the same id ({', '.join(twice[:3])}): not indexed")
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

    sentence_chunks = sentence_vectors = None
    if settings.dense_sentences != "off":  # best-sentence dense scoring (search/sentences.py)
        t = time.perf_counter()
        sentence_chunks, sentence_vectors, embedded = embed_sentences(chunks, embedder, settings.batch_size, reuse,
                                                                      log, progress)
        timings["sentence_embedding"] = time.perf_counter() - t

    t = time.perf_counter()
    if settings.vector_backend == "milvus":  # one collection serves both lists (backends/milvus.py)
        from ..backends.milvus import build_milvus

        lexical, dense = build_milvus(chunks, documents, texts, vectors, settings, persistent, log=log)
    else:
        lexical = build_lexical(texts, settings.bm25_backend, settings.bm25_analyzer, settings.bm25_k1,
                                settings.bm25_b)
        dense = build_vector(vectors, settings.vector_backend or "faiss", ann_threshold=settings.ann_threshold,
                             hnsw_m=settings.hnsw_m, ef_search=settings.hnsw_ef_search, ann_kind=settings.ann_kind,
                             nprobe=settings.ivf_nprobe)
    timings["indexing"] = time.perf_counter() - t

    manifest = {
        "format": FORMAT_VERSION,
        "ragcomm_version": __version__,
        "model": {"id": embedder.model_id, "dim": int(embedder.dim), "max_seq_length": embedder.max_seq_length,
                  "backend": embedder.backend},
        "chunking": chunking,
        "bm25": lexical.params,
        "dense": {"backend": dense.name, "kind": dense.kind, "ann_threshold": settings.ann_threshold, "nprobe": settings.ivf_nprobe,
                  "hnsw_m": settings.hnsw_m,
                  "ef_search": settings.hnsw_ef_search, **dense.params},
        "retrieval": settings.retrieval(),  # how to search it (eval/README.md); read by the Retriever
        "counts": {"documents": len(docs), "chunks": len(chunks), "embedded": len(todo),
                   "reused": len(texts) - len(todo)},
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    if sentence_vectors is not None:
        manifest["sentences"] = {"count": len(sentence_vectors), "split": SENTENCE_SPLITTER,
                                 "embedded": embedded, "reused": len(sentence_vectors) - embedded}
    return Index(manifest, documents, chunks, vectors, lexical, dense,
                 sentence_vectors=sentence_vectors, sentence_chunks=sentence_chunks)


def keep_retrieval(settings: Settings, manifest: dict) -> Settings:
    """A rebuild keeps the search settings the index recorded where `settings` has the defaults."""
    default = Settings().retrieval()
    recorded = manifest.get("retrieval") or {}
    return settings.replace(**{k: v for k, v in recorded.items()
                               if k in default and getattr(settings, k) == default[k]})


def open_index(settings: Settings | None = None, build: bool = True, rebuild: bool = False,
               log=print, embedder=None) -> Index:
    """The index for these settings: loaded if present and current, else (re)built."""
    settings = settings or Settings()
    folder = Path(settings.index_dir)
    if not rebuild:
        try:
            index = load_index(folder, corpus_dir=settings.corpus_dir)
            # the search settings it recorded count where `settings` has the defaults (an index
            # built with `--sentences off` is not rebuilt for sentence vectors at every start)
            settings = keep_retrieval(settings, index.manifest)
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
    return build_index(settings, embedder=embedder, log=log, fresh=rebuild)
