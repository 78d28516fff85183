"""The Milvus backend on Milvus Lite in a temporary folder: build, each mode against the files
backends, filters, add, remove, reopen, a collection out of step, backend mismatches, the CLI."""
from __future__ import annotations

import json
import shutil
import sys

import pytest

from ragcomm import Settings
from ragcomm.backends import BackendUnavailable
from ragcomm.backends.milvus import close_all, filter_expression
from ragcomm.cli import main
from ragcomm.extras import MissingExtra
from ragcomm.index import IndexMismatch, build_index, load_index, settings_match
from ragcomm.search import Retriever

pytestmark = pytest.mark.milvus
pytest.importorskip("pymilvus", reason="the milvus extra is installed by `make setup`")

QUESTIONS = ["what skills do commissioning managers need", "how do commissioners use information",
             "animateurs and facilitation", "evidence from local data"]
NOTE = ("Integrated care boards\n\nIntegrated care boards took over the commissioning duties of clinical "
        "commissioning groups in July 2022. NHS England delegated primary care commissioning to them.\n")


def build(corpus, folder, embedder, backend):
    return build_index(Settings(corpus_dir=corpus, index_dir=folder, vector_backend=backend), embedder=embedder,
                       log=lambda *_: None, progress=False)


@pytest.fixture
def pair(small_corpus, tmp_path, fake_embedder):
    """The same corpus indexed with FAISS + bm25s and with Milvus Lite."""
    files = build(small_corpus, tmp_path / "files", fake_embedder, "faiss")
    milvus = build(small_corpus, tmp_path / "index", fake_embedder, "milvus")
    yield files, milvus
    close_all()


def results(index, embedder, question, mode, filters=None, k=8):
    return [(h.chunk_id, round(h.score, 4)) for h in
            Retriever(index, embedder=embedder).search(question, k=k, mode=mode, filters=filters)]


def test_each_mode_matches_the_files_backends(pair, fake_embedder, tmp_path):
    files, milvus = pair
    assert milvus.manifest["dense"]["backend"] == milvus.manifest["bm25"]["backend"] == "milvus"
    assert milvus.manifest["dense"]["uri"] == "../index.milvus.db"  # beside the index folder, relative
    assert (tmp_path / "index.milvus.db").is_dir() and not (tmp_path / "index" / "index.milvus.db").exists()
    for q in QUESTIONS:
        for mode in ("bm25", "dense", "hybrid"):
            assert results(milvus, fake_embedder, q, mode) == results(files, fake_embedder, q, mode), (q, mode)


def test_filters_become_milvus_expressions_with_the_same_results(pair, fake_embedder):
    files, milvus = pair
    doc = "commissioners-use-of-information-findings"
    for filters in ({"doc_id": doc}, {"source": f"{doc}.txt"}, {"year_from": 1990},
                    {"doc_id": [doc, "animateurs-commissioning-managers-2012"], "year_to": 2100},
                    {"year_from": 2010, "include_undated": True}, {"year_from": 2010, "include_undated": False}):
        for mode in ("bm25", "dense", "hybrid"):
            got = results(milvus, fake_embedder, QUESTIONS[0], mode, filters)
            assert got == results(files, fake_embedder, QUESTIONS[0], mode, filters), (filters, mode)
    hits = Retriever(milvus, embedder=fake_embedder).search(QUESTIONS[1], k=20, filters={"doc_id": doc})
    assert hits and {h.doc_id for h in hits} == {doc}
    # the web chat's default: a year range keeps undated documents (this one has no year)
    assert milvus.documents[doc]["metadata"].get("year") is None
    for undated in (True, False):
        hits = Retriever(milvus, embedder=fake_embedder).search(
            QUESTIONS[1], k=50, filters={"year_from": 2010, "include_undated": undated})
        assert (doc in {h.doc_id for h in hits}) is undated
    assert filter_expression({"kind": 'a "quoted" kind', "journal": ["BMJ", 2014]}) == \
        'kind in ["a \\"quoted\\" kind"] and (metadata["journal"] in ["BMJ"] or metadata["journal"] == 2014)'


