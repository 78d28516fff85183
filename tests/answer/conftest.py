"""The real local language model (llama.cpp's server with SmolLM2-135M, answer/llamacpp.py)
and an answerer over the real index, for the generated-answer tests."""
from __future__ import annotations

import pytest


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
