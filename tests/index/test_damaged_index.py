"""Every damaged state of index/ is one clear error that names the file and says how to
recover, never a traceback; `ragcomm index --rebuild` (and plain `ragcomm index`) recover
from each of them with the real model, without touching the corpus."""
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ragcomm import Settings, build_index
from ragcomm.cli import main
from ragcomm.index import IndexCorrupt, IndexError_, IndexMismatch, IndexMissing, load_index

NOTE = ("Integrated care boards\n\nIntegrated care boards took over the commissioning duties of clinical "
        "commissioning groups in July 2022, with budgets delegated by NHS England.\n")


def edit_manifest(index: Path, change):
    path = index / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def rehash(index: Path):
    """Make the manifest's checksums match edited files, so that the shape checks behind them are reached."""
    def update(manifest):
        manifest["files"] = {name: hashlib.sha256((index / name).read_bytes()).hexdigest()
                             for name in manifest["files"] if (index / name).is_file()}
    edit_manifest(index, update)


def rewrite_jsonl(index: Path, name: str, change_first_row):
    path = index / name
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0] = change_first_row(rows[0])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rehash(index)


def replace_with_folder(path: Path):
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")


def drop(key):
    def change(manifest):
        del manifest[key]
    return change


def set_field(path: str, value):
    def change(manifest):
        *parents, last = path.split(".")
        target = manifest
        for p in parents:
            target = target[p]
        target[last] = value
    return change


# (name, damage(index folder), the file the message must name, expected error class)
CASES = [
    ("manifest is a list", lambda i: (i / "manifest.json").write_text("[1, 2, 3]"), "manifest.json", IndexCorrupt),
    ("manifest lacks model", lambda i: edit_manifest(i, drop("model")), "manifest.json", IndexCorrupt),
    ("model.dim is text", lambda i: edit_manifest(i, set_field("model.dim", "384")), "manifest.json", IndexCorrupt),
    ("model.id is a number", lambda i: edit_manifest(i, set_field("model.id", 7)), "manifest.json", IndexCorrupt),
    ("counts.chunks is null", lambda i: edit_manifest(i, set_field("counts.chunks", None)), "manifest.json",
     IndexCorrupt),
    ("bm25 is a list", lambda i: edit_manifest(i, set_field("bm25", [])), "manifest.json", IndexCorrupt),
    ("corpus.files is a list", lambda i: edit_manifest(i, set_field("corpus.files", [])), "manifest.json",
     IndexCorrupt),
    ("files is text", lambda i: edit_manifest(i, set_field("files", "all")), "manifest.json", IndexCorrupt),
    ("files names a path outside", lambda i: edit_manifest(i, set_field("files", {"../../etc/passwd": "0" * 64})),
     "manifest.json", IndexCorrupt),
    ("format is text", lambda i: edit_manifest(i, set_field("format", "1")), "manifest.json", IndexCorrupt),
    ("format from the future", lambda i: edit_manifest(i, set_field("format", 99)), "manifest.json", IndexMismatch),
    ("manifest not JSON", lambda i: (i / "manifest.json").write_text("{not json"), "manifest.json", IndexCorrupt),
    ("manifest binary", lambda i: (i / "manifest.json").write_bytes(b"\xff\xfe\x00garbage"), "manifest.json",
     IndexCorrupt),
    ("manifest empty", lambda i: (i / "manifest.json").write_text(""), "manifest.json", IndexCorrupt),
    ("manifest is a folder", lambda i: replace_with_folder(i / "manifest.json"), "manifest.json", IndexCorrupt),
    ("manifest is a dangling link", lambda i: ((i / "manifest.json").unlink(),
                                               (i / "manifest.json").symlink_to(i / "nowhere.json")),
     "manifest.json", IndexCorrupt),
    ("chunks.jsonl is a folder", lambda i: replace_with_folder(i / "chunks.jsonl"), "chunks.jsonl", IndexCorrupt),
    ("chunks.jsonl truncated", lambda i: (i / "chunks.jsonl").write_text((i / "chunks.jsonl").read_text()[:-40]),
     "chunks.jsonl", IndexCorrupt),
    ("chunks.jsonl missing", lambda i: (i / "chunks.jsonl").unlink(), "chunks.jsonl", IndexCorrupt),
    ("a chunk line is a list", lambda i: rewrite_jsonl(i, "chunks.jsonl", lambda row: [row]), "chunks.jsonl",
     IndexCorrupt),
    ("a chunk lacks its text", lambda i: rewrite_jsonl(i, "chunks.jsonl", lambda row: {**row, "text": None}),
     "chunks.jsonl", IndexCorrupt),
    ("a chunk has an unknown field", lambda i: rewrite_jsonl(i, "chunks.jsonl", lambda row: {**row, "evil": 1}),
     "chunks.jsonl", IndexCorrupt),
    ("a chunk of an unknown document", lambda i: rewrite_jsonl(i, "chunks.jsonl",
                                                                lambda row: {**row, "doc_id": "ghost"}),
     "chunks.jsonl", IndexCorrupt),
    ("a document lacks its title", lambda i: rewrite_jsonl(i, "documents.jsonl",
                                                            lambda row: {k: v for k, v in row.items() if k != "title"}),
     "documents.jsonl", IndexCorrupt),
    ("a document's year is text", lambda i: rewrite_jsonl(i, "documents.jsonl",
                                                           lambda row: {**row, "metadata": {"year": "2012"}}),
     "documents.jsonl", IndexCorrupt),
    ("vectors.npy garbage", lambda i: ((i / "vectors.npy").write_bytes(b"\x93NUMPY garbage"), rehash(i)),
     "vectors.npy", IndexCorrupt),
    ("vectors of another width", lambda i: (np.save(i / "vectors.npy", np.zeros((3, 5), dtype=np.float32)), rehash(i)),
     "vectors.npy", IndexCorrupt),
    ("bm25 folder is a file", lambda i: (shutil.rmtree(i / "bm25"), (i / "bm25").write_text("x")), "bm25",
     IndexCorrupt),
    ("lexical.json wrong shape", lambda i: ((i / "bm25" / "lexical.json").write_text('{"backend": 1}'), rehash(i)),
     "lexical.json", IndexCorrupt),
    ("index is a file", lambda i: (shutil.rmtree(i), i.write_text("not a folder")), "index", IndexCorrupt),
    ("index is an empty folder", lambda i: (shutil.rmtree(i), i.mkdir()), "index", IndexMissing),
    ("index is missing", lambda i: shutil.rmtree(i), "index", IndexMissing),
    ("index is a dangling link", lambda i: (shutil.rmtree(i), i.symlink_to(i.parent / "gone")), "index",
     IndexMissing),
]


