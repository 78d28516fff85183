"""The ONNX backends: same vectors as torch (within quantisation error), recorded in the
manifest, used again at query time, and a mismatch is one clear error.

The ONNX export is made once per test session in a temporary cache folder."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from ragcomm import Retriever, Settings, build_index, load_index
from ragcomm.chunking import embed_text
from ragcomm.index import IndexMismatch, chunk_corpus, open_index
from ragcomm.ingest import load_corpus

from conftest import CORPUS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    """RAGCOMM_CACHE pointed at a fresh folder for the session (so the export is tested too)."""
    from ragcomm.embed import get_embedder

    folder = tmp_path_factory.mktemp("ragcomm-cache")
    before = os.environ.get("RAGCOMM_CACHE")
    os.environ["RAGCOMM_CACHE"] = str(folder)
    get_embedder.cache_clear()
    yield folder
    get_embedder.cache_clear()
    if before is None:
        os.environ.pop("RAGCOMM_CACHE", None)
    else:
        os.environ["RAGCOMM_CACHE"] = before


@pytest.fixture(scope="session")
def corpus_texts():
    """Every third chunk of the real corpus, as embedded at build time."""
    from ragcomm.embed import get_embedder

    docs, _ = load_corpus(CORPUS)
    titles = {d.doc_id: d.title for d in docs}
    chunks = chunk_corpus(docs, Settings(), get_embedder(Settings().model, "torch").fits)
    return [embed_text(titles[c.doc_id], c.section, c.text) for c in chunks][::3]


@pytest.fixture(scope="session")
def torch_vectors(corpus_texts):
    from ragcomm.embed import get_embedder

    return get_embedder(Settings().model, "torch").encode(corpus_texts)


@pytest.mark.parametrize("backend,floor", [("onnx", 0.9999), ("onnx-int8", 0.99)])
def test_onnx_vectors_match_torch(onnx_cache, corpus_texts, torch_vectors, backend, floor):
    from ragcomm.embed import get_embedder

    embedder = get_embedder(Settings().model, backend)
    assert embedder.backend == backend and embedder.model_id == get_embedder(Settings().model).model_id
    vectors = embedder.encode(corpus_texts, batch_size=16)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * torch_vectors).sum(axis=1)
    assert cosines.min() > floor, f"worst cosine {cosines.min():.5f}"
    # Alone, a text embeds as in its batch: exactly in fp32; int8 quantises activations with
    # one scale per batch, so there it moves a little.
    alone = float(embedder.encode_query(corpus_texts[0]) @ vectors[0])
    assert alone > (0.99999 if backend == "onnx" else 0.995)
    # Same tokenizer, so chunking (which asks `fits`) cuts the corpus identically.
    torch_embedder = get_embedder(Settings().model, "torch")
    assert [embedder.count_tokens(t) for t in corpus_texts] == [torch_embedder.count_tokens(t) for t in corpus_texts]


def test_export_is_cached(onnx_cache):
    from ragcomm.embed import get_embedder

    embedder = get_embedder(Settings().model, "onnx-int8")
    folders = [p for p in (onnx_cache / "onnx").iterdir()]
    assert folders == [embedder.folder]
    assert {p.name for p in embedder.folder.iterdir()} == {"model.onnx", "model-int8.onnx", "tokenizer.json",
                                                          "meta.json"}
    assert json.loads((embedder.folder / "meta.json").read_text())["max_seq_length"] == embedder.max_seq_length


def test_unknown_backend_is_a_clear_error():
    from ragcomm.embed import get_embedder

    with pytest.raises(ValueError, match="unknown embedding backend 'tensorflow'"):
        get_embedder(Settings().model, "tensorflow")


@pytest.fixture(scope="module")
def int8_index(onnx_cache, tmp_path_factory):
    folder = tmp_path_factory.mktemp("int8") / "index"
    corpus = tmp_path_factory.mktemp("int8-corpus")
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        (corpus / name).write_bytes((CORPUS / name).read_bytes())
    settings = Settings(corpus_dir=corpus, index_dir=folder, embed_backend="onnx-int8")
    build_index(settings, log=lambda *_: None, progress=False)
    return settings


def test_manifest_records_the_backend(int8_index):
    manifest = json.loads((int8_index.index_dir / "manifest.json").read_text())
    assert manifest["model"]["backend"] == "onnx-int8"
    assert manifest["model"]["id"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_retriever_embeds_queries_with_the_manifest_backend(int8_index):
    index = load_index(int8_index.index_dir)
    retriever = Retriever(index)  # no embedder given: it follows the manifest, not Settings()
    assert retriever.embedder.backend == "onnx-int8"
    # Same numbers: a chunk's own text, as a query, gives back its stored vector (up to the
    # per-batch activation scale of int8; a torch query would be further off).
    text = index.chunk_text_for_index(3)
    assert float(retriever.embedder.encode_query(text) @ index.vectors[3]) > 0.995
    hits = retriever.search(text, k=1, mode="dense")
    assert hits[0].chunk_id == index.chunks[3].chunk_id


def test_backend_mismatch_is_a_clear_error(int8_index):
    from ragcomm.embed import get_embedder

    index = load_index(int8_index.index_dir)
    retriever = Retriever(index, embedder=get_embedder(Settings().model, "torch"))
    with pytest.raises(IndexMismatch, match="embedded with the 'onnx-int8' backend.*'torch'"):
        retriever.search("commissioning managers", mode="dense")
    # Asking for another backend makes the index out of date, not silently reused.
    with pytest.raises(IndexMismatch, match="embedding backend: built 'onnx-int8', asked 'torch'"):
        open_index(int8_index.replace(embed_backend="torch"), build=False)


def test_cli_index_takes_the_backend(onnx_cache, small_corpus, tmp_path, capsys):
    from ragcomm.cli import main

    folder = tmp_path / "index"
    assert main(["index", "--corpus", str(small_corpus), "--index", str(folder), "--embed-backend", "onnx",
                 "--no-progress"]) == 0
    assert "onnx" in capsys.readouterr().out
    assert json.loads((folder / "manifest.json").read_text())["model"]["backend"] == "onnx"
