"""The app (REST API and chat) over an index built with the Milvus backend: it serves from
Milvus Lite as built, answers as the files backends do, keeps undated documents under a year
filter, and adds and removes documents in Milvus while it serves."""
from __future__ import annotations

import json
import shutil

import pytest

from ragcomm.cli import main

from conftest import CORPUS
from test_rest import as_json, call, multipart, wait_for_update

pytestmark = [pytest.mark.milvus, pytest.mark.slow]
pytest.importorskip("pymilvus", reason="the milvus extra is installed by `make setup`")
psutil = pytest.importorskip("psutil")

FILES = ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt")


@pytest.fixture(scope="module")
def milvus_app(tmp_path_factory):
    """(base URL, corpus, FAISS index folder, Milvus index folder): the app serving a Milvus
    index of two corpus files; the FAISS index of the same files beside it, for comparison."""
    from ragcomm.backends.milvus import close_all
    from ragcomm.bench.launch import launch_app, stop_app

    root = tmp_path_factory.mktemp("milvus-app")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, corpus / name)
    paths = ["--corpus", str(corpus), "--no-progress"]
    assert main(["index", *paths, "--index", str(root / "files")]) == 0
    shutil.copytree(root / "files", root / "index")
    assert main(["index", "--backend", "milvus", *paths, "--index", str(root / "index")]) == 0  # vectors reused
    close_all()  # Milvus Lite serves one process: the app's
    log = open(root / "app.log", "w")
    proc, url = launch_app(root / "index", corpus, log=log, timeout=180)
    children = psutil.Process(proc.pid).children(recursive=True)
    try:
        yield url, corpus, root / "files", root / "index"
    finally:
        stop_app(proc)
        log.close()
        _, alive = psutil.wait_procs([c for c in children if c.is_running()], timeout=20)
        assert alive == [], f"processes left by the app: {alive}"  # Milvus Lite's server stopped with it


def test_the_app_serves_the_milvus_index_as_the_files_backends_answer(milvus_app, capsys):
    from ragcomm.bench.launch import launch_app, stop_app

    url, corpus, files, index = milvus_app
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["dense"]["backend"] == manifest["bm25"]["backend"] == "milvus"
    question = "What got in the way of commissioning managers sharing information?"
    status, row = as_json(call(url + "api/ask", "POST", {"question": question}))
    assert status == 200 and row["citations"] and not row["abstained"]
    proc, files_url = launch_app(files, corpus, timeout=180)  # the same app over the FAISS + bm25s index
    try:
        status, other = as_json(call(files_url + "api/ask", "POST", {"question": question}))
    finally:
        stop_app(proc)
    assert row["answer"] == other["answer"]
    assert [(c["chunk_id"], c["start"], c["end"]) for c in row["citations"]] == \
        [(c["chunk_id"], c["start"], c["end"]) for c in other["citations"]]
    for mode in ("bm25", "dense", "hybrid"):
        status, row = as_json(call(url + "api/search", "POST", {"question": question, "k": 5, "mode": mode}))
        assert main(["search", question, "-k", "5", "--mode", mode, "--json", "--index", str(files),
                     "--corpus", str(corpus)]) == 0
        cli = json.loads(capsys.readouterr().out)
        assert status == 200 and [h["chunk_id"] for h in row["results"]] == [h["chunk_id"] for h in cli["results"]]


def test_a_year_filter_keeps_undated_documents_in_milvus_unless_asked(milvus_app):
    url = milvus_app[0]

    def docs(filters):
        status, row = as_json(call(url + "api/search", "POST", {"question": "commissioners use of information",
                                                                "k": 50, "filters": filters}))
        assert status == 200, row
        return {r["doc_id"]: r["metadata"].get("year") for r in row["results"]}

    kept = docs({"year_from": 2010})
    assert None in kept.values() and 2012 in kept.values()
    assert set(docs({"year_from": 2010, "include_undated": False}).values()) == {2012}


def test_documents_added_and_removed_while_serving_go_to_milvus(milvus_app):
    url, corpus, _, index = milvus_app
    text = (b"Dental commissioning note\n\nNHS dental services in England are commissioned by integrated care "
            b"boards, which took over dental commissioning from NHS England in 2023.\n")
    body, headers = multipart("dental-commissioning-note.txt", text)
    status, job = as_json(call(url + "api/documents", "POST", raw=body, headers=headers))
    assert status == 202
    assert wait_for_update(url, timeout=180)["job"]["state"] == "done"
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["dense"]["backend"] == "milvus" and manifest["counts"]["embedded"] == 1  # one new chunk
    status, row = as_json(call(url + "api/search", "POST", {"question": "who commissions NHS dental services",
                                                            "k": 3, "mode": "bm25"}))
    assert row["results"][0]["source"] == "dental-commissioning-note.txt"

    assert call(url + "api/documents/dental-commissioning-note.txt", "DELETE")[0] == 202
    assert wait_for_update(url, timeout=180)["job"]["state"] == "done"
    status, row = as_json(call(url + "api/search", "POST", {"question": "who commissions NHS dental services",
                                                            "k": 50, "mode": "bm25"}))
    assert "dental-commissioning-note.txt" not in {h["source"] for h in row["results"]}
    state = json.loads((index / "milvus.json").read_text())  # the rows the collection holds
    assert len(state["ids"]) == json.loads((index / "manifest.json").read_text())["counts"]["chunks"]
    assert not any(i.startswith("dental-commissioning-note") for i in state["ids"])
