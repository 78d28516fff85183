"""Shared fixtures: the real corpus, a small fake embedder for unit tests, and one index
built with the real model (once per test session) for integration tests."""
from __future__ import annotations

import hashlib
import re
import shutil
from contextlib import contextmanager
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
def app_log_path(tmp_path_factory):
    """Where the session's app (app_url) writes its log: tests read it for tracebacks."""
    return tmp_path_factory.mktemp("app") / "app.log"


@contextmanager
def serving(index_dir, corpus_dir, log_path, args: tuple = (), timeout: float = 180):
    """The app launched as a subprocess on a free port (its log in `log_path`); its base URL,
    stopped on leaving."""
    from ragcomm.bench.launch import launch_app, stop_app

    with open(log_path, "w") as log:
        try:
            proc, url = launch_app(index_dir, corpus_dir, args=args, log=log, timeout=timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see {log.name}") from exc
        try:
            yield url
        finally:
            stop_app(proc)


@pytest.fixture(scope="session")
def app_url(real_index, app_log_path):
    """app.py launched as a subprocess on a free port over the real index; its base URL."""
    with serving(real_index.index_dir, real_index.corpus_dir, app_log_path, timeout=120) as url:
        yield url


# ---------------------------------------------------------------- generated answers (issue 17)
# The real local language model (llama.cpp's server with SmolLM2-135M, answer/llamacpp.py)
# and an answerer over the real index.
@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """The local model server in a child process on 127.0.0.1 (1 thread), stopped at the end."""
    from ragcomm.answer.llamacpp import LocalServer
    from ragcomm.extras import MissingExtra

    log = open(tmp_path_factory.mktemp("llm") / "server.log", "w")
    server = LocalServer(threads=1, log=log, timeout=300)
    try:
        server.start()
    except MissingExtra as exc:
        log.close()
        pytest.skip(f"the local model cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()
        log.close()


@pytest.fixture(scope="session")
def real_answerer(real_index):
    from ragcomm import Retriever, load_index
    from ragcomm.answer import Answerer

    return Answerer(Retriever(load_index(real_index.index_dir, corpus_dir=real_index.corpus_dir),
                              settings=real_index))


# ---------------------------------------------------------------- serve (#15)

@pytest.fixture(scope="session")
def managed_app(tmp_path_factory):
    """The app over a copy of two corpus files with its own index: for adding and removing
    documents without touching the repository's corpus. (base URL, corpus folder)."""
    root = tmp_path_factory.mktemp("managed")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    with serving(root / "index", corpus, root / "app.log") as url:
        yield url, corpus


# ---------------------------------------------------------------- the chat with a language model (#17)

def with_llm(real_index, tmp_path_factory, name, llm_url):
    """The app over the real index, started with --generator openai at `llm_url`."""
    args = ("--generator", "openai", "--llm-url", llm_url, "--llm-model", "smollm2", "--llm-timeout", "600")
    return serving(real_index.index_dir, real_index.corpus_dir, tmp_path_factory.mktemp(name) / "app.log",
                   args=args)


@pytest.fixture(scope="session")
def llm_app_url(real_index, llm_server, tmp_path_factory):
    """The app started with --generator openai over the local model server; its base URL."""
    with with_llm(real_index, tmp_path_factory, "llm-app", llm_server.url) as url:
        yield url


@pytest.fixture(scope="session")
def dead_llm_app_url(real_index, tmp_path_factory):
    """The app started with --generator openai and an endpoint where nothing listens; its base URL."""
    from ragcomm.bench.launch import free_port

    with with_llm(real_index, tmp_path_factory, "dead-llm-app", f"http://127.0.0.1:{free_port()}/v1") as url:
        yield url


# ---------------------------------------------------------------- a real browser (serve tests)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots, git-ignored
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """One headless Debian chromium (Playwright) for a test module; its tests are skipped, with
    the reason, where none is installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make browser)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield browser
        browser.close()
