"""The index folder's manifest: its shape, checked field by field on load (a damaged one is
one IndexCorrupt naming the file), and the shapes of the rows of its JSONL files."""
from __future__ import annotations

from pathlib import Path

from .errors import REBUILD, IndexCorrupt, IndexMismatch

FORMAT_VERSION = 1
LEXICAL_FOLDER = "bm25"
REQUIRED_FILES = ("documents.jsonl", "chunks.jsonl", "vectors.npy", f"{LEXICAL_FOLDER}/lexical.json")


INT, NUMBER, TEXT, OPTIONAL_INT = "a whole number", "a number", "text", "a whole number or null"
EACH = "*"  # in a shape: every key of an object of any keys
MANIFEST_SHAPE = {
    "format": INT, "ragcomm_version?": TEXT, "generation?": INT, "built_at": TEXT,
    "model": {"id": TEXT, "dim": INT, "max_seq_length?": OPTIONAL_INT, "backend?": TEXT},
    "chunking": {"size?": INT, "overlap?": INT, "sentences?": TEXT},
    "bm25": {"backend": TEXT, "analyzer": TEXT, "k1": NUMBER, "b": NUMBER},
    "dense": {"backend?": TEXT, "kind": TEXT, "ef_search?": INT, "nprobe?": INT},
    "corpus": {"files": {EACH: TEXT}, "skipped?": [{"path": TEXT, "reason": TEXT}]},
    "counts": {"documents": INT, "chunks": INT, "files?": INT},
    "files": {EACH: TEXT},
}
DOCUMENT_SHAPE = {"doc_id": TEXT, "title": TEXT, "source": TEXT, "metadata": {"year?": OPTIONAL_INT}}
CHUNK_SHAPE = {"chunk_id": TEXT, "doc_id": TEXT, "text": TEXT, "start": INT, "end": INT, "section": TEXT,
               "n_tokens": INT, "page_start?": OPTIONAL_INT, "page_end?": OPTIONAL_INT}
LEXICAL_SHAPE = {"backend": TEXT, "analyzer": TEXT, "k1": NUMBER, "b": NUMBER}


def shape_problem(value, shape, where: str = "") -> str | None:
    """What is wrong with `value` against a small shape (an object of fields, '?' for
    optional ones, '*' for any key; [shape] for a list; a type name), or None.

    >>> shape_problem({"model": {"dim": "384"}}, {"model": {"dim": INT}})
    "'model.dim' is text, not a whole number"
    >>> shape_problem([1], {"model": {}}) , shape_problem({}, {"model": {}})
    ('it is a list, not an object', "'model' is missing")
    """
    def kind(v):
        return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
            type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__)

    label = f"'{where}'" if where else "it"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{label} is {kind(value)}, not an object"
        for key, sub in shape.items():
            if key == EACH:
                for k, v in value.items():
                    problem = shape_problem(v, sub, f"{where}.{k}" if where else k)
                    if problem:
                        return problem
                continue
            name = key.rstrip("?")
            path = f"{where}.{name}" if where else name
            if name not in value:
                if key.endswith("?"):
                    continue
                return f"'{path}' is missing"
            problem = shape_problem(value[name], sub, path)
            if problem:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{label} is {kind(value)}, not a list"
        for i, item in enumerate(value):
            problem = shape_problem(item, shape[0], f"{where}[{i}]")
            if problem:
                return problem
        return None
    whole = isinstance(value, int) and not isinstance(value, bool)
    ok = {INT: whole, OPTIONAL_INT: whole or value is None, TEXT: isinstance(value, str),
          NUMBER: whole or isinstance(value, float)}[shape]
    return None if ok else f"{label} is {kind(value)}, not {shape}"


def check_manifest(manifest, path: Path) -> dict:
    """The manifest if every field has the right shape and sensible values; else IndexCorrupt
    (or IndexMismatch for another format version) naming the file."""
    problem = shape_problem(manifest, {"format": INT}) if isinstance(manifest, dict) else None
    if isinstance(manifest, dict) and problem is None and manifest["format"] != FORMAT_VERSION:
        raise IndexMismatch(f"{path} has index format {manifest['format']!r}, this ragcomm reads "
                            f"{FORMAT_VERSION}: {REBUILD}")
    problem = shape_problem(manifest, MANIFEST_SHAPE)
    if problem is None:
        if manifest["model"]["dim"] < 1 or manifest["counts"]["chunks"] < 0 or manifest["counts"]["documents"] < 0:
            problem = "a dimension or count is out of range"
        elif any(not safe_relative(name) for name in manifest["files"]):
            problem = "'files' names a path outside the index folder"
        elif any(name not in manifest["files"] for name in REQUIRED_FILES):
            problem = "'files' lacks " + ", ".join(n for n in REQUIRED_FILES if n not in manifest["files"])
    if problem:
        raise IndexCorrupt(f"{path} is damaged ({problem}): {REBUILD}")
    return manifest


def safe_relative(name: str) -> bool:
    """A plain relative path inside a folder.

    >>> safe_relative("bm25/params.json"), safe_relative("../x"), safe_relative("/etc/passwd")
    (True, False, False)
    """
    p = Path(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name