@pytest.fixture
def tiny(tmp_path, fake_embedder):
    """A one-note corpus and its index (fake embedder: these cases test the store, not the model)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "icb-note.txt").write_text(NOTE)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=fake_embedder, log=lambda *_: None, progress=False)
    return settings


def corpus_state(corpus: Path) -> dict:
    return {p.relative_to(corpus).as_posix(): p.read_bytes() for p in corpus.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name,damage,named,error", CASES, ids=[c[0] for c in CASES])
def test_damage_is_one_clear_error_naming_the_file(tiny, name, damage, named, error):
    damage(tiny.index_dir)
    with pytest.raises(IndexError_) as caught:
        load_index(tiny.index_dir, corpus_dir=tiny.corpus_dir)
    assert type(caught.value) is error, caught.value
    message = str(caught.value)
    assert named in message and "ragcomm index" in message, message
    if error is IndexCorrupt:
        assert "ragcomm index --rebuild" in message


@pytest.mark.parametrize("command", [["search", "integrated care boards"], ["ask", "What do ICBs do?"], ["status"]])
def test_readers_print_one_line_not_a_traceback(tiny, command, capsys):
    CASES[0][1](tiny.index_dir)
    assert main([*command, "--index", str(tiny.index_dir), "--corpus", str(tiny.corpus_dir)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and "manifest.json" in err and "--rebuild" in err
    assert "Traceback" not in out + err


def test_rebuild_recovers_from_every_damaged_state_with_the_real_model(tmp_path, capsys):
    """`ragcomm index --rebuild` and plain `ragcomm index` (real model, in-process so it loads once)
    bring back a whole index from each state, and leave the corpus as it was."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "icb-note.txt").write_text(NOTE)
    paths = ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--no-progress"]
    assert main(["index", *paths]) == 0
    before = corpus_state(corpus)
    for i, (name, damage, _, _) in enumerate(CASES):
        damage(tmp_path / "index")
        command = ["index", "--rebuild"] if i % 2 == 0 else ["index"]
        assert main([*command, *paths]) == 0, name
        index = load_index(tmp_path / "index", corpus_dir=corpus)
        assert list(index.documents) == ["icb-note"] and index.stale == [], name
        assert corpus_state(corpus) == before, name
        if (tmp_path / "index").is_symlink():  # a dangling link: the index was written where it pointed
            assert (tmp_path / "gone" / "manifest.json").is_file()
            os.unlink(tmp_path / "index")
            shutil.move(tmp_path / "gone", tmp_path / "index")
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "built afresh" in err  # says why it rebuilt
