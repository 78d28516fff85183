"""Milvus: one collection per index serves both lists, dense and BM25 (optional extra `milvus`).

    ragcomm index --backend milvus                                 # Milvus Lite beside index/
    ragcomm index --backend milvus --milvus-uri http://host:19530  # a Milvus server or cluster

Each chunk is one row: its id (primary key), the chunk text, the BM25 input (`terms`) with
the sparse field Milvus' BM25 function makes from it, the vector, and the filter fields
(doc_id, parent, source, kind, year, page_start, page_end, the document's metadata as JSON).
Fusion, citations and abstention stay in ragcomm: each list is fetched from Milvus and fused
as for the files backends. index/ keeps the text, vectors and manifest (the source of truth);
a build brings the collection in line with them document by document (`sync`), so `add` and
`remove` delete and insert only the documents that changed.

BM25 analysis: by default (`milvus_analyzer="ragcomm"`) `terms` holds ragcomm's own analysed
tokens (backends/analyzer.py: stopwords, Snowball stems) joined by spaces and Milvus'
standard tokenizer only splits them again, so both backends score the same tokens on any
Milvus. With "milvus" the raw text goes through Milvus' analyzer (standard tokenizer,
lowercase, the same stopword list, English stemmer): a Milvus server stems, Milvus Lite
3.2 ignores the stemmer filter.

Credentials come from the environment, never the command line or the manifest:
RAGCOMM_MILVUS_TOKEN ('user:password' or an API token) or RAGCOMM_MILVUS_TOKEN_FILE.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from ..extras import MissingExtra, require
from .analyzer import analyze, stopwords
from .base import BackendUnavailable, LexicalBackend, VectorBackend

STATE = "milvus.json"  # in the index folder: where the collection is, and the chunk ids in order
MAX_TEXT = 65_535  # Milvus' VARCHAR limit
MAX_ID = 1024
SCHEMA_VERSION = 1
MILVUS_ANALYZERS = ("ragcomm", "milvus")
# Milvus Lite scores BM25 with each segment's own statistics (its TODO in engine/collection.py),
# and every sync that writes makes a new segment: a document added to a Lite collection would
# get the IDF of a one-document segment. Up to this many rows a changed Lite collection is
# rewritten whole (one segment, exact BM25; seconds); above it the sync stays incremental.
LITE_REWRITE_ROWS = 20_000


# ---------------------------------------------------------------- where the collection lives

def lite_path(index_dir: Path) -> Path:
    """The default Milvus Lite database: beside the index folder, not in it, because the
    folder is swapped whole on every build and the database is updated in place."""
    index_dir = Path(index_dir).resolve()
    return index_dir.parent / f"{index_dir.name}.milvus.db"


def is_lite(uri: str) -> bool:
    return not uri.startswith(("http://", "https://", "tcp://", "unix:", "grpc://"))


def default_collection(index_dir: Path) -> str:
    """ragcomm_<index folder name>, in the characters Milvus allows."""
    name = "".join(ch if ch.isalnum() else "_" for ch in Path(index_dir).resolve().name)
    return f"ragcomm_{name}"[:255]


def location(settings) -> tuple[str, str]:
    """(uri, collection) for a saved index built with these settings; a Lite path absolute."""
    uri = settings.milvus_uri or str(lite_path(settings.index_dir))
    if is_lite(uri):
        if not uri.endswith(".db"):
            raise ValueError(f"a Milvus Lite database path must end in .db: {uri}")
        uri = str(Path(uri).resolve())
        if Path(uri).is_relative_to(Path(settings.index_dir).resolve()):
            raise ValueError(f"the Milvus Lite database {uri} cannot live inside the index folder, which every "
                             f"build replaces whole: put it beside it (the default is {lite_path(settings.index_dir)})")
    return uri, settings.milvus_collection or default_collection(settings.index_dir)


def stored_uri(uri: str, index_dir: Path) -> str:
    """What the manifest records: a Lite path relative to the index folder (it moves with the
    project), a server URI as it is (credentials are never part of it)."""
    if not is_lite(uri):
        return uri.split("@")[-1] if "@" in uri.split("//", 1)[-1] else uri
    return os.path.relpath(uri, Path(index_dir).resolve())


def resolve_uri(stored: str, index_dir: Path) -> str:
    return stored if not is_lite(stored) else str((Path(index_dir) / stored).resolve())


def token() -> str:
    """Credentials from RAGCOMM_MILVUS_TOKEN, or the file RAGCOMM_MILVUS_TOKEN_FILE names."""
    if os.environ.get("RAGCOMM_MILVUS_TOKEN"):
        return os.environ["RAGCOMM_MILVUS_TOKEN"]
    path = os.environ.get("RAGCOMM_MILVUS_TOKEN_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BackendUnavailable(f"cannot read RAGCOMM_MILVUS_TOKEN_FILE {path}: {exc.strerror}") from None
    return ""


_clients: dict = {}
_clients_lock = threading.Lock()


def client(uri: str):
    """One MilvusClient per URI per process (Milvus Lite runs one in-process server per file)."""
    with _clients_lock:
        if uri in _clients:
            return _clients[uri]
        pymilvus = require("pymilvus", "milvus")
        if is_lite(uri):
            require("milvus_lite", "milvus")
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        quiet = logging.getLogger("milvus_lite")  # it logs a traceback before the error we report
        level, quiet.level = quiet.level, logging.CRITICAL
        try:
            c = pymilvus.MilvusClient(uri=uri, token="" if is_lite(uri) else token(), timeout=30)
        except Exception as exc:
            hint = (" (Milvus Lite serves one process: is another ragcomm using it? A Milvus server serves many)"
                    if is_lite(uri) else "")
            raise BackendUnavailable(f"cannot open Milvus at {uri}{hint}: {first_line(exc)}") from None
        finally:
            quiet.setLevel(level)
        _clients[uri] = c
        return c


def close_all() -> None:
    """Close every client and stop the Milvus Lite servers this process started."""
    with _clients_lock:
        uris = list(_clients)
        for uri in uris:
            try:
                _clients.pop(uri).close()
            except Exception:
                pass
    for uri in uris:
        if is_lite(uri):
            try:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)
            except Exception:
                pass


def first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# Collections of in-memory indexes (evaluation, tests): a temporary Lite database, or
# temporary collections on the server named, all dropped when the process ends.
_temporary: list = []
_temp_dir: list = []


def _temporary_location(settings) -> tuple[str, str]:
    if settings.milvus_uri and not is_lite(settings.milvus_uri):
        uri = settings.milvus_uri
    else:
        if not _temp_dir:
            _temp_dir.append(tempfile.mkdtemp(prefix="ragcomm-milvus-"))
            atexit.register(_drop_temporary)
        uri = str(Path(_temp_dir[0]) / "temporary.db")
    name = f"ragcomm_tmp_{uuid.uuid4().hex[:12]}"
    _temporary.append((uri, name))
    return uri, name


def _drop_temporary() -> None:
    for uri, name in _temporary:
        try:
            if not is_lite(uri):
                client(uri).drop_collection(name)
        except Exception:
            pass
    _temporary.clear()
    close_all()
    for d in _temp_dir:
        shutil.rmtree(d, ignore_errors=True)
    _temp_dir.clear()


# ---------------------------------------------------------------- filters

def quote(value) -> str:
    """A Milvus string literal.

    >>> quote('say "hi"')
    '"say \\\\"hi\\\\""'
    """
    return json.dumps(str(value), ensure_ascii=False)


def filter_expression(filters: dict | None) -> str:
    """Filters (search/filters.py) as a Milvus boolean expression; '' when nothing is filtered.

    >>> filter_expression({"doc_id": "report", "year_from": 2010, "kind": ["abstract"]})
    '(doc_id in ["report"] or parent in ["report"]) and year >= 2010 and kind in ["abstract"]'
    >>> filter_expression({"year_from": 2010, "year_to": 2020, "include_undated": True})
    '(year is null or year >= 2010) and (year is null or year <= 2020)'
    """
    parts = []
    undated = "year is null or " if (filters or {}).get("include_undated") else ""
    for key, value in (filters or {}).items():
        if key == "include_undated" or value in (None, "", [], ()):
            continue
        values = [value] if isinstance(value, (str, int)) else list(value)
        listed = "[" + ", ".join(quote(v) for v in values) + "]"
        if key == "doc_id":
            parts.append(f"(doc_id in {listed} or parent in {listed})")
        elif key in ("source", "kind"):
            parts.append(f"{key} in {listed}")
        elif key in ("year_from", "year_to"):  # undated documents kept when asked, as filters.py
            year = f"year {'>=' if key == 'year_from' else '<='} {int(value)}"
            parts.append(f"({undated}{year})" if undated else year)
        else:  # any other metadata field, by equality, as filters.py does
            key_text = quote(key)
            numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
            texts = "[" + ", ".join(quote(v) for v in values if not isinstance(v, int)) + "]"
            alternatives = [f"metadata[{key_text}] in {texts}"] if texts != "[]" else []
            alternatives += [f"metadata[{key_text}] == {n}" for n in numbers]
            alternatives += [f"metadata[{key_text}] == {str(v).lower()}" for v in values if isinstance(v, bool)]
            parts.append("(" + " or ".join(alternatives) + ")")
    return " and ".join(parts)


# ---------------------------------------------------------------- the collection

def row_key(text: str, fields: dict, vector: np.ndarray) -> str:
    """What decides whether a stored row is current: its text, filter fields and vector (the
    analysis and the index settings are the collection's, checked when it is opened)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    digest.update(np.ascontiguousarray(vector, dtype=np.float32).tobytes())
    return digest.hexdigest()[:32]


class MilvusCollection:
    """The collection of one index, reached through a shared client (opened on first use)."""

    def __init__(self, uri: str, name: str, ids: list[str], params: dict, stored: str | None = None,
                 docs: list[str] | None = None, keys: list[str] | None = None):
        self.uri, self.name, self.params = uri, name, params
        self.stored = stored or uri  # the URI as the manifest records it
        self.ids = ids  # chunk ids in index order: Milvus rows map back to chunk positions
        self.position = {pk: i for i, pk in enumerate(ids)}
        self.docs = docs or []  # doc_id and row key of each chunk, saved for the next sync
        self.keys = keys or []
        self._checked = False

    @property
    def client(self):
        return client(self.uri)

    # ---- building
    def description(self) -> str:
        return json.dumps({"ragcomm": SCHEMA_VERSION, **self.params}, sort_keys=True)

    def schema(self, dim: int):
        from pymilvus import DataType, Function, FunctionType

        c = self.client
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
        for name in ("doc_id", "parent", "source"):
            schema.add_field(name, DataType.VARCHAR, max_length=MAX_ID)
        schema.add_field("kind", DataType.VARCHAR, max_length=256)
        for name in ("year", "page_start", "page_end"):
            schema.add_field(name, DataType.INT64, nullable=True)
        schema.add_field("metadata", DataType.JSON)
        schema.add_field("key", DataType.VARCHAR, max_length=64)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field("terms", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True,
                         analyzer_params=self.analyzer_params())
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        return schema

    def analyzer_params(self) -> dict:
        if self.params["milvus_analyzer"] == "ragcomm":
            return {"tokenizer": "standard"}  # splits ragcomm's tokens again, nothing more
        return {"tokenizer": "standard", "filter": ["lowercase", {"type": "stop", "stop_words": sorted(stopwords())},
                                                    {"type": "stemmer", "language": "english"}]}

    def index_params(self, n: int):
        p = self.params
        ip = self.client.prepare_index_params()
        if p["kind"] == "hnsw":
            ip.add_index("vector", index_type="HNSW", metric_type="IP",
                         params={"M": p["hnsw_m"], "efConstruction": p["ef_construction"]})
        elif p["kind"] == "ivf":
            ip.add_index("vector", index_type="IVF_FLAT", metric_type="IP",
                         params={"nlist": max(16, int(4 * np.sqrt(max(n, 1))))})
        else:
            ip.add_index("vector", index_type="FLAT", metric_type="IP")
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": p["k1"], "bm25_b": p["b"]})
        return ip

    def create(self, dim: int, n: int, recreate: bool = False, log=print) -> None:
        c = self.client
        if c.has_collection(self.name):
            built = (c.describe_collection(self.name).get("properties") or {}).get("ragcomm")
            if not recreate and built == self.description():
                self.load()
                return
            log(f"Milvus: recreating collection {self.name} (built with other settings)")
            c.drop_collection(self.name)
        quiet = logging.getLogger("grpc._server")  # Lite logs a traceback for an RPC it lacks (AllocTimestamp)
        level, quiet.level = quiet.level, logging.CRITICAL
        try:
            c.create_collection(self.name, schema=self.schema(dim), index_params=self.index_params(n),
                                properties={"ragcomm": self.description()})
        finally:
            quiet.setLevel(level)
        self.load()

    def load(self) -> None:
        if "NotLoad" in str(self.client.get_load_state(self.name).get("state")):
            self.client.load_collection(self.name)

    def stored_rows(self) -> dict:
        """pk -> (doc_id, key) of every row now in the collection."""
        out = {}
        if is_lite(self.uri):  # Lite returns every row at once (and has no iterator timestamps)
            rows = self.client.query(self.name, filter="", output_fields=["doc_id", "key"])
            return {r["pk"]: (r["doc_id"], r["key"]) for r in rows}
        it = self.client.query_iterator(self.name, batch_size=8192, filter="", output_fields=["doc_id", "key"])
        try:
            while True:
                batch = it.next()
                if not batch:
                    break
                out.update({r["pk"]: (r["doc_id"], r["key"]) for r in batch})
        finally:
            it.close()
        return out

    def count(self) -> int:
        return self.client.query(self.name, filter="", output_fields=["count(*)"])[0]["count(*)"]

    def sync(self, rows: Rows, texts: list[str], previous: dict | None = None, log=print, batch: int = 2000) -> dict:
        """Make the collection hold exactly these rows, document by document: the rows of
        every document that is new, changed or gone are deleted, and its current rows inserted.
        `previous` (pk -> (doc_id, key), from the index folder) spares reading every row back,
        when the collection holds as many rows as it says. A small Milvus Lite collection is
        rewritten whole instead (LITE_REWRITE_ROWS)."""
        t = time.perf_counter()
        stored = previous if previous is not None and self.count() == len(previous) else self.stored_rows()
        wanted = {c.chunk_id: (c.doc_id, key) for c, key in zip(rows.chunks, rows.keys)}
        changed = {doc for pk, (doc, key) in wanted.items() if stored.get(pk) != (doc, key)}
        changed |= {doc for pk, (doc, _) in stored.items() if wanted.get(pk, (None,))[0] != doc}
        docs, before = {c.doc_id for c in rows.chunks}, {doc for doc, _ in stored.values()}
        gone = sorted(changed & before)
        write = changed & docs
        rewrite = is_lite(self.uri) and bool(changed) and bool(before - changed)
        if rewrite and len(rows.chunks) <= LITE_REWRITE_ROWS:
            log(f"Milvus Lite {self.name}: rewriting all {len(rows.chunks)} rows, so that BM25 statistics stay "
                "those of the whole collection (Lite keeps them per segment)")
            self.create(int(rows.vectors.shape[1]), len(rows.chunks), recreate=True, log=lambda _m: None)
            write = docs
        else:
            if rewrite:
                log(f"Milvus Lite {self.name}: the changed documents go to a new segment, whose BM25 statistics "
                    "Lite keeps apart from the others' (a Milvus server keeps them for the whole collection)")
                rewrite = False
            for a in range(0, len(gone), 200):
                self.client.delete(self.name, filter=f"doc_id in [{', '.join(quote(d) for d in gone[a:a + 200])}]")
        todo = [rows.row(i, texts[i]) for i, c in enumerate(rows.chunks) if c.doc_id in write]
        self.insert(todo, batch)
        if gone or todo:
            self.client.flush(self.name)
        report = {"documents_unchanged": len(docs - changed), "documents_inserted": len(changed & docs),
                  "rows_inserted": len(todo), "documents_deleted": len(set(gone) - docs), "rewritten": rewrite,
                  "seconds": round(time.perf_counter() - t, 3)}
        log(f"Milvus {self.name}: {report['documents_unchanged']} documents unchanged, "
            f"{report['documents_inserted']} inserted or replaced ({report['rows_inserted']} rows), "
            f"{report['documents_deleted']} deleted")
        return report

    def insert(self, rows: list[dict], batch: int = 2000) -> None:
        for a in range(0, len(rows), batch):
            self.client.insert(self.name, rows[a:a + batch])

    # ---- searching
    def check(self) -> None:
        """Once per process: the collection is there and holds as many rows as the index."""
        if self._checked:
            return
        c = self.client
        try:
            if not c.has_collection(self.name):
                raise BackendUnavailable(f"the Milvus collection '{self.name}' is not at {self.uri}: "
                                         "run `ragcomm index --rebuild` to fill it from index/")
            self.load()
            count = self.count()
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise BackendUnavailable(f"cannot use Milvus at {self.uri}: {first_line(exc)}") from None
        if count != len(self.ids):
            raise BackendUnavailable(f"the Milvus collection '{self.name}' at {self.uri} holds {count} rows, the "
                                     f"index {len(self.ids)} chunks: run `ragcomm index --rebuild` to bring it "
                                     "in line (vectors are reused, nothing is embedded again)")
        self._checked = True

    def search(self, field: str, data, k: int, filters: dict | None, mask: np.ndarray | None,
               search_params: dict) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0 or not self.ids:
            return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
        self.check()
        expr = filter_expression(filters)
        if mask is not None and not expr:  # a mask without filters: the allowed documents
            expr = self.mask_expression(mask)
        try:
            found = self.client.search(self.name, data=[data], anns_field=field, limit=int(k), filter=expr,
                                       output_fields=[], search_params=search_params)[0]
        except Exception as exc:
            raise BackendUnavailable(f"Milvus search failed ({self.uri}, {self.name}): {first_line(exc)}") from None
        ids, scores = [], []
        for hit in found:
            i = self.position.get(hit["pk"] if "pk" in hit else hit["id"])
            if i is None or (mask is not None and not mask[i]):
                continue  # a row newer than this process's index, or outside the mask
            ids.append(i)
            scores.append(abs(hit["distance"]) if field == "sparse" else hit["distance"])
        ids, scores = np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float32)
        order = np.lexsort((ids, -scores))  # ties by position, as the files backends
        return ids[order], scores[order]

    def mask_expression(self, mask: np.ndarray) -> str:
        """A mask given without its filters: the primary keys it allows (a last resort; the
        retriever passes filters, which Milvus evaluates on its scalar fields)."""
        allowed = np.flatnonzero(mask)
        if len(allowed) == len(self.ids):
            return ""
        return f"pk in [{', '.join(quote(self.ids[i]) for i in allowed)}]"


