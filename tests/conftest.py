"""Shared fixtures: the real corpus, a small fake embedder for unit tests, and one index
built with the real model (once per test session) for integration tests."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


class FakeEmbedder:
    """Deterministic hashed bag of words: for unit tests of index and fusion logic only."""

    model_id = "fake-hash-embedder"
    dim = 64
    max_seq_length = 10_000
    backend = "fake"

    def count_tokens(self, text):
        return len(text.split())

    def fits(self, text):
        return True

    def encode(self, texts, batch_size=32, progress=False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[row, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def encode_query(self, text):
        return self.encode([text])[0]


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def small_corpus(tmp_path):
    """A copy of two real corpus files in a temporary folder."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    """The real corpus indexed with the real model and default settings, built once."""
    from ragcomm import Settings, build_index

    folder = tmp_path_factory.mktemp("real") / "index"
    settings = Settings(corpus_dir=CORPUS, index_dir=folder)
    build_index(settings, log=lambda *_: None, progress=False)
    return settings


@pytest.fixture(scope="session")
def app_url(real_index, tmp_path_factory):
    """app.py launched as a subprocess on a free port over the real index; its base URL."""
    from ragcomm.bench.launch import launch_app, stop_app

    log = open(tmp_path_factory.mktemp("app") / "app.log", "w")
    try:
        proc, url = launch_app(real_index.index_dir, real_index.corpus_dir, log=log, timeout=120)
    except RuntimeError as exc:
        log.close()
        raise RuntimeError(f"{exc}; see {log.name}") from exc
    try:
        yield url
    finally:
        stop_app(proc)
        log.close()


# ---------------------------------------------------------------- serve (#15)

@pytest.fixture(scope="session")
def managed_app(tmp_path_factory):
    """The app over a copy of two corpus files with its own index: for adding and removing
    documents without touching the repository's corpus. (base URL, corpus folder)."""
    from ragcomm.bench.launch import launch_app, stop_app

    root = tmp_path_factory.mktemp("managed")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    log = open(root / "app.log", "w")
    proc, url = launch_app(root / "index", corpus, log=log, timeout=180)
    try:
        yield url, corpus
    finally:
        stop_app(proc)
        log.close()
