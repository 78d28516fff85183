"""The corpus folder's boundaries (#11): links to files outside it are refused at index time
with a message (tried: /etc/passwd), a multi-file add reports each file (added, refused and
why) and keeps the user's file name."""
import os
import shutil
from pathlib import Path

import pytest

from ragcomm import Settings
from ragcomm.cli import main
from ragcomm.index import add_documents, build_index, remove_documents
from ragcomm.search import Retriever

SECRET = "zanzibar quokka marmalade"  # a phrase only the outside file holds


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"Private notes. The password is {SECRET}.\n")
    return folder


def test_links_out_of_the_corpus_are_refused_at_index_time(small_corpus, tmp_path, outside, fake_embedder):
    (small_corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (small_corpus / "passwd.txt").symlink_to("/etc/passwd")
    (small_corpus / "linked-folder").symlink_to(outside, target_is_directory=True)
    (small_corpus / "inside-link.txt").symlink_to(small_corpus / "animateurs-commissioning-managers-2012.txt")
    messages = []
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    index = build_index(settings, embedder=fake_embedder, log=messages.append, progress=False)
    sources = {d["source"] for d in index.documents.values()}
    assert not {"secret.txt", "passwd.txt"} & sources and not any("linked-folder" in s for s in sources)
    assert "inside-link.txt" in sources  # a link that stays inside the corpus is fine
    said = "\n".join(messages)
    assert "secret.txt" in said and "passwd.txt" in said and "outside the corpus folder" in said, said
    hits = Retriever(index, embedder=fake_embedder, settings=settings).search(SECRET, k=10, mode="bm25")
    assert all(SECRET not in h.text and "root:" not in h.text for h in hits)
    # and `remove` takes the link itself out (it does not refuse it, nor touch what it points to)
    results, _ = remove_documents(["passwd.txt"], settings, log=lambda *_: None, embedder=fake_embedder)
    assert [r.status for r in results] == ["removed"] and not os.path.lexists(small_corpus / "passwd.txt")
    assert Path("/etc/passwd").exists() and (outside / "secret.txt").exists()


def test_a_multi_file_add_reports_each_file_and_keeps_its_name(small_corpus, tmp_path, fake_embedder):
    new = tmp_path / "new"
    new.mkdir()
    (new / "Standards V1.6 (final).txt").write_text("Commissioning standards version 1.6 set out the duties of ICBs.")
    (new / "tool.exe").write_bytes(b"MZ\x90\x00")
    (new / "empty.pdf").write_bytes(b"%PDF-1.4 not really")
    shutil.copy(small_corpus / "animateurs-commissioning-managers-2012.txt", new / "same.txt")
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    files = [new / "Standards V1.6 (final).txt", new / "tool.exe", new / "empty.pdf", new / "missing.txt",
             new, new / "same.txt"]
    results, index = add_documents(files, settings, log=lambda *_: None, embedder=fake_embedder)
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["Standards V1.6 (final).txt"].status == "added"
    assert (small_corpus / "Standards V1.6 (final).txt").is_file()  # the user's name, not V1_6
    assert by_name["tool.exe"].status == "refused" and "unsupported" in by_name["tool.exe"].reason
    assert by_name["empty.pdf"].status == "refused" and "cannot be read" in by_name["empty.pdf"].reason
    assert by_name["missing.txt"].reason == "no such file" and by_name["new"].reason == "a folder, not a file"
    assert by_name["same.txt"].status == "added"  # same content under another name is a new file
    assert {"Standards V1.6 (final).txt", "same.txt"} <= {d["source"] for d in index.documents.values()}
    assert not (small_corpus / "tool.exe").exists() and not (small_corpus / "empty.pdf").exists()


def test_the_cli_add_prints_one_line_per_file(real_index, small_corpus, tmp_path, capsys):
    good = tmp_path / "ICB notes V2.1.txt"
    good.write_text("Integrated care boards took over commissioning from CCGs in July 2022.")
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    code = main(["add", str(good), str(bad), "--corpus", str(small_corpus), "--index", str(tmp_path / "index"),
                 "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert f"added {good}" in out and "ICB notes V2.1.txt" in out
    assert f"refused {bad}: unsupported file type" in err and "Traceback" not in out + err
    assert "index generation" in out
