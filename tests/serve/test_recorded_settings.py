"""The app searches with the search settings its index recorded (`ragcomm index --fusion ...`,
issue #14), through the REST API as through the CLI, and an update made from the app keeps them."""
import json
import shutil

import pytest

from ragcomm import Settings
from ragcomm.cli import main
from ragcomm.index import load_index
from ragcomm.search import Retriever
from tests.conftest import CORPUS
from tests.serve.test_rest import as_json, call, multipart, wait_for_update

# not the defaults: RRF with k = 20, no sentence vectors
RECORDED = {"fusion": "rrf", "rrf_k": 20, "dense_sentences": "off"}


@pytest.fixture(scope="module")
def rrf_app(tmp_path_factory):
    """The app launched over a one-file corpus indexed with RECORDED; (base URL, corpus, index)."""
    from ragcomm.bench.launch import launch_app, stop_app

    root = tmp_path_factory.mktemp("recorded")
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir()
    shutil.copy(CORPUS / "animateurs-commissioning-managers-2012.txt", corpus)
    assert main(["index", "--corpus", str(corpus), "--index", str(index), "--no-progress", "--fusion", "rrf",
                 "--rrf-k", "20", "--sentences", "off"]) == 0
    log = open(root / "app.log", "w")
    proc, url = launch_app(index, corpus, log=log, timeout=180)
    try:
        yield url, corpus, index
    finally:
        stop_app(proc)
        log.close()


def test_rest_search_uses_the_recorded_settings_and_an_update_keeps_them(rrf_app):
    url, corpus, index = rrf_app
    question = "what makes a good commissioning manager?"
    status, row = as_json(call(url + "api/search", "POST", {"question": question, "k": 4}))
    assert status == 200
    recorded = Retriever(load_index(index), settings=Settings().replace(**RECORDED)).search(question, k=4)
    default = Retriever(load_index(index), settings=Settings()).search(question, k=4)
    got = [r["fused_score"] for r in row["results"]]
    assert [r["chunk_id"] for r in row["results"]] == [h.chunk_id for h in recorded]
    assert got == pytest.approx([h.fused_score for h in recorded], abs=1e-4)
    assert got != pytest.approx([h.fused_score for h in default], abs=1e-4)  # RRF's scale, not z-scores'

    text = (b"Dental commissioning note\n\nNHS dental services in England are commissioned by integrated care "
            b"boards, which took over dental commissioning from NHS England in 2023.\n")
    body, headers = multipart("dental-note.txt", text)
    assert call(url + "api/documents", "POST", raw=body, headers=headers)[0] == 202
    assert wait_for_update(url)["job"]["state"] == "done"
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["counts"]["documents"] == 2
    assert {k: manifest["retrieval"][k] for k in RECORDED} == RECORDED and "sentences" not in manifest
    status, row = as_json(call(url + "api/search", "POST", {"question": question, "k": 4}))
    after = Retriever(load_index(index), settings=Settings().replace(**RECORDED)).search(question, k=4)
    assert [r["fused_score"] for r in row["results"]] == pytest.approx([h.fused_score for h in after], abs=1e-4)
