"""Index lifecycle: incremental updates equal a full rebuild, removed documents never come
back, a build killed at any moment leaves the previous index, one build at a time."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ragcomm import Settings, build_index, load_index
from ragcomm.cli import main
from ragcomm.ingest import CorpusError, add_files, remove_targets, safe_name
from ragcomm.index import IndexBusy, build_lock
from ragcomm.search import Retriever

ROOT = Path(__file__).resolve().parents[2]
NOTE = ("Integrated care boards\n\nIntegrated care boards took over the commissioning duties of clinical "
        "commissioning groups in July 2022, with budgets delegated by NHS England.\n")


def quiet(*_):
    pass


def test_incremental_updates_equal_a_full_rebuild(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    first = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    assert first.manifest["counts"]["reused"] == 0
    (tmp_path / "icb.txt").write_text(NOTE)
    add_files([tmp_path / "icb.txt"], small_corpus)
    (small_corpus / "commissioners-use-of-information-findings.txt").write_text("Commissioners like stories.\n")
    updated = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    assert updated.manifest["counts"]["embedded"] <= 2  # the new note and the edited file
    assert updated.manifest["counts"]["reused"] == len(updated.chunks) - updated.manifest["counts"]["embedded"]

    full = build_index(settings.replace(index_dir=tmp_path / "full"), embedder=fake_embedder, log=quiet,
                       progress=False)
    assert [c.chunk_id for c in updated.chunks] == [c.chunk_id for c in full.chunks]
    assert [c.text for c in updated.chunks] == [c.text for c in full.chunks]
    assert np.allclose(updated.vectors, full.vectors, atol=1e-6)
    r1, r2 = Retriever(updated, embedder=fake_embedder), Retriever(full, embedder=fake_embedder)
    for q in ("integrated care boards", "animateur legitimacy", "stories"):
        assert [h.chunk_id for h in r1.search(q, k=5)] == [h.chunk_id for h in r2.search(q, k=5)]


def test_removed_document_never_appears_again(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    (small_corpus / "icb.txt").write_text(NOTE)
    build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    moved = remove_targets(["icb"], small_corpus, settings.index_dir)
    assert moved[0][1].exists() and not (small_corpus / "icb.txt").exists()  # kept, not lost
    index = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    assert "icb" not in index.documents
    r = Retriever(load_index(settings.index_dir), embedder=fake_embedder)
    for mode in ("bm25", "dense", "hybrid"):
        assert all(h.doc_id != "icb" for h in r.search("integrated care boards July 2022", k=50, mode=mode))


def test_add_refuses_bad_files_and_unsafe_names(tmp_path):
    corpus = tmp_path / "corpus"
    (tmp_path / "x.exe").write_bytes(b"MZ")
    with pytest.raises(CorpusError, match="unsupported"):
        add_files([tmp_path / "x.exe"], corpus)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(CorpusError, match="cannot be read"):
        add_files([tmp_path / "bad.pdf"], corpus)
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\evil name?.md") == "evil name.md"
    assert safe_name(".hidden.txt") == "hidden.txt"
    with pytest.raises(CorpusError, match="no document"):
        remove_targets(["../outside.txt"], corpus, tmp_path / "index")


def test_cli_add_search_remove_with_the_real_model(real_index, tmp_path, capsys):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(real_index.corpus_dir, corpus)
    shutil.copytree(real_index.index_dir, index)
    note = tmp_path / "icb-note.txt"
    note.write_text(NOTE)
    paths = ["--corpus", str(corpus), "--index", str(index)]
    assert main(["add", str(note), *paths]) == 0
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["counts"]["embedded"] == 1  # only the new text was embedded
    capsys.readouterr()
    assert main(["search", "integrated care boards took over CCG duties", "-k", "1", "--json", *paths]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["doc_id"] == "icb-note"
    assert main(["remove", "icb-note", *paths]) == 0
    capsys.readouterr()
    for mode in ("bm25", "dense", "hybrid"):
        assert main(["search", "integrated care boards July 2022", "-k", "20", "--mode", mode, "--json", *paths]) == 0
        assert "icb-note" not in {h["doc_id"] for h in json.loads(capsys.readouterr().out)["results"]}
    assert main(["status", *paths]) == 0
    assert "up to date" in capsys.readouterr().out


def test_build_killed_at_any_moment_leaves_the_previous_index(real_index, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(real_index.corpus_dir, corpus)
    shutil.copytree(real_index.index_dir, index)
    before = json.loads((index / "manifest.json").read_text())
    cmd = [sys.executable, "-m", "ragcomm", "index", "--rebuild", "--no-progress", "--corpus", str(corpus),
           "--index", str(index), "--chunk-size", "128"]
    outcomes = []
    for delay in (0.5, 1.5, 2.5, 3.5, 5.0, 7.0, 10.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded = load_index(index, corpus_dir=corpus)  # loadable and intact (checksums verified)
        if loaded.manifest["chunking"]["size"] == 128:  # killed after the swap: the new index, whole
            outcomes.append("new")
            assert loaded.manifest["counts"]["chunks"] == len(loaded.chunks) > before["counts"]["chunks"]
            break
        outcomes.append("previous")  # killed before the swap: the previous index, untouched
        assert loaded.manifest["built_at"] == before["built_at"]
        assert len(loaded.chunks) == before["counts"]["chunks"]
    assert outcomes[0] == "previous"  # at least one kill landed mid-build
    assert main(["index", "--rebuild", "--no-progress", "--corpus", str(corpus), "--index", str(index)]) == 0
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]  # cleaned up


def test_two_builds_at_once_are_refused_with_a_clear_message(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Commissioning.")
    with build_lock(tmp_path / "index"):
        with build_lock(tmp_path / "index"):  # re-entrant in one thread (add holds it while it builds)
            pass
        errors = []

        def other_thread():
            try:
                with build_lock(tmp_path / "index"):
                    pass
            except IndexBusy as exc:
                errors.append(exc)

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert errors and "another thread" in str(errors[0])
        run = subprocess.run([sys.executable, "-m", "ragcomm", "index", "--corpus", str(corpus),
                              "--index", str(tmp_path / "index")], capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 2
        assert f"another ragcomm process (pid {os.getpid()}) is building" in run.stderr
    with build_lock(tmp_path / "index"):  # released
        pass
