"""The shared analyzer, the two BM25 backends, and FAISS exact / IVF / HNSW."""
import numpy as np
import pytest

from ragcomm.backends import analyze, build_lexical, build_vector
from ragcomm.backends.faiss import FaissBackend


def test_analyzer_is_shared_and_english():
    assert analyze("The Commissioning of services by GPs") == ["commiss", "servic", "gps"]
    assert analyze("The Commissioning", "plain") == ["the", "commissioning"]


@pytest.mark.parametrize("backend", ["bm25s", "rank-bm25"])
def test_lexical_backends_rank_the_same_document_first(backend):
    texts = ["GP leads commission hospital services", "pharmacy technicians train across sectors",
             "patients navigate new practitioner roles"]
    lex = build_lexical(texts, backend=backend)
    ids, scores = lex.top("training of pharmacy technicians", 3)
    assert ids[0] == 1 and scores[0] > 0
    assert list(lex.top("zzzz unknown", 3)[0]) == []


def test_dense_exact_ivf_and_hnsw_agree(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(2000, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    flat = build_vector(v, ann_threshold=5000)
    ivf = build_vector(v, ann_threshold=10)  # chosen by size: approximate above the threshold
    hnsw = build_vector(v, ann_threshold=10, ann_kind="hnsw")
    assert (flat.kind, ivf.kind, hnsw.kind) == ("flat", "ivf", "hnsw")
    ids, scores = flat.search(v[42], 5)
    assert ids[0] == 42 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert ivf.search(v[42], 5)[0][0] == 42 and hnsw.search(v[42], 5)[0][0] == 42
    ivf.save(tmp_path)
    loaded = FaissBackend.load(tmp_path, v, nprobe=64)
    assert loaded.kind == "ivf" and loaded.index.nprobe == 64 and loaded.search(v[7], 1)[0][0] == 7
    flat.save(tmp_path / "flat")  # nothing to write: an exact index is rebuilt from the vectors
    assert FaissBackend.load(tmp_path / "flat", v).kind == "flat"


def test_filtered_search_is_exact_over_the_allowed_vectors():
    v = np.eye(4, dtype=np.float32)
    backend = build_vector(v)
    mask = np.array([True, False, True, True])
    ids, scores = backend.search(np.array([0.1, 1.0, 0.0, 0.0]), 2, mask)
    assert ids.tolist() == [0, 2] and scores[0] == pytest.approx(0.1)
    assert backend.search(v[0], 2, np.zeros(4, dtype=bool))[0].tolist() == []
