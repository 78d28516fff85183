"""Reading files where it can be stopped: in a worker process with a memory limit and a
deadline, so that a file that expands to gigabytes or parses for ever costs the worker,
never the caller (a build, `ragcomm add`, the app's upload), which refuses it with one line
and goes on. The worker is a fresh Python (`main` below), started on first use and kept for the next
file; one that fails or is stopped is replaced.

    docs = read_in_worker(Path("corpus/report.pdf"), Path("corpus"), Budget())

In the worker: `resource.setrlimit(RLIMIT_AS)` to the budget's memory, a CPU-time limit per
file as a backstop, a lower priority than the caller. In the caller: the budget's seconds
as a deadline, after which the worker is killed. The peak memory of each read (the worker's
peak resident set, VmHWM) comes back with it (`Read.peak_rss`), and with a refusal
(`IngestError.peak_rss`). `stop_workers()` kills every worker at once (the app calls it when
it is told to stop, so that no upload keeps it waiting).
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..types import Document
from .ids import number_repeats
from .readers import IngestError, read_document
from .readers.budget import DEFAULT, MB, Budget, OverBudget
from .records import split_records

HEADER = struct.Struct("!Q")
MAX_IDLE = 2  # workers kept for the next file


@dataclass
class Read:
    docs: list[Document]
    peak_rss: int  # bytes: the worker's peak resident memory while it read this file
    seconds: float


# ---------------------------------------------------------------- the caller's side

class Worker:
    def __init__(self, memory_bytes: int):
        self.memory_bytes = memory_bytes
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MALLOC_ARENA_MAX": "2"}
        self.proc = subprocess.Popen([sys.executable, "-c", "from ragcomm.ingest.worker import main; main()",
                                      str(memory_bytes)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0,
                                     close_fds=True)
        self.files = 0  # read by this worker so far

    def send(self, message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.write(HEADER.pack(len(data)) + data)
        self.proc.stdin.flush()

    def receive(self, deadline: float):
        """The next message, or None when the deadline passed or the worker died."""
        header = self._exactly(HEADER.size, deadline)
        if header is None:
            return None
        body = self._exactly(HEADER.unpack(header)[0], deadline)
        return None if body is None else pickle.loads(body)

    def _exactly(self, n: int, deadline: float) -> bytes | None:
        fd = self.proc.stdout.fileno()
        parts, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                return None
            piece = os.read(fd, min(left, 1 << 20))
            if not piece:
                return None  # the worker is gone
            parts.append(piece)
            left -= len(piece)
        return b"".join(parts)

    def peak_rss(self) -> int:
        """The worker's peak resident memory since its last file began, while it runs."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0

    def kill(self) -> int:
        """Stop the worker at once; its peak resident memory (bytes) as far as it is known."""
        peak = self.peak_rss()
        if self.proc.poll() is None:
            self.proc.kill()
        return max(peak, self.reap())

    def reap(self) -> int:
        """Wait for an ended worker; its lifetime peak resident memory (bytes)."""
        try:
            _, _, usage = os.wait4(self.proc.pid, 0)
            self.proc.returncode = self.proc.returncode if self.proc.returncode is not None else -1
            return usage.ru_maxrss * 1024
        except ChildProcessError:  # already reaped
            self.proc.wait()
            return 0

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.kill()


_idle: list[Worker] = []
_busy: set[Worker] = set()
_guard = threading.Lock()
_stopping = threading.Event()


def _take(memory_bytes: int) -> Worker:
    if _stopping.is_set():
        raise IngestError("not read: the program is stopping")
    with _guard:
        for worker in list(_idle):
            _idle.remove(worker)
            if worker.memory_bytes == memory_bytes and worker.proc.poll() is None:
                _busy.add(worker)
                return worker
            worker.close()
        worker = Worker(memory_bytes)
        _busy.add(worker)
        return worker


def _give_back(worker: Worker, keep: bool) -> None:
    with _guard:
        _busy.discard(worker)
        if keep and not _stopping.is_set() and worker.proc.poll() is None and len(_idle) < MAX_IDLE:
            _idle.append(worker)
            return
    worker.close()


def stop_workers() -> None:
    """Kill every worker now (the app is stopping): reads in progress are refused at once."""
    _stopping.set()
    with _guard:
        workers = [*_idle, *_busy]
        _idle.clear()
    for worker in workers:
        if worker.proc.poll() is None:
            worker.proc.kill()


def close_idle() -> None:
    with _guard:
        workers = list(_idle)
        _idle.clear()
    for worker in workers:
        worker.close()


