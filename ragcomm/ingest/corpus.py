"""The corpus folder: which files are in it, reading them into documents, and adding and
removing files safely.

    docs, problems = load_corpus("corpus")
    docs[0].doc_id, docs[0].title, docs[0].sections[:1]

Unreadable files are reported (a Problem each) and skipped. `add_files` sanitises names,
takes only supported types and writes nothing outside the corpus folder; `remove_targets`
moves a file to corpus/.removed/ rather than deleting it.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..types import Document
from .readers import MAX_FILE_BYTES, SUPPORTED, IngestError, read_document
from .records import split_records

@dataclass
class Problem:
    path: str
    message: str

    def __str__(self):
        return f"skipped {self.path}: {self.message}"


def corpus_files(corpus_dir: Path) -> list[Path]:
    corpus_dir = Path(corpus_dir)
    return sorted(p for p in corpus_dir.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts))


def load_file(path: Path, corpus_dir: Path, log=None) -> list[Document]:
    source = str(Path(path).relative_to(corpus_dir)).replace("\\", "/")
    extracted = read_document(path, log=log)
    if not extracted.text.strip():
        raise IngestError("empty file")
    docs = split_records(extracted.text, source, extracted)
    if not docs or not any(d.text.strip() for d in docs):
        raise IngestError("no text after cleaning")
    return docs


def load_corpus(corpus_dir, known: dict | None = None, log=None,
                timings: dict | None = None) -> tuple[list[Document], list[Problem]]:
    """All documents of a corpus folder, and the files that were skipped and why.

    known: {source: (sha256 of the file, [Document])} read before (the index keeps them):
    a file whose content hash matches is not read again. timings: filled with
    {source: seconds} for the files that were read. log: hears about long files."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    docs, problems = [], []
    for path in corpus_files(corpus_dir):
        source = str(path.relative_to(corpus_dir)).replace("\\", "/")
        if known and source in known and known[source][0] == file_sha256(path):
            docs.extend(known[source][1])
            continue
        t = time.perf_counter()
        try:
            docs.extend(load_file(path, corpus_dir, log=log))
        except IngestError as exc:
            problems.append(Problem(str(path), str(exc)))
        if timings is not None:
            timings[source] = round(time.perf_counter() - t, 3)
    seen = {}
    for d in docs:  # ids must be unique: a listing may repeat a record
        if d.doc_id in seen:
            seen[d.doc_id] += 1
            d.doc_id = f"{d.doc_id}~{seen[d.doc_id]}"
        else:
            seen[d.doc_id] = 1
    return docs, problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- adding and removing files

class CorpusError(ValueError):
    pass


def safe_name(name: str) -> str:
    """A plain file name: no folders, no leading dots, only word characters, '-', '.', ' '."""
    name = Path(name.replace("\\", "/")).name
    stem, ext = Path(name).stem, Path(name).suffix.lower()
    stem = re.sub(r"[^\w\- ]+", "_", stem).strip(" ._") or "document"
    return f"{stem[:120]}{ext}"


def inside(folder: Path, path: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def add_files(files: list[Path], corpus_dir: Path, replace: bool = False) -> list[Path]:
    """Copy readable files into the corpus; refuses unsupported, unreadable or clashing ones."""
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    plan = []
    for f in files:
        f = Path(f)
        if not f.is_file():
            raise CorpusError(f"not a file: {f}")
        if f.suffix.lower() not in SUPPORTED:
            raise CorpusError(f"{f}: unsupported file type (supported: {', '.join(sorted(SUPPORTED))})")
        if f.stat().st_size > MAX_FILE_BYTES:
            raise CorpusError(f"{f}: larger than {MAX_FILE_BYTES // 2**20} MB")
        target = corpus_dir / safe_name(f.name)
        if not inside(corpus_dir, target):
            raise CorpusError(f"{f}: refusing a name that leaves the corpus folder")
        if target.exists() and target.read_bytes() != f.read_bytes() and not replace:
            raise CorpusError(f"{target} exists with other content: use --replace or rename the file")
        try:  # read it before copying: an unreadable file is refused, not half-added
            load_file(f, f.parent)
        except IngestError as exc:
            raise CorpusError(f"{f}: cannot be read ({exc})") from exc
        plan.append((f, target))
    for f, target in plan:
        shutil.copyfile(f, target)
    return [t for _, t in plan]


def remove_targets(targets: list[str], corpus_dir: Path, index_dir: Path) -> list[tuple[Path, Path]]:
    """Move the files behind doc_ids or file names to corpus/.removed/."""
    corpus_dir = Path(corpus_dir)
    sources = {}
    docs_file = Path(index_dir) / "documents.jsonl"
    if docs_file.exists():
        for line in docs_file.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            sources[d["doc_id"]] = d["source"]
    files = []
    for target in targets:
        if target in sources:
            source = sources[target]
            siblings = [d for d, s in sources.items() if s == source]
            if len(siblings) > 1:
                raise CorpusError(f"{target} is one of {len(siblings)} records of {source}: remove the file "
                                  f"`ragcomm remove {source}`, or edit it")
            path = corpus_dir / source
        else:
            path = corpus_dir / target
            if not path.exists() and Path(target).exists() and inside(corpus_dir, Path(target)):
                path = Path(target)
        if not inside(corpus_dir, path) or not path.is_file():
            raise CorpusError(f"no document or corpus file '{target}'")
        files.append(path)
    moved = []
    trash = corpus_dir / ".removed"
    trash.mkdir(exist_ok=True)
    for path in files:
        dst = trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.name}"
        shutil.move(str(path), dst)
        moved.append((path, dst))
    return moved
