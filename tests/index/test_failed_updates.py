"""Updates that fail rather than being killed (#23): an add whose index cannot be built is
undone and its journal cleared, so that the next writer does not complete an add its user
was told had failed; a full disk is one line naming the file and the cause, and loses
nothing (a real full disk: a tiny tmpfs mounted in a private mount namespace)."""
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ragcomm import Settings, build_index, load_index
from ragcomm.index import add_documents, pending_operation, update_index

ROOT = Path(__file__).resolve().parents[2]
NOTE = "Integrated care boards\n\nIntegrated care boards took over from clinical commissioning groups in 2022.\n"


def quiet(*_):
    pass


class FailingEmbedder:
    """Embeds like the fake one until asked to fail: an index build that errors midway."""

    def __init__(self, inner):
        self.inner, self.fail = inner, False
        for name in ("model_id", "dim", "max_seq_length", "backend"):
            setattr(self, name, getattr(inner, name))

    def fits(self, text):
        return True

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def encode(self, texts, batch_size=32, progress=False):
        if self.fail:
            raise RuntimeError("the embedding model failed")
        return self.inner.encode(texts, batch_size, progress)

    def encode_query(self, text):
        return self.inner.encode_query(text)


def test_a_failed_add_is_undone_and_not_completed_by_the_next_writer(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    embedder = FailingEmbedder(fake_embedder)
    build_index(settings, embedder=embedder, log=quiet, progress=False)
    note = tmp_path / "icb.txt"
    note.write_text(NOTE)
    embedder.fail = True
    said = []
    with pytest.raises(RuntimeError, match="embedding model failed"):
        add_documents([note], settings, log=said.append, embedder=embedder)
    assert not (small_corpus / "icb.txt").exists()  # taken out again
    assert pending_operation(settings.index_dir) is None  # the journal is cleared
    assert any("was undone" in line and "icb.txt" in line for line in said), said
    embedder.fail = False
    index, built = update_index(settings, log=quiet, embedder=embedder, progress=False)  # the next writer
    assert "icb" not in index.documents and not (small_corpus / "icb.txt").exists()


def test_a_failed_replace_puts_the_old_file_back(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    embedder = FailingEmbedder(fake_embedder)
    name = "commissioners-use-of-information-findings.txt"
    old = (small_corpus / name).read_bytes()
    build_index(settings, embedder=embedder, log=quiet, progress=False)
    (tmp_path / name).write_text(NOTE)
    embedder.fail = True
    with pytest.raises(RuntimeError):
        add_documents([tmp_path / name], settings, replace=True, log=quiet, embedder=embedder)
    assert (small_corpus / name).read_bytes() == old and pending_operation(settings.index_dir) is None


def in_a_full_disk(folder: Path, size: str, script: str) -> subprocess.CompletedProcess:
    """Run a Python script with `folder` on a tmpfs of `size` (a private mount namespace)."""
    if not shutil.which("unshare"):
        pytest.skip("unshare is missing")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    shell = f'mount -t tmpfs -o size={size} tmpfs "$1" && shift && exec "$@"'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh", str(folder),
                           sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_a_full_disk_names_the_file_and_the_cause_and_loses_nothing(small_corpus, tmp_path, fake_embedder):
    """Adding a file larger than the free space left in the corpus folder's disk, then saving
    an index on a disk too small for it: each is one line that names the file and says the
    disk is full; the corpus and the index stay as they were."""
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    big = tmp_path / "big-note.txt"
    big.write_text((NOTE + "\n") * 20_000)  # 2 MB of readable text
    full = tmp_path / "full"
    full.mkdir()
    script = f"""
        import shutil, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from pathlib import Path
        from conftest import FakeEmbedder
        from ragcomm import Settings
        from ragcomm.cli import main
        from ragcomm.index import add_documents, build_index
        corpus = Path({str(full)!r}) / "corpus"
        shutil.copytree({str(small_corpus)!r}, corpus)
        settings = Settings(corpus_dir=corpus, index_dir={str(settings.index_dir)!r})
        try:
            add_documents([Path({str(big)!r})], settings, log=lambda m: None, embedder=FakeEmbedder())
        except OSError as exc:
            print("add:", exc)
        print("corpus:", sorted(p.name for p in corpus.iterdir()))
        free = shutil.disk_usage({str(full)!r}).free
        (Path({str(full)!r}) / "filler").write_bytes(b"x" * (free - 16384))  # 16 KB left: no room for an index
        small = Settings(corpus_dir={str(small_corpus)!r}, index_dir=Path({str(full)!r}) / "index")
        try:
            build_index(small, embedder=FakeEmbedder(), log=lambda m: None, progress=False)
        except OSError as exc:
            print("index:", exc)
        print("left:", sorted(p.name for p in Path({str(full)!r}).iterdir()))
    """
    run = in_a_full_disk(full, "400k", script)
    assert "Traceback" not in run.stderr, run.stderr
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines())
    assert "big-note.txt: no space left on device (the disk is full); nothing was added" in lines["add"], lines
    assert lines["corpus"] == str(sorted(p.name for p in small_corpus.iterdir()))  # nothing half-copied
    assert "cannot write" in lines["index"] and "(the disk is full)" in lines["index"], lines
    assert "index" in lines["index"] and "kept as it was" in lines["index"]
    assert "'index'" not in lines["left"] and ".index.tmp" not in lines["left"]  # no half-written index folder
    assert pending_operation(settings.index_dir) is None
    assert load_index(settings.index_dir)  # the index outside the full disk is untouched
