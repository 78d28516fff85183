"""Ray embedding on a local two-actor cluster: the single process's vectors, a clean shutdown."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]
ray = pytest.importorskip("ray", reason="the ray extra is installed by `make setup`")
psutil = pytest.importorskip("psutil")

import numpy as np  # noqa: E402

from ragcomm import Settings  # noqa: E402
from ragcomm.chunking import embed_text  # noqa: E402
from ragcomm.embed import get_embedder  # noqa: E402
from ragcomm.embed.ray import RayEmbedder, ray_cluster  # noqa: E402
from ragcomm.index import build_index, chunk_corpus, load_index  # noqa: E402
from ragcomm.ingest import load_corpus  # noqa: E402

from conftest import CORPUS  # noqa: E402


def ray_processes() -> list:
    """Ray processes started by this test process (its descendants, but for the file-reading
    workers of ingest/worker.py, which a build keeps for its next file)."""
    return [p for p in psutil.Process().children(recursive=True)
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
            and "ragcomm.ingest.worker" not in " ".join(p.cmdline())]


def test_two_actors_give_the_single_process_vectors_and_leave_no_process(small_corpus, tmp_path):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    local = get_embedder(settings.model, settings.embed_backend)
    docs, _ = load_corpus(CORPUS)
    titles = {d.doc_id: d.title for d in docs}
    texts = [embed_text(titles[c.doc_id], c.section, c.text) for c in chunk_corpus(docs, settings, local.fits)][:150]
    reference = local.encode(texts, batch_size=32)
    before = {p.pid for p in ray_processes()}
    with ray_cluster(None, actors=2, log=lambda *_: None):
        nodes = ray.nodes()
        assert [n["NodeManagerAddress"] for n in nodes] == ["127.0.0.1"]
        assert ray_processes(), "a local cluster was started"
        listening = {c.laddr.ip for p in [psutil.Process(), *ray_processes()]
                     for c in getattr(p, "net_connections", p.connections)(kind="inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening and listening <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, listening  # loopback only
        embedder = RayEmbedder(settings.model, settings.embed_backend, actors=2)
        vectors = embedder.encode(texts, batch_size=32)
        assert np.abs(vectors - reference).max() <= 1e-5
        # A whole build through Ray: the same index as the single process would make.
        index = build_index(settings, embedder=embedder, log=lambda *_: None, progress=False)
    assert not ray.is_initialized()
    assert [p.pid for p in ray_processes() if p.pid not in before] == []  # no stray Ray workers
    single = build_index(settings.replace(index_dir=tmp_path / "single"), log=lambda *_: None, progress=False)
    assert np.abs(index.vectors - single.vectors).max() <= 1e-5
    assert load_index(tmp_path / "index").manifest["model"]["backend"] == settings.embed_backend


def test_a_missing_extra_is_one_line(monkeypatch):
    import sys

    from ragcomm.extras import MissingExtra

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtra, match=r"pip install 'ragcomm\[ray\]'"):
        with ray_cluster(None):
            pass
