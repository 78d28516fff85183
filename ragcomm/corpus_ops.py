"""Adding and removing corpus files safely (the index is then updated incrementally).

Names are sanitised, only supported types are taken, nothing is written outside the
corpus folder, and a removed file is moved to corpus/.removed/ rather than deleted.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from .ingest import MAX_FILE_BYTES, SUPPORTED, IngestError, load_file


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
    import json

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