def test_add_and_remove_sync_one_document_and_reopen(small_corpus, tmp_path, fake_embedder, monkeypatch):
    folder = tmp_path / "index"
    build(small_corpus, folder, fake_embedder, "milvus")
    (small_corpus / "icb-note.txt").write_text(NOTE)
    logs = []
    added = build_index(Settings(corpus_dir=small_corpus, index_dir=folder), embedder=fake_embedder,
                        log=logs.append, progress=False)  # no backend asked: the index's is kept
    assert added.manifest["dense"]["backend"] == "milvus"
    assert any("2 documents unchanged, 1 inserted" in m for m in logs), logs
    assert any("rewriting all" in m for m in logs), logs  # a small Lite collection: one segment
    assert added.dense.collection.count() == len(added.chunks)
    # BM25 statistics of the whole collection, as the files backend's: the same scores after the add
    files = build(small_corpus, tmp_path / "files", fake_embedder, "faiss")
    question = "integrated care boards July 2022"
    for mode in ("bm25", "hybrid"):
        assert results(added, fake_embedder, question, mode) == results(files, fake_embedder, question, mode)
    assert results(added, fake_embedder, question, "bm25")[0][0] == "icb-note#0"

    (small_corpus / "icb-note.txt").unlink()
    logs.clear()
    removed = build_index(Settings(corpus_dir=small_corpus, index_dir=folder), embedder=fake_embedder,
                          log=logs.append, progress=False)
    assert any("2 documents unchanged, 0 inserted or replaced" in m and "1 deleted" in m for m in logs), logs
    close_all()  # as a new process would: reopen from the folder
    reopened = load_index(folder, corpus_dir=small_corpus)
    differences = settings_match(reopened.manifest, Settings(corpus_dir=small_corpus, index_dir=folder))
    assert not reopened.stale and [d for d in differences if not d.startswith("model")] == []  # backend kept
    for mode in ("bm25", "dense", "hybrid"):
        got = results(reopened, fake_embedder, question, mode, k=50)
        assert got == results(removed, fake_embedder, question, mode, k=50)
        assert all(not c.startswith("icb-note") for c, _ in got)

    # Above LITE_REWRITE_ROWS only the new document is written (in its own Lite segment).
    monkeypatch.setattr("ragcomm.backends.milvus.LITE_REWRITE_ROWS", 0)
    (small_corpus / "icb-note.txt").write_text(NOTE)
    logs.clear()
    added = build_index(Settings(corpus_dir=small_corpus, index_dir=folder), embedder=fake_embedder,
                        log=logs.append, progress=False)
    assert any("2 documents unchanged, 1 inserted or replaced (1 rows), 0 deleted" in m for m in logs), logs
    assert any("new segment" in m for m in logs) and not any("rewriting" in m for m in logs), logs
    assert added.dense.collection.count() == len(added.chunks)
    assert results(added, fake_embedder, question, "dense") == results(files, fake_embedder, question, "dense")


def test_a_collection_out_of_step_is_reported_then_repaired_without_embedding(pair, fake_embedder, tmp_path):
    _, milvus = pair
    c = milvus.dense.collection
    c.client.delete(c.name, filter='doc_id == "animateurs-commissioning-managers-2012"')
    close_all()
    index = load_index(tmp_path / "index")
    with pytest.raises(BackendUnavailable, match=r"holds \d+ rows, the index \d+ chunks: run `ragcomm index --rebuild`"):
        Retriever(index, embedder=fake_embedder).search(QUESTIONS[0], mode="bm25")
    logs = []
    repaired = build_index(Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"),
                           embedder=fake_embedder, log=logs.append, progress=False)
    assert repaired.manifest["counts"]["embedded"] == 0
    assert any("1 inserted or replaced" in m for m in logs), logs
    assert Retriever(repaired, embedder=fake_embedder).search(QUESTIONS[0], mode="bm25")