def read_in_worker(path: Path, corpus_dir: Path, budget: Budget = DEFAULT, log=None) -> Read:
    """The documents of one file (`read_file` in a worker), within `budget`. IngestError
    (with `peak_rss`) when the file is refused, over budget, or the worker died on it."""
    path, corpus_dir = Path(os.path.abspath(path)), Path(os.path.abspath(corpus_dir))  # a link keeps its own name
    for attempt in (1, 2):
        worker = _take(budget.memory_bytes)
        earlier = worker.files > 0
        kind, result = _read_with(worker, path, corpus_dir, budget, log)
        if kind == "ok":
            return result
        if kind == "retry" or (kind == "memory" and earlier and attempt == 1):
            continue  # a worker that died while idle, or whose heap held earlier files: afresh
        raise result
    raise IngestError("the reading process could not be started")


def _read_with(worker: Worker, path: Path, corpus_dir: Path, budget: Budget, log) -> tuple[str, object]:
    """("ok", Read), ("retry", None), or (why, the IngestError to raise)."""
    started = time.monotonic()
    deadline = started + budget.seconds
    try:
        worker.send(("read", str(path), str(corpus_dir), budget.as_dict()))
    except OSError:
        _give_back(worker, keep=False)
        return "retry", None
    worker.files += 1
    while (message := worker.receive(deadline)) is not None:
        kind = message[0]
        if kind == "log":
            if log:
                log(message[1])
            continue
        if kind == "ok":
            _give_back(worker, keep=True)
            return "ok", Read(message[1], message[2], time.monotonic() - started)
        _give_back(worker, keep=kind == "refused")
        error = OverBudget(budget.message("memory_bytes")) if kind == "memory" else IngestError(message[1])
        error.peak_rss = message[2]
        return kind, error
    timed_out = time.monotonic() >= deadline and worker.proc.poll() is None
    peak = worker.kill()
    with _guard:
        _busy.discard(worker)
    if _stopping.is_set():
        error = IngestError("not read: the program is stopping")
    elif timed_out:
        error = OverBudget(budget.message("seconds"))
    else:
        error = IngestError(died(worker.proc.returncode, budget))
    error.peak_rss = peak
    return "died", error


def died(returncode: int | None, budget: Budget) -> str:
    """Why a worker ended mid-file, in words."""
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        if -returncode == signal.SIGXCPU:
            return budget.message("seconds")
        return (f"the reader stopped on this file ({name}): a damaged file, or one that "
                f"{budget.message('memory_bytes')}")
    return f"the reader stopped on this file (exit code {returncode})"


# ---------------------------------------------------------------- the worker's side

def read_file(path: Path, corpus_dir: Path, log=None, budget: Budget = DEFAULT) -> list[Document]:
    """One file's documents, read in this process (what the worker does for each request)."""
    source = str(Path(path).relative_to(corpus_dir)).replace("\\", "/")
    extracted = read_document(path, log=log, budget=budget)
    if not extracted.text.strip():
        raise IngestError("empty file")
    docs = split_records(extracted.text, source, extracted)
    if not docs or not any(d.text.strip() for d in docs):
        raise IngestError("no text after cleaning")
    return number_repeats(docs)



def _limit(memory_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        os.nice(5)  # the caller (answering questions) goes first
    except OSError:
        pass


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM, the peak resident set (Linux 4.0+)
    except OSError:
        pass


def _peak() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _serve(memory_bytes: int) -> None:
    import resource

    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the replies
    requests = sys.stdin.buffer

    def reply(message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(HEADER.pack(len(data)) + data)

    _limit(memory_bytes)
    while True:
        header = requests.read(HEADER.size)
        if len(header) < HEADER.size:
            return  # the caller is gone
        _, path, corpus_dir, limits = pickle.loads(requests.read(HEADER.unpack(header)[0]))
        budget = Budget(**limits)
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        cpu = int(used + 2 * budget.seconds) + 1  # a backstop: the caller's deadline comes first
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
        _reset_peak()
        try:
            docs = read_file(Path(path), Path(corpus_dir), log=lambda m: reply(("log", m)), budget=budget)
            reply(("ok", docs, _peak()))
        except IngestError as exc:
            reply(("refused", str(exc), _peak()))
        except MemoryError:
            reply(("memory", budget.message("memory_bytes"), _peak()))
            return  # the heap may be in pieces: a fresh worker for the next file
        except Exception as exc:  # a parser's own failure: report, don't crash the build
            reply(("refused", f"{type(exc).__name__}: {exc}".strip()[:300], _peak()))


def main() -> None:
    """The worker process: `python -c "from ragcomm.ingest.worker import main; main()" MEMORY_BYTES`."""
    try:
        _serve(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT.memory_bytes)
    except (KeyboardInterrupt, BrokenPipeError):
        pass


__all__ = ["MB", "Read", "read_file", "read_in_worker", "stop_workers", "close_idle"]