class Rows:
    """The rows of an index's chunks. Keys for every chunk are cheap (a hash of the text,
    filter fields and vector); the rows themselves (analysed terms, vector as a list) are made
    only for the documents a sync writes."""

    def __init__(self, chunks, documents: dict, vectors: np.ndarray, analyzer: str, milvus_analyzer: str):
        self.chunks, self.documents, self.vectors = chunks, documents, vectors
        self.analyzer, self.milvus_analyzer = analyzer, milvus_analyzer
        self.fields = [self.filter_fields(c) for c in chunks]
        self.keys = [row_key(c.text, f, v) for c, f, v in zip(chunks, self.fields, vectors)]

    def filter_fields(self, chunk) -> dict:
        meta = {k: v for k, v in self.documents[chunk.doc_id]["metadata"].items() if k != "references"}
        year = meta.get("year")
        return {"doc_id": chunk.doc_id, "parent": chunk.doc_id.split("/")[0],
                "source": self.documents[chunk.doc_id]["source"], "kind": str(meta.get("kind") or ""),
                "year": int(year) if isinstance(year, int) else None, "page_start": chunk.page_start,
                "page_end": chunk.page_end, "metadata": meta}

    def row(self, i: int, text: str) -> dict:
        chunk = self.chunks[i]
        terms = " ".join(analyze(text, self.analyzer)) if self.milvus_analyzer == "ragcomm" else text
        if len(chunk.text.encode("utf-8")) > MAX_TEXT or len(terms.encode("utf-8")) > MAX_TEXT:
            raise ValueError(f"chunk {chunk.chunk_id} is longer than Milvus' text limit ({MAX_TEXT} bytes): "
                             "use a smaller --chunk-size")
        return {"pk": chunk.chunk_id, **self.fields[i], "text": chunk.text, "terms": terms,
                "vector": self.vectors[i].astype(np.float32).tolist(), "key": self.keys[i]}


