"""One writer at a time, and what it was doing: the lock every writer of an index folder
takes (build, add, remove, save), and the intent journal of operations on corpus files, so
that the next writer completes or rolls back what a killed one left half-done.

    index/../.index.lock        the writer lock (an flock; holds the writer's pid)
    index/../.index.journal     the operation in progress, if any (JSON)
"""
from __future__ import annotations

import json
import os
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from ..durable import fsync_dir, recover_steps, remove_path, undo_steps, write_atomic
from .errors import IndexBusy, _warn

# ---------------------------------------------------------------- one writer at a time

class _Held:
    def __init__(self):
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.fh = None


_held: dict[str, _Held] = {}
_held_guard = threading.Lock()


def sibling(folder: Path, suffix: str) -> Path:
    """A hidden file beside the index folder: `.index.lock`, `.index.journal`, ..."""
    folder = Path(folder).resolve()
    return folder.parent / f".{folder.name}.{suffix}"


@contextmanager
def writer_lock(folder: Path):
    """The one lock every writer of an index folder (build, add, remove, save) takes, across
    processes: an flock that the kernel releases when its holder dies, so a killed writer
    never leaves it stuck. Re-entrant within a thread (add holds it while it builds);
    another thread or process gets IndexBusy at once. Readers never take it."""
    import fcntl

    folder = Path(folder).resolve()
    with _held_guard:
        held = _held.setdefault(str(folder), _Held())
    if not held.thread_lock.acquire(blocking=False):
        raise IndexBusy(f"another thread of this process is building or updating {folder}: try again when it is done")
    try:
        if held.depth == 0:
            folder.parent.mkdir(parents=True, exist_ok=True)
            fh = open(sibling(folder, "lock"), "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip()
                fh.close()
                raise IndexBusy(f"another ragcomm process{f' (pid {holder})' if holder else ''} is building or "
                                f"updating {folder}: wait for it to finish, then try again") from None
            fh.truncate(0)
            fh.write(str(os.getpid()))
            fh.flush()
            held.fh = fh
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                fcntl.flock(held.fh, fcntl.LOCK_UN)
                held.fh.close()
                held.fh = None
    finally:
        held.thread_lock.release()


build_lock = writer_lock  # the name it had when only builds took it


def holds_writer_lock(folder: Path) -> bool:
    held = _held.get(str(Path(folder).resolve()))
    return bool(held and held.depth)


def remove_leftovers(folder: Path) -> None:
    """Half-written folders of builds that were killed (only called under the writer lock,
    after `recover_swap`)."""
    folder = Path(folder).resolve()
    for pattern in (f".{folder.name}.tmp-*", f".{folder.name}.old-*"):
        for path in folder.parent.glob(pattern):
            remove_path(path)


# ---------------------------------------------------------------- the intent journal

def begin_operation(folder: Path, op: str, steps: list[dict], **details) -> dict:
    """Write down an operation on files before doing it (under the writer lock): its steps
    (see durable.run_step) and details for the message if it is interrupted."""
    if not holds_writer_lock(folder):
        raise RuntimeError("begin_operation needs the writer lock")
    entry = {"op": op, "id": uuid.uuid4().hex, "pid": os.getpid(),
             "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "steps": steps, **details}
    write_atomic(sibling(folder, "journal"), json.dumps(entry, indent=1, ensure_ascii=False))
    _own_operations.add(entry["id"])
    _begun.add(entry["id"])
    return entry


_own_operations: set[str] = set()  # begun or recovered by this process
_begun: set[str] = set()  # begun by this process


def pending_operation(folder: Path) -> dict | None:
    """The operation an earlier writer began and did not end, or None. A journal that cannot
    be read is returned as {"op": "unknown", "steps": []}."""
    path = sibling(folder, "journal")
    if not path.exists():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or not isinstance(entry.get("steps"), list) \
                or not all(isinstance(s, dict) for s in entry["steps"]):
            raise ValueError("not an operation")
    except (OSError, ValueError):
        return {"op": "unknown", "steps": [], "damaged": str(path)}
    return entry


def end_operation(folder: Path) -> None:
    """The operation is done, index included: forget it."""
    path = sibling(folder, "journal")
    if path.exists() or path.is_symlink():
        remove_path(path)
        fsync_dir(path.parent)


def describe(entry: dict) -> str:
    """'`ragcomm add` (pid 123, started 2025-01-01T10:00:00+00:00)'"""
    return f"`ragcomm {entry.get('op', 'unknown')}` (pid {entry.get('pid', '?')}, started {entry.get('started', '?')})"


def recover_operation(folder: Path, log=_warn) -> dict | None:
    """Under the writer lock: complete (or, when a source is gone, roll back) the file steps
    of an operation a killed writer left, and say so. The caller then builds the index,
    which ends the operation. Returns the operation, or None when there was none."""
    entry = pending_operation(folder)
    if entry is None or entry.get("id") in _own_operations:
        return entry
    if entry.get("damaged"):
        log(f"warning: the journal {entry['damaged']} of an interrupted operation is unreadable: "
            "re-indexing the corpus as it is")
        return entry
    outcome, notes = recover_steps(entry["steps"])
    log(f"an interrupted {describe(entry)} was {outcome}" + (": " + "; ".join(notes) if notes else "")
        + "; re-indexing")
    _own_operations.add(entry["id"])
    return entry


def undo_operation(folder: Path, log=_warn) -> list[str]:
    """Under the writer lock: an operation of this process that failed (its index could not
    be built or saved; not one that was killed) is undone and forgotten, so that no later
    writer completes an add or a remove its user was told had failed. What was undone."""
    if not holds_writer_lock(folder):
        raise RuntimeError("undo_operation needs the writer lock")
    entry = pending_operation(folder)
    if entry is None or entry.get("id") not in _begun:
        return []
    notes = undo_steps(entry["steps"])
    end_operation(folder)
    if notes:
        log(f"the failed {describe(entry)} was undone: " + "; ".join(notes))
    return notes
