"""Crash-safe file operations, shared by the corpus (ingest/) and the index store (index/).

Whenever a process is killed, a file is either whole under its final name or absent: data
goes to a temporary name in the same folder (starting with '.', which corpus scans skip),
is fsynced, then renamed; the folder is fsynced so that the rename itself survives.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "whole or nothing")
    >>> (folder / "a.txt").read_text()
    'whole or nothing'
"""
from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

BLOCK = 1 << 20


def fsync_dir(folder: Path) -> None:
    """Make renames and new names in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_error(exc: OSError, path: Path, after: str = "") -> OSError:
    """An OSError met while writing `path`, as one line that names the file and the cause
    (a full disk says so); `after`: what that leaves, in words. Its errno is kept.

    >>> str(write_error(OSError(errno.ENOSPC, "No space left on device"), Path("/c/a.pdf")))
    'cannot write /c/a.pdf: no space left on device (the disk is full)'
    """
    cause = (exc.strerror or str(exc)).rstrip(".")
    cause = cause[:1].lower() + cause[1:]
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        cause += " (the disk is full)" if exc.errno == errno.ENOSPC else " (over the disk quota)"
    error = OSError(f"cannot write {exc.filename or path}: {cause}" + (f"; {after}" if after else ""))
    error.errno = exc.errno
    return error


def temp_name(path: Path, tag: str = "part") -> Path:
    """A hidden temporary name beside `path`, owned by this process."""
    path = Path(path)
    return path.parent / f".{path.name}.{tag}-{os.getpid()}"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a whole file under a temporary name, fsync it, rename it into place."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        remove_path(tmp)
        raise write_error(exc, path, f"{path} is as it was") from None
    os.replace(tmp, path)
    fsync_dir(path.parent)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_atomic(src: Path, dst: Path, expected_sha256: str | None = None, progress=None) -> str:
    """Copy `src` to `dst` through a temporary name; the SHA-256 of what was copied.
    With `expected_sha256`, a source that changed meanwhile is refused (ValueError) and
    nothing is left behind. `progress(done_bytes, total_bytes)` is called per block."""
    src, dst = Path(src), Path(dst)
    tmp = temp_name(dst)
    digest = hashlib.sha256()
    total = src.stat().st_size
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            done = 0
            for block in iter(lambda: fin.read(BLOCK), b""):
                fout.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
                pause_point("copy-block")
            fout.flush()
            os.fsync(fout.fileno())
        if expected_sha256 and digest.hexdigest() != expected_sha256:
            raise ValueError(f"{src} changed while it was being copied")
        pause_point("copy-written")
        os.replace(tmp, dst)
    except OSError as exc:
        remove_path(tmp)
        if exc.errno in (errno.ENOENT, errno.EACCES, errno.EISDIR) and exc.filename == str(src):
            raise
        raise write_error(exc, dst, "nothing was added") from None
    except BaseException:
        remove_path(tmp)
        raise
    fsync_dir(dst.parent)
    return digest.hexdigest()


def move_durably(src: Path, dst: Path) -> None:
    """Rename within one file system and make it durable in both folders."""
    src, dst = Path(src), Path(dst)
    os.rename(src, dst)
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)


def remove_path(path: Path) -> None:
    """Remove a file, a link or a folder tree; nothing if it is not there."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- steps of an operation
# An operation (add, remove) is a list of steps on files, written to a journal before it
# starts (index/store.py), so that the next writer can finish or undo it:
#   {"do": "copy", "src": ..., "dst": ..., "sha256": ...}   a file copied in (copy_atomic)
#   {"do": "move", "src": ..., "dst": ...}                  a file renamed (move_durably)

def run_step(step: dict, progress=None) -> None:
    if step["do"] == "copy":
        copy_atomic(step["src"], step["dst"], step["sha256"], progress)
    elif step["do"] == "move":
        Path(step["dst"]).parent.mkdir(parents=True, exist_ok=True)
        move_durably(step["src"], step["dst"])
    else:
        raise ValueError(f"unknown step {step['do']!r}")


def _hash_is(path: Path, digest: str) -> bool:
    try:
        return Path(path).is_file() and sha256_file(path) == digest
    except OSError:
        return False


def step_done(step: dict) -> bool:
    if step["do"] == "copy":
        return _hash_is(step["dst"], step["sha256"])
    return not os.path.lexists(step["src"])  # moved (or gone: nothing left to move)


def step_redoable(step: dict) -> bool:
    if step["do"] == "copy":
        return _hash_is(step["src"], step["sha256"])
    return os.path.lexists(step["src"]) and not os.path.lexists(step["dst"])


def recover_steps(steps: list[dict]) -> tuple[str, list[str]]:
    """Finish an interrupted operation's steps, or, when one cannot be finished (a source
    file gone or changed), undo the ones done, so that the operation happened whole or not
    at all. Returns ("completed" or "rolled back", what was done)."""
    for step in steps:  # what a killed copy left under its temporary name
        if step["do"] == "copy":
            dst = Path(step["dst"])
            for part in dst.parent.glob(f".{dst.name}.part-*"):
                remove_path(part)
    blocked = [s for s in steps if not step_done(s) and not step_redoable(s)]
    notes = []
    if not blocked:
        for step in steps:
            if not step_done(step):
                run_step(step)
                notes.append(f"{'copied' if step['do'] == 'copy' else 'moved'} {step['src']} to {step['dst']}")
        return "completed", notes
    notes.append(f"{blocked[0]['src']} is gone or changed")
    return "rolled back", notes + undo_steps(steps)


def undo_steps(steps: list[dict]) -> list[str]:
    """Undo the steps of an operation that were done, last first (a copy taken out, a move
    put back); what was undone, in words."""
    notes = []
    for step in reversed(steps):
        if step["do"] == "copy":
            dst = Path(step["dst"])
            for part in dst.parent.glob(f".{dst.name}.part-*"):
                remove_path(part)
            if _hash_is(dst, step["sha256"]):
                dst.unlink()
                fsync_dir(dst.parent)
                notes.append(f"took out {step['dst']}")
        elif step["do"] == "move" and os.path.lexists(step["dst"]) and not os.path.lexists(step["src"]):
            move_durably(step["dst"], step["src"])
            notes.append(f"put back {step['src']}")
    return notes


_renameat2 = None


def exchange(a: Path, b: Path) -> bool:
    """Swap two names atomically (Linux renameat2 RENAME_EXCHANGE): no moment where either
    is missing. False where the system or file system cannot; the caller then renames twice."""
    global _renameat2
    if not sys.platform.startswith("linux") or os.environ.get("RAGCOMM_NO_EXCHANGE"):
        return False
    if _renameat2 is None:
        try:
            fn = ctypes.CDLL(None, use_errno=True).renameat2
        except (AttributeError, OSError):
            _renameat2 = False
            return False
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        _renameat2 = fn
    if _renameat2 is False:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False  # EINVAL / ENOSYS: not supported here


def pause_point(name: str) -> None:
    """Crash tests: with RAGCOMM_PAUSE_AT=name the process says so on stderr and waits
    there, so that a test can SIGKILL it at exactly this point. A no-op otherwise."""
    if os.environ.get("RAGCOMM_PAUSE_AT") == name:
        print(f"paused at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)
