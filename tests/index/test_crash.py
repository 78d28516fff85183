"""Real processes, real SIGKILL: `ragcomm add`, `remove` and `index` killed at every step of
their work (RAGCOMM_PAUSE_AT stops a process at a named point so that the kill lands exactly
there; a sweep of timed kills lands anywhere). After the next command the corpus and the index
agree, no file is lost, no file is half-written, and the next command said what it finished."""
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ragcomm import Settings, build_index, load_index
from ragcomm.cli import main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
NOTE = ("Integrated care boards\n\nIntegrated care boards took over the commissioning duties of clinical "
        "commissioning groups in July 2022, with budgets delegated by NHS England.\n")
FIRST = "animateurs-commissioning-managers-2012.txt"
SECOND = "commissioners-use-of-information-findings.txt"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Two real corpus files indexed with the real model and default settings, copied per test."""
    root = tmp_path_factory.mktemp("crash-base")
    (root / "corpus").mkdir()
    for name in (FIRST, SECOND):
        shutil.copy(CORPUS / name, root / "corpus" / name)
    build_index(Settings(corpus_dir=root / "corpus", index_dir=root / "index"), log=lambda *_: None, progress=False)
    return root


class Workspace:
    def __init__(self, root: Path):
        self.root, self.corpus, self.index = root, root / "corpus", root / "index"
        self.originals = {p.name: p.read_bytes() for p in self.corpus.iterdir() if p.is_file()}
        self.note = root / "icb-note.txt"
        self.note.write_text(NOTE)
        # A 3 MB page that is mostly a comment: a copy is killed with part of it written.
        self.big = root / "big-page.html"
        self.big.write_text(f"<html><body><h1>Big page</h1><p>{NOTE}</p><!-- {'x' * 3_000_000} --></body></html>")

    @property
    def paths(self):
        return ["--corpus", str(self.corpus), "--index", str(self.index), "--no-progress"]

    def run(self, *args) -> int:
        return main([*args, *self.paths])


@pytest.fixture
def ws(base, tmp_path):
    shutil.copytree(base / "corpus", tmp_path / "corpus")
    shutil.copytree(base / "index", tmp_path / "index")
    return Workspace(tmp_path)


def kill_at(ws: Workspace, point: str, *args, env=None, timeout: float = 300) -> str:
    """Run `ragcomm ARGS` in a subprocess, SIGKILL it when it reports reaching `point`; its stderr."""
    cmd = [sys.executable, "-m", "ragcomm", *args, *ws.paths]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "RAGCOMM_PAUSE_AT": point, **(env or {})})
    guard = threading.Timer(timeout, proc.kill)
    guard.start()
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if f"paused at {point}" in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
    finally:
        guard.cancel()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"never reached {point}:\n{''.join(lines)}"
    return "".join(lines)


def assert_consistent(ws: Workspace, added: dict | None = None) -> dict:
    """Corpus and index agree; every original file is in the corpus or corpus/.removed/, byte for
    byte; an added file is in the corpus whole or not at all; nothing half-done is left over."""
    corpus = ws.corpus
    assert not [p.name for p in corpus.iterdir() if p.name.startswith(".") and p.name != ".removed"]
    assert not [p.name for p in ws.root.iterdir()
                if p.name.startswith(".index.") and p.name not in (".index.lock", ".index.generation")]
    kept = {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file()}
    trash = corpus / ".removed"
    removed = {p.name.split("-", 2)[2]: p.read_bytes() for p in trash.iterdir()} if trash.is_dir() else {}
    for name, data in ws.originals.items():
        assert kept.get(name) == data or removed.get(name) == data, f"{name} lost"
    for name, data in (added or {}).items():
        assert kept.get(name, data) == data, f"{name} is in the corpus but not whole"
    index = load_index(ws.index, corpus_dir=corpus)  # whole: checksums and shapes verified
    assert index.stale == []
    assert {d["source"] for d in index.documents.values()} == set(kept)
    return kept


ADD_POINTS = ["add-planned", "copy-written", "add-copied", "save-written", "save-exchanged"]


@pytest.mark.parametrize("point", ADD_POINTS)
def test_add_killed_at_each_step_is_completed_by_the_next_command(ws, point, capsys):
    kill_at(ws, point, "add", str(ws.note))
    assert ws.run("index") == 0
    err = capsys.readouterr().err
    assert "an interrupted `ragcomm add`" in err and "was completed" in err
    kept = assert_consistent(ws, {"icb-note.txt": NOTE.encode()})
    assert "icb-note.txt" in kept  # the source is still there: the add was finished


def test_add_killed_mid_copy_never_leaves_a_partial_file(ws, capsys):
    kill_at(ws, "copy-block", "add", str(ws.big))
    parts = [p for p in ws.corpus.iterdir() if p.name.startswith(".big-page.html.part-")]
    assert parts and 0 < parts[0].stat().st_size < ws.big.stat().st_size  # killed with part of it written
    assert not (ws.corpus / "big-page.html").exists()  # never under its final name
    assert main(["search", "integrated care boards", *ws.paths[:-1]]) == 0  # readers see a whole corpus and index
    assert "an interrupted `ragcomm add`" in capsys.readouterr().err  # ... and are told what is pending
    assert ws.run("index") == 0
    assert "big-page.html" in assert_consistent(ws, {"big-page.html": ws.big.read_bytes()})


def test_add_whose_source_vanished_is_rolled_back(ws, capsys):
    kill_at(ws, "copy-written", "add", str(ws.note))
    ws.note.unlink()
    assert ws.run("index") == 0
    assert "was rolled back" in capsys.readouterr().err
    assert "icb-note.txt" not in assert_consistent(ws)


@pytest.mark.parametrize("source_kept", [True, False])
def test_replace_killed_keeps_the_old_version(ws, source_kept, capsys):
    new = ws.root / FIRST
    new.write_text("A new version of the animateurs paper.\n\nCommissioning managers as animateurs, revised.\n")
    kill_at(ws, "copy-written", "add", "--replace", str(new))
    if not source_kept:
        new.unlink()
    assert ws.run("index") == 0
    err = capsys.readouterr().err
    kept = assert_consistent(ws)
    if source_kept:
        assert "was completed" in err and kept[FIRST] == new.read_bytes()
        assert [p for p in (ws.corpus / ".removed").iterdir() if p.read_bytes() == ws.originals[FIRST]]
    else:
        assert "was rolled back" in err and kept[FIRST] == ws.originals[FIRST]


@pytest.mark.parametrize("point", ["remove-planned", "remove-moved", "save-written"])
def test_remove_killed_then_retried_succeeds(ws, point, capsys):
    kill_at(ws, "add-copied", "add", str(ws.note))  # an add to finish too, so the corpus keeps two files
    assert ws.run("index") == 0
    kill_at(ws, point, "remove", "icb-note")
    assert ws.run("remove", "icb-note") == 0  # the retry: completes the interrupted remove, then finds it done
    out, err = capsys.readouterr()
    assert "an interrupted `ragcomm remove`" in err and "was completed" in err
    assert "removed icb-note" in out  # "removed" or "already removed"
    kept = assert_consistent(ws)
    assert "icb-note.txt" not in kept
    assert [p for p in (ws.corpus / ".removed").iterdir() if p.read_bytes() == NOTE.encode()]  # kept, not lost


def test_swap_killed_between_its_two_renames_is_finished(ws, capsys):
    """Where the file system cannot exchange two folders atomically, the swap is two renames;
    a kill between them leaves no index/ folder, and the next writer puts the new one in place."""
    kill_at(ws, "save-between-renames", "index", "--rebuild", "--chunk-size", "128",
            env={"RAGCOMM_NO_EXCHANGE": "1"})
    assert not ws.index.exists()
    assert main(["status", "--corpus", str(ws.corpus), "--index", str(ws.index)]) == 2
    assert "interrupted" in capsys.readouterr().err  # a reader says what happened and what to run
    assert main(["index", "--chunk-size", "128", *ws.paths]) == 0
    assert "an interrupted index swap was completed" in capsys.readouterr().err
    assert_consistent(ws)
    assert load_index(ws.index).manifest["chunking"]["size"] == 128  # the new index, whole


def test_a_second_writer_is_refused_and_changes_nothing(ws, capsys):
    other = ws.root / "other-note.txt"
    other.write_text("Another note about commissioning support units and their staff.\n")
    cmd = [sys.executable, "-m", "ragcomm", "add", str(ws.note), *ws.paths]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "RAGCOMM_PAUSE_AT": "add-copied"})
    try:
        for line in proc.stderr:
            if "paused at add-copied" in line:
                break
        assert ws.run("add", str(other)) == 2  # refused while the first one holds the writer lock
        assert f"another ragcomm process (pid {proc.pid}) is building or updating" in capsys.readouterr().err
        assert not (ws.corpus / "other-note.txt").exists()  # refused means nothing was done
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert ws.run("add", str(other)) == 0  # the next one finishes the killed add, then does its own
    assert {"icb-note.txt", "other-note.txt"} <= set(assert_consistent(ws))


def test_add_killed_at_random_moments(ws, capsys):
    """Timed kills land anywhere (reading, copying, chunking, embedding, saving)."""
    for delay in (0.4, 0.8, 1.2, 1.6, 2.4, 3.5, 5.0, 8.0):
        proc = subprocess.Popen([sys.executable, "-m", "ragcomm", "add", str(ws.big), *ws.paths],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert ws.run("index") == 0
        kept = assert_consistent(ws, {"big-page.html": ws.big.read_bytes()})
        if "big-page.html" in kept:
            break  # the add got far enough to be finished: later delays would find it done
    assert "Traceback" not in capsys.readouterr().err