def build_milvus(chunks, documents: dict, texts: list[str], vectors: np.ndarray, settings, persistent: bool,
                 log=print) -> tuple["MilvusLexical", "MilvusVector"]:
    """The two backends over one collection holding these chunks. A saved index's collection
    is synced in place (only changed documents are written); an in-memory one is temporary."""
    if settings.milvus_analyzer not in MILVUS_ANALYZERS:
        raise ValueError(f"unknown Milvus analyzer '{settings.milvus_analyzer}' (choose from "
                         f"{', '.join(MILVUS_ANALYZERS)})")
    n = len(chunks)
    kind = "flat" if n <= settings.ann_threshold else settings.ann_kind
    params = {"analyzer": settings.bm25_analyzer, "milvus_analyzer": settings.milvus_analyzer,
              "k1": settings.bm25_k1, "b": settings.bm25_b, "kind": kind, "hnsw_m": settings.hnsw_m,
              "ef_construction": 80, "ef_search": settings.hnsw_ef_search, "nprobe": settings.ivf_nprobe,
              "dim": int(vectors.shape[1])}
    uri, name = location(settings) if persistent else _temporary_location(settings)
    collection = MilvusCollection(uri, name, [c.chunk_id for c in chunks], params,
                                  stored_uri(uri, settings.index_dir) if persistent else uri,
                                  docs=[c.doc_id for c in chunks])
    rows = Rows(chunks, documents, vectors, settings.bm25_analyzer, settings.milvus_analyzer)
    try:
        collection.create(int(vectors.shape[1]), n, log=log)
        if persistent:
            collection.sync(rows, texts, previous_rows(settings.index_dir, uri, name), log=log)
        else:
            collection.insert([rows.row(i, t) for i, t in enumerate(texts)])
            collection.client.flush(name)
    except (BackendUnavailable, MissingExtra, ValueError):
        raise
    except Exception as exc:
        raise BackendUnavailable(f"Milvus at {uri} failed while indexing: {first_line(exc)}") from None
    collection._checked = False
    collection.keys = rows.keys
    return MilvusLexical(collection), MilvusVector(collection)


