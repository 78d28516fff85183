"""Sentence vectors in the index (issue #14): stored when the index is built with sentence
scoring on, reused by content hash, checked on load; an index without them still loads and
the search embeds its sentences on demand with the same results."""
import json
import shutil

import numpy as np
import pytest

from ragcomm import IndexCorrupt, Settings, build_index, load_index
from ragcomm.index import settings_match
from ragcomm.search import Retriever


def build(small_corpus, folder, embedder, log=lambda *_: None, **retrieval):
    settings = Settings(corpus_dir=small_corpus, index_dir=folder, model="fake-hash-embedder").replace(**retrieval)
    return settings, build_index(settings, embedder=embedder, log=log, progress=False)


def test_sentence_vectors_are_stored_and_give_the_same_search(small_corpus, tmp_path, fake_embedder):
    settings, index = build(small_corpus, tmp_path / "with", fake_embedder, dense_sentences="max")
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    count = manifest["sentences"]["count"]
    assert count > len(index.chunks) and manifest["sentences"]["embedded"] > 0
    assert {"sentence_vectors.npy", "sentence_chunks.npy"} <= set(manifest["files"])
    assert manifest["retrieval"]["dense_sentences"] == "max"
    loaded = load_index(settings.index_dir)
    assert loaded.sentence_vectors.shape == (count, fake_embedder.dim)
    assert np.all(np.diff(loaded.sentence_chunks) >= 0)
    # one chunk's stored rows are its sentences' vectors
    first = loaded.chunks[0]
    from ragcomm.chunking import sentence_spans

    rows = loaded.sentence_vectors[loaded.sentence_chunks == 0]
    expected = fake_embedder.encode([first.text[a:b] for a, b in sentence_spans(first.text)])
    assert np.allclose(rows, expected)

    _, plain = build(small_corpus, tmp_path / "without", fake_embedder, dense_sentences="off")
    assert plain.sentence_vectors is None and "sentences" not in plain.manifest
    stored = Retriever(loaded, embedder=fake_embedder)  # the index records sentences "max"
    assert stored.settings.dense_sentences == "max"
    on_demand = Retriever(load_index(tmp_path / "without"), embedder=fake_embedder,
                          settings=Settings().replace(dense_sentences="max"))
    question = "what did commissioners use information for?"
    a, b = stored.retrieve(question, k=8), on_demand.retrieve(question, k=8)
    assert [h.chunk_id for h in a.hits] == [h.chunk_id for h in b.hits]
    assert [h.dense_score for h in a.hits] == pytest.approx([h.dense_score for h in b.hits], abs=1e-5)
    assert on_demand.sentences.vectors  # embedded on demand, kept


def test_rebuild_reuses_sentence_vectors(small_corpus, tmp_path, fake_embedder):
    folder = tmp_path / "index"
    build(small_corpus, folder, fake_embedder, dense_sentences="max")
    messages = []
    build(small_corpus, folder, fake_embedder, log=messages.append, dense_sentences="max")
    assert any(m.startswith("embedding 0 sentences") for m in messages), messages
    assert json.loads((folder / "manifest.json").read_text())["sentences"]["embedded"] == 0


def test_sentence_vectors_wanted_but_missing_is_a_settings_change(small_corpus, tmp_path, fake_embedder):
    settings, index = build(small_corpus, tmp_path / "index", fake_embedder, dense_sentences="off")
    assert settings_match(index.manifest, settings) == []
    wanted = settings.replace(dense_sentences="max")
    assert settings_match(index.manifest, wanted) == ["sentence vectors: built False, asked True"]
    _, with_sentences = build(small_corpus, tmp_path / "with", fake_embedder, dense_sentences="mean")
    assert settings_match(with_sentences.manifest, settings) == []  # extra sentence vectors do no harm


def test_damaged_sentence_vectors_are_detected(small_corpus, tmp_path, fake_embedder):
    settings, _ = build(small_corpus, tmp_path / "index", fake_embedder, dense_sentences="max")
    broken = tmp_path / "broken"
    shutil.copytree(settings.index_dir, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["sentences"]["count"] += 1
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="sentence vectors .* do not match"):
        load_index(broken)
    np.save(settings.index_dir / "sentence_chunks.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(IndexCorrupt, match="checksum"):
        load_index(settings.index_dir)


def test_a_rebuild_for_a_changed_corpus_keeps_the_recorded_search_settings(small_corpus, tmp_path, fake_embedder):
    from ragcomm.index import open_index

    folder = tmp_path / "index"
    build(small_corpus, folder, fake_embedder, fusion="rrf", rrf_k=20, dense_sentences="off")
    (small_corpus / "extra.txt").write_text("Integrated care boards commission community services.\n")
    settings = Settings(corpus_dir=small_corpus, index_dir=folder, model="fake-hash-embedder",
                        dense_sentences="off")
    index = open_index(settings, embedder=fake_embedder, log=lambda *_: None)
    assert index.manifest["counts"]["documents"] == 3  # rebuilt for the new file
    recorded = index.manifest["retrieval"]
    assert (recorded["fusion"], recorded["rrf_k"]) == ("rrf", 20)


def test_an_index_built_without_sentence_vectors_is_not_rebuilt_for_them(small_corpus, tmp_path, fake_embedder):
    """`ragcomm index --sentences off` (large corpora) is what the app opens, not a reason to
    rebuild at every start with the default (sentence scoring on)."""
    from ragcomm.index import open_index

    folder = tmp_path / "index"
    build(small_corpus, folder, fake_embedder, dense_sentences="off")
    logs = []
    settings = Settings(corpus_dir=small_corpus, index_dir=folder, model="fake-hash-embedder")  # the defaults
    index = open_index(settings, embedder=fake_embedder, log=logs.append)
    assert not logs and "sentences" not in index.manifest and index.sentence_vectors is None
    assert Retriever(index, embedder=fake_embedder).settings.dense_sentences == "off"  # searched as recorded
