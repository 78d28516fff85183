"""The corpus folder: which files are in it, reading them into documents, and adding and
removing files safely.

    docs, problems = load_corpus("corpus")
    docs[0].doc_id, docs[0].title, docs[0].sections[:1]

Unreadable files are reported (a Problem each) and skipped, and so are links to files
outside the folder. Each file is read in a worker process within a `Budget` (worker.py,
readers/budget.py); every document gets an id unique in the corpus (ids.py). `plan_add`
checks files (supported type, size, readable, a name that is safe, kept as the user wrote
it when it is) and plans their copies; `plan_remove` plans
moving files to corpus/.removed/ rather than deleting them. The plans are steps on files
(ragcomm/durable.py) that index/update.py journals, runs and indexes; `add_files` and
`remove_targets` run them directly, all or none.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..types import Document
from . import readers
from .ids import unique_ids
from .readers import SUPPORTED, Budget, IngestError
from .readers.budget import DEFAULT
from .worker import read_in_worker

LARGE_FILE_BYTES = 8 * 2**20  # files from this size get a progress line


@dataclass
class Problem:
    path: str
    message: str

    def __str__(self):
        return f"skipped {self.path}: {self.message}"


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[Problem]]:
    """The files of a corpus folder (hidden ones and those under hidden folders skipped), and
    the links that are refused: a link to a file or folder outside the corpus would put that
    file (say /etc/passwd) in the index and the answers."""
    corpus_dir = Path(corpus_dir)
    root = corpus_dir.resolve()
    files, problems = [], []
    for p in sorted(corpus_dir.rglob("*")):  # rglob does not descend into linked folders
        if any(part.startswith(".") for part in p.relative_to(corpus_dir).parts):
            continue
        if p.is_symlink() and not p.resolve().is_relative_to(root):
            what = "folder" if p.is_dir() else "file"
            problems.append(Problem(str(p), f"refused: a link to a {what} outside the corpus folder "
                                            f"({os.readlink(p)}); copy the file in with `ragcomm add` instead"))
        elif p.is_file():
            files.append(p)
    return files, problems


def corpus_files(corpus_dir: Path) -> list[Path]:
    return scan_corpus(corpus_dir)[0]


def load_file(path: Path, corpus_dir: Path, log=None, budget: Budget = DEFAULT) -> list[Document]:
    """One file's documents, read in a worker process within `budget` (worker.py); IngestError
    for a file that cannot be read or is over the budget. Their ids are the file's own until
    `unique_ids` sees the whole corpus."""
    path = Path(path)
    source = str(path.relative_to(corpus_dir)).replace("\\", "/")
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise IngestError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(sorted(SUPPORTED))})")
    size = path.stat().st_size
    if size > readers.MAX_FILE_BYTES:
        raise IngestError(f"file too large ({size} bytes; at most {readers.MAX_FILE_BYTES // 2**20} MB)")
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    if log and size >= LARGE_FILE_BYTES:
        log(f"reading {source} ({size / 2**20:.1f} MB) ...")
    return read_in_worker(path, corpus_dir, budget, log).docs


def load_corpus(corpus_dir, known: dict | None = None, log=None, timings: dict | None = None,
                budget: Budget = DEFAULT) -> tuple[list[Document], list[Problem]]:
    """All documents of a corpus folder, and the files that were skipped and why (links out of
    the corpus are refused).

    known: {source: (sha256 of the file, [Document])} read before (the index keeps them):
    a file whose content hash matches is not read again. timings: filled with
    {source: seconds} for the files that were read. log: hears about long and large files.
    budget: what reading one file may cost (a file over it is refused, a Problem)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    docs = []
    files, problems = scan_corpus(corpus_dir)
    for path in files:
        source = str(path.relative_to(corpus_dir)).replace("\\", "/")
        if known and source in known and known[source][0] == file_sha256(path):
            docs.extend(known[source][1])
            continue
        t = time.perf_counter()
        try:
            docs.extend(load_file(path, corpus_dir, log=log, budget=budget))
        except IngestError as exc:
            problems.append(Problem(str(path), str(exc)))
        if timings is not None:
            timings[source] = round(time.perf_counter() - t, 3)
    return unique_ids(docs), problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- adding and removing files

class CorpusError(ValueError):
    pass


@dataclass
class FileResult:
    """What happened to one file of an add or a remove."""
    path: str  # as the user named it
    status: str  # added, replaced, unchanged, removed, already removed, refused
    target: Path | None = None  # where it went
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "refused"

    def __str__(self):
        where = f" as {self.target}" if self.target and self.status != "refused" else ""
        return f"{self.status} {self.path}{where}" + (f": {self.reason}" if self.reason else "")


UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(name: str) -> str:
    """The file's own name when it is safe in any folder; else with unsafe characters
    (separators, control characters, reserved ones, leading dots) replaced.

    >>> safe_name("Standards V1.6 (final).pdf"), safe_name("../x.txt"), safe_name("a?b.md")
    ('Standards V1.6 (final).pdf', 'x.txt', 'a_b.md')
    """
    name = Path(name.replace("\\", "/")).name
    stem, ext = Path(name).stem, Path(name).suffix
    if not UNSAFE_CHARACTERS.search(name) and not name.startswith((".", " ")) and stem == stem.strip() \
            and stem and len(name) <= 200:
        return name
    stem = UNSAFE_CHARACTERS.sub("_", stem).strip(" ._") or "document"
    return f"{stem[:120]}{UNSAFE_CHARACTERS.sub('', ext)}"


def inside(folder: Path, path: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def place_inside(folder: Path, path: Path) -> bool:
    """Whether a name lies in a folder (a link counts where it is, not where it points)."""
    path = Path(path)
    return (path.parent.resolve() / path.name).is_relative_to(Path(folder).resolve())


def trash_name(trash: Path, name: str) -> Path:
    """A free name in corpus/.removed/ for a file taken out now."""
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    target, n = trash / base, 1
    while os.path.lexists(target):
        n += 1
        target = trash / f"{base}.{n}"
    return target


def plan_add(files: list[Path], corpus_dir: Path, replace: bool = False, log=None,
             budget: Budget = DEFAULT) -> tuple[list[dict], list[FileResult]]:
    """Check each file (type, size, name, clash, readable within `budget`) and plan the
    copies: the steps (see durable.run_step) and one result per file. Nothing is written."""
    from ..durable import sha256_file

    corpus_dir = Path(corpus_dir)
    steps, results, taken = [], [], {}
    for f in files:
        f = Path(f)
        result = FileResult(str(f), "refused")
        results.append(result)
        if not f.exists():
            result.reason = "no such file"
            continue
        if not f.is_file():
            result.reason = "a folder, not a file" if f.is_dir() else "not a regular file"
            continue
        if f.suffix.lower() not in SUPPORTED:
            result.reason = f"unsupported file type (supported: {', '.join(sorted(SUPPORTED))})"
            continue
        size = f.stat().st_size
        if size > readers.MAX_FILE_BYTES:
            result.reason = f"larger than {readers.MAX_FILE_BYTES // 2**20} MB"
            continue
        name = safe_name(f.name)
        target = corpus_dir / name
        if not place_inside(corpus_dir, target):
            result.reason = "refusing a name that leaves the corpus folder"
            continue
        if name in taken:
            result.reason = f"another file of this add, {taken[name]}, has the same name"
            continue
        if target.is_symlink() or (target.exists() and not target.is_file()):
            result.reason = f"{target} exists and is not a plain file"
            continue
        try:
            digest = sha256_file(f)
        except OSError as exc:
            result.reason = f"cannot be read ({exc.strerror or exc})"
            continue
        exists = target.exists()
        if exists and sha256_file(target) == digest:
            result.status, result.target, result.reason = "unchanged", target, "already in the corpus"
            continue
        if exists and not replace:
            result.reason = f"{target} exists with other content: use --replace or rename the file"
            continue
        try:  # read it before copying: an unreadable file is refused, not half-added
            t = time.perf_counter()
            docs = load_file(f, f.parent, log, budget)
            if log and size >= LARGE_FILE_BYTES:
                log(f"... {f.name}: {len(docs)} document(s) in {time.perf_counter() - t:.1f} s")
        except IngestError as exc:
            result.reason = f"cannot be read ({exc})"
            continue
        taken[name] = str(f)
        if exists:
            steps.append({"do": "move", "src": str(target.resolve()),
                          "dst": str(trash_name(corpus_dir.resolve() / TRASH, name))})
        steps.append({"do": "copy", "src": str(f.resolve()), "dst": str(corpus_dir.resolve() / name),
                      "sha256": digest})
        result.status, result.target = ("replaced" if exists else "added"), target
        if name != f.name:
            result.reason = f"renamed to {name}: the name had characters that are unsafe in a file name"
    return steps, results


TRASH = ".removed"


def plan_remove(targets: list[str], corpus_dir: Path,
                documents: dict | None = None) -> tuple[list[dict], list[FileResult]]:
    """Find the files behind doc_ids or corpus file names and plan moving them to
    corpus/.removed/ (kept, not deleted): the steps and one result per target.
    `documents`: doc_id -> source of the index, to resolve doc_ids."""
    corpus_dir = Path(corpus_dir)
    sources = documents or {}
    trash = corpus_dir.resolve() / TRASH
    steps, results, chosen = [], [], set()
    for target in targets:
        result = FileResult(target, "refused")
        results.append(result)
        if target in sources:
            source = sources[target]
            siblings = [d for d, s in sources.items() if s == source]
            if len(siblings) > 1:
                result.reason = (f"one of {len(siblings)} records of {source}: remove the file "
                                 f"`ragcomm remove {source}`, or edit it")
                continue
            path = corpus_dir / source
        else:
            path = corpus_dir / target
            if not os.path.lexists(path) and os.path.lexists(target) and place_inside(corpus_dir, Path(target)):
                path = Path(target)
            stems = {s for s in sources.values() if Path(s).with_suffix("").as_posix() == target}
            if not os.path.lexists(path) and len(stems) == 1:  # a listing's file, named without its extension
                path = corpus_dir / stems.pop()
        if not place_inside(corpus_dir, path) or (os.path.lexists(path) and not (path.is_file() or path.is_symlink())):
            result.reason = "no document or corpus file of that name"
            continue
        if not os.path.lexists(path):
            kept = sorted(trash.glob(f"*-{glob_escape(path.name)}")) if trash.is_dir() else []
            if kept:
                result.status, result.target = "already removed", kept[-1]
            else:
                result.reason = "no document or corpus file of that name"
            continue
        key = str(path.parent.resolve() / path.name)
        if key in chosen:
            result.status, result.reason = "unchanged", "named twice"
            continue
        chosen.add(key)
        dst = trash_name(trash, path.name)
        steps.append({"do": "move", "src": key, "dst": str(dst)})
        result.status, result.target = "removed", dst
    if steps and len(steps) >= len(corpus_files(corpus_dir)):
        for r in results:
            if r.status == "removed":
                r.status, r.target, r.reason = "refused", None, "it would leave the corpus empty"
        steps = []
    return steps, results


REMOVED_NAME = re.compile(r"^(\d{8}-\d{6})-(.+?)(\.\d+)?$")  # trash_name's: time, the file's name, a count


def removed_file(corpus_dir: Path, doc_id: str) -> dict | None:
    """The file behind a doc_id if it was taken out of the corpus (it waits in corpus/.removed/):
    {"file": its name, "removed": when (local time)}, the latest if it was removed more than
    once; None if it never was. A listing's record (file/pmid-1) is found by its file."""
    from datetime import datetime

    from .records import doc_stem

    trash = Path(corpus_dir) / TRASH
    wanted = {doc_id.rsplit("/", 1)[-1]}
    if "/" in doc_id:
        wanted.add(doc_id.rsplit("/", 1)[0].rsplit("/", 1)[-1])
    found = []
    for path in trash.iterdir() if trash.is_dir() else []:
        m = REMOVED_NAME.match(path.name)
        if m and doc_stem(m.group(2)) in wanted:
            found.append((datetime.strptime(m.group(1), "%Y%m%d-%H%M%S"), m.group(2)))
    if not found:
        return None
    when, name = max(found)
    return {"file": name, "removed": when}


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def add_files(files: list[Path], corpus_dir: Path, replace: bool = False, budget: Budget = DEFAULT) -> list[Path]:
    """Copy readable files into the corpus, all or none: CorpusError names every file refused.
    (`ragcomm add` adds the good files and reports the others: index.update.add_documents.)"""
    from ..durable import run_step

    steps, results = plan_add(files, corpus_dir, replace, budget=budget)
    refused = [r for r in results if not r.ok]
    if refused:
        raise CorpusError("; ".join(f"{r.path}: {r.reason}" for r in refused))
    Path(corpus_dir).mkdir(parents=True, exist_ok=True)
    for step in steps:
        run_step(step)
    return [r.target for r in results if r.target is not None]


def remove_targets(targets: list[str], corpus_dir: Path, index_dir: Path) -> list[tuple[Path, Path]]:
    """Move the files behind doc_ids or file names to corpus/.removed/ (all or none)."""

    from ..durable import run_step

    documents = {}
    try:
        for line in (Path(index_dir) / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            documents[row["doc_id"]] = row["source"]
    except (OSError, ValueError, TypeError, KeyError):
        pass
    steps, results = plan_remove(targets, corpus_dir, documents)
    refused = [r for r in results if not r.ok]
    if refused:
        raise CorpusError("; ".join(f"{r.path}: {r.reason}" for r in refused))
    for step in steps:
        run_step(step)
    return [(Path(s["src"]), Path(s["dst"])) for s in steps]