def test_an_index_opened_with_the_other_backend_is_refused_clearly(pair, tmp_path):
    with pytest.raises(IndexMismatch, match="built with the 'milvus' vector backend, not 'faiss'.*--backend faiss"):
        load_index(tmp_path / "index", backend="faiss")
    with pytest.raises(IndexMismatch, match="built with the 'faiss' vector backend, not 'milvus'.*--backend milvus"):
        load_index(tmp_path / "files", backend="milvus")
    # Asking for the other backend (or another Milvus) is a difference that `ragcomm index` rebuilds for.
    assert any("vector backend" in d for d in settings_match(pair[1].manifest, Settings(
        index_dir=tmp_path / "index", vector_backend="faiss")))
    assert any("Milvus location" in d for d in settings_match(pair[1].manifest, Settings(
        index_dir=tmp_path / "index", milvus_collection="another")))


def test_a_lite_database_inside_the_index_folder_and_a_missing_extra_are_one_line(small_corpus, tmp_path,
                                                                                  fake_embedder, monkeypatch):
    with pytest.raises(ValueError, match="cannot live inside the index folder"):
        build_index(Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", vector_backend="milvus",
                             milvus_uri=str(tmp_path / "index" / "milvus.db")), embedder=fake_embedder,
                    log=lambda *_: None)
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(MissingExtra, match=r"pip install 'ragcomm\[milvus\]'"):
        build_index(Settings(corpus_dir=small_corpus, index_dir=tmp_path / "other", vector_backend="milvus"),
                    embedder=fake_embedder, log=lambda *_: None)


@pytest.mark.slow
def test_cli_with_the_real_model_index_search_ask_add_remove(real_index, tmp_path, capsys):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(real_index.corpus_dir, corpus)
    shutil.copytree(real_index.index_dir, index)  # a FAISS index: its vectors are reused
    paths = ["--corpus", str(corpus), "--index", str(index)]
    try:
        assert main(["index", "--backend", "milvus", *paths]) == 0
        out = capsys.readouterr().out
        assert "dense milvus flat (collection ragcomm_index at ../index.milvus.db)" in out
        manifest = json.loads((index / "manifest.json").read_text())
        assert manifest["counts"]["embedded"] == 0 and manifest["bm25"]["backend"] == "milvus"
        assert main(["index", *paths]) == 0 and "up to date" in capsys.readouterr().out

        faiss = Retriever(load_index(real_index.index_dir))
        milvus = Retriever(load_index(index))
        for q in ("What is an animateur?", "How do commissioners use information?"):
            for mode in ("dense", "bm25", "hybrid"):
                a = [h.chunk_id for h in faiss.search(q, k=5, mode=mode)]
                assert [h.chunk_id for h in milvus.search(q, k=5, mode=mode)] == a, (q, mode)

        question = ("What got in the way of commissioning managers sharing information and building contacts "
                    "inside and outside their PCT?")
        answers = []
        for folder in (real_index.index_dir, index):
            assert main(["ask", question, "--json", "--corpus", str(corpus), "--index", str(folder)]) == 0
            answers.append(json.loads(capsys.readouterr().out))
        assert answers[1]["citations"] and not answers[1]["abstained"]
        assert answers[1]["citations"] == answers[0]["citations"]  # the same sentences cited, same offsets

        note = tmp_path / "icb-note.txt"
        note.write_text("Integrated care boards\n\nIntegrated care boards took over the commissioning duties of "
                        "clinical commissioning groups in July 2022.\n")
        assert main(["add", str(note), *paths]) == 0
        assert json.loads((index / "manifest.json").read_text())["counts"]["embedded"] == 1
        capsys.readouterr()
        assert main(["search", "integrated care boards took over CCG duties", "-k", "1", "--json", "--source",
                     "icb-note.txt", *paths]) == 0
        assert json.loads(capsys.readouterr().out)["results"][0]["doc_id"] == "icb-note"
        assert main(["remove", "icb-note", *paths]) == 0
        capsys.readouterr()
        assert main(["search", "integrated care boards July 2022", "-k", "20", "--json", *paths]) == 0
        assert "icb-note" not in {h["doc_id"] for h in json.loads(capsys.readouterr().out)["results"]}
    finally:
        close_all()


def test_a_lite_database_held_by_another_process_is_one_clear_line(pair, tmp_path):
    import subprocess

    pair[1].dense.collection.check()  # this process holds the Lite database open
    run = subprocess.run([sys.executable, "-m", "ragcomm", "search", "commissioning", "--mode", "bm25",
                          "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]  # one line, no traceback
    assert "Milvus Lite serves one process" in run.stderr