def previous_rows(index_dir: Path, uri: str, name: str) -> dict | None:
    """pk -> (doc_id, key) of the rows the saved index put in this collection, if it did."""
    try:
        state = json.loads((Path(index_dir) / STATE).read_text())
        if resolve_uri(state["uri"], index_dir) != uri or state["collection"] != name or "keys" not in state:
            return None
        return {pk: (pk_doc, key) for pk, pk_doc, key in zip(state["ids"], state["docs"], state["keys"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_collection(folder: Path) -> MilvusCollection:
    """The collection a saved index names in its milvus.json (no connection yet)."""
    state = json.loads((Path(folder) / STATE).read_text())
    return MilvusCollection(resolve_uri(state["uri"], folder), state["collection"], state["ids"], state["params"],
                            state["uri"], state.get("docs"), state.get("keys"))


# ---------------------------------------------------------------- the two backends

class MilvusVector(VectorBackend):
    name = "milvus"

    def __init__(self, collection: MilvusCollection):
        self.collection = collection
        self.kind = collection.params["kind"]

    @classmethod
    def load(cls, folder: Path, vectors: np.ndarray | None = None, ef_search: int | None = None,
             nprobe: int | None = None) -> "MilvusVector":
        collection = open_collection(folder)
        if ef_search:
            collection.params["ef_search"] = ef_search
        return cls(collection)

    @property
    def size(self) -> int:
        return len(self.collection.ids)

    @property
    def params(self) -> dict:
        c = self.collection
        return {"uri": c.stored, "collection": c.name}

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None,
               filters: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        p = self.collection.params
        extra = {"ef": max(p["ef_search"], int(k))} if self.kind == "hnsw" else \
            {"nprobe": p["nprobe"]} if self.kind == "ivf" else {}
        query = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        return self.collection.search("vector", query, k, filters, mask, {"metric_type": "IP", "params": extra})

    def save(self, folder: Path) -> None:
        c = self.collection
        state = {"uri": c.stored, "collection": c.name, "params": c.params, "ids": c.ids, "docs": c.docs,
                 "keys": c.keys}
        (Path(folder) / STATE).write_text(json.dumps(state, ensure_ascii=False))


class MilvusLexical(LexicalBackend):
    name = "milvus"

    def __init__(self, collection: MilvusCollection):
        p = collection.params
        super().__init__(p["analyzer"], p["k1"], p["b"])
        self.collection = collection

    @property
    def params(self) -> dict:
        return {**super().params, "milvus_analyzer": self.collection.params["milvus_analyzer"]}

    @classmethod
    def load(cls, folder: Path, params: dict, texts=None) -> "MilvusLexical":
        return cls(open_collection(Path(folder).parent))

    def query_terms(self, query: str) -> str:
        if self.collection.params["milvus_analyzer"] == "ragcomm":
            return " ".join(analyze(query, self.analyzer))
        return query

    def top(self, query: str, k: int, mask: np.ndarray | None = None,
            filters: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        terms = self.query_terms(query)
        if not terms.strip():
            return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
        ids, scores = self.collection.search("sparse", terms, k, filters, mask, {"metric_type": "BM25"})
        # Milvus' BM25 has the (k1 + 1) numerator factor that bm25s' Lucene variant leaves out:
        # divided out, the scores read as the files backend's (same ranking either way).
        scores = scores / (self.k1 + 1.0)
        keep = scores > 0
        return ids[keep], scores[keep]

    def scores(self, query: str) -> np.ndarray:
        """Every chunk's BM25 score (one search over the whole collection)."""
        out = np.zeros(len(self.collection.ids), dtype=np.float32)
        ids, scores = self.top(query, len(self.collection.ids))
        out[ids] = scores
        return out

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lexical.json").write_text(json.dumps(self.params))
