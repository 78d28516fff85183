"""Embedding with Ray Data over a pool of actors (optional extra `ray`).

    with ray_cluster(None, actors=2):                  # a local Ray on 127.0.0.1, shut down after
        vectors = RayEmbedder("all-MiniLM-L6-v2", "onnx-int8", actors=2).encode(texts)

`RayEmbedder` has the Embedder protocol, so `build_index(settings, embedder=...)` uses it
like any other: queries, token counts and the content-hash reuse stay in this process, and
only `encode` goes to the actors (`map_batches` over an `ActorPoolStrategy`; each actor loads
the model once). The texts are cut into exactly the batches the single process makes (ONNX
int8 scales activations per batch, so a text's vector depends on its batch-mates), and each
batch goes to an actor whole: the vectors equal the single-process ones.

A local cluster (no address) runs in Ray's single-machine mode (the one Ray uses on macOS):
its node address is 127.0.0.1 and every Ray server binds there only (by default a Linux head
picks the machine's address and listens on all interfaces; `_node_ip_address="127.0.0.1"` is
overridden by Ray). No dashboard; Ray's token authentication stays on. On leaving
`ray_cluster`, Ray is shut down and any of its processes this process started that outlive
`ray.shutdown()` are stopped. A running cluster is reached by its ADDRESS; its
token comes from RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH, as Ray reads them.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager

import numpy as np

from ..extras import require


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextmanager
def ray_cluster(address: str | None = None, actors: int = 2, log=print):
    """Ray connected for the duration: to `address`, or a local cluster started here and
    shut down (with every worker it started) on leaving."""
    ray = require("ray", "ray")
    require("ray.data", "ray")
    psutil = require("psutil", "ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    if address:
        log(f"Ray: connecting to {address}")
        ray.init(address=address, log_to_driver=False, logging_level="WARNING")
    else:
        log("Ray: starting a local cluster on 127.0.0.1")
        with single_machine_mode():
            ray.init(num_cpus=max(cpu_count(), actors + 1), include_dashboard=False, log_to_driver=False,
                     logging_level="WARNING")
    started = [] if address else [p for p in me.children(recursive=True) if p.pid not in before]
    try:
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        yield ray
    finally:
        ray.shutdown()
        stop_processes(psutil, started + [p for p in me.children(recursive=True) if p.pid not in before])


@contextmanager
def single_machine_mode():
    """Ray's own switch for a one-machine cluster (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read
    when Ray is imported, so the imported constant is set too): the node address is the
    loopback one, and Ray's servers bind to it."""
    from ray._private import ray_constants

    saved = os.environ.get(ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop(ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR, None)
        else:
            os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = saved[0]
        ray_constants.ENABLE_RAY_CLUSTER = saved[1]


def stop_processes(psutil, processes, grace: float = 10.0) -> None:
    """Wait for processes this process started to exit; terminate, then kill, the rest."""
    alive = {p.pid: p for p in processes}.values()
    _, alive = psutil.wait_procs([p for p in alive if p.is_running()], timeout=grace)
    for sig in ("terminate", "kill"):
        for p in alive:
            try:
                getattr(p, sig)()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(alive, timeout=3)
        if not alive:
            return


def batch_plan(embedder, texts: list[str], batch_size: int) -> list[list[int]]:
    """The batches (lists of positions) the embedder makes itself for these texts."""
    if hasattr(embedder, "batch_plan"):
        return embedder.batch_plan(texts, batch_size)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[a:a + batch_size].tolist() for a in range(0, len(texts), batch_size)]


class _Encoder:
    """A Ray actor: loads the model once, embeds whole batches."""

    def __init__(self, model: str, backend: str, threads: int):
        if backend in ("onnx", "onnx-int8"):
            from .onnx import OnnxEmbedder

            self.embedder = OnnxEmbedder(model, backend, threads=threads)
        else:
            from . import get_embedder

            self.embedder = get_embedder(model, backend)

    def __call__(self, batch: dict) -> dict:
        rows, vectors = [], []
        for positions, texts in zip(batch["rows"], batch["texts"]):
            texts = [str(t) for t in texts]
            rows.extend(int(p) for p in positions)
            vectors.append(self.embedder.encode(texts, batch_size=len(texts)))
        return {"row": np.asarray(rows, dtype=np.int64), "vector": np.vstack(vectors).astype(np.float32)}


class RayEmbedder:
    """An Embedder whose `encode` runs on Ray actors (inside `ray_cluster`); the rest is local."""

    def __init__(self, model: str, backend: str = "onnx-int8", actors: int = 2, threads: int | None = None,
                 local=None):
        from . import get_embedder

        # Loaded here first: the driver needs it for queries and token counts, and the ONNX
        # export is made once before the actors look for it.
        self.local = local or get_embedder(model, backend)
        self.model, self.actors = model, actors
        self.threads = threads or max(1, cpu_count() // actors)
        self.model_id, self.dim = self.local.model_id, self.local.dim
        self.max_seq_length, self.backend = self.local.max_seq_length, self.local.backend
        self.seconds = 0.0  # time spent in encode, for throughput figures

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def fits(self, text: str) -> bool:
        return self.local.fits(text)

    def encode_query(self, text: str) -> np.ndarray:
        return self.local.encode_query(text)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        import ray.data

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        t = time.perf_counter()
        groups = batch_plan(self.local, list(texts), batch_size)
        items = [{"rows": g, "texts": [texts[i] for i in g]} for g in groups]
        # Blocks fixed at creation: a repartition() can deadlock with few CPUs.
        ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), 4 * self.actors)))
        embedded = ds.map_batches(_Encoder, batch_size=1, num_cpus=1,
                                  fn_constructor_kwargs={"model": self.model, "backend": self.backend,
                                                         "threads": self.threads},
                                  compute=ray.data.ActorPoolStrategy(size=self.actors))
        filled = np.zeros(len(texts), dtype=bool)
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["row"]] = batch["vector"]
            filled[batch["row"]] = True
        if not filled.all():
            raise RuntimeError(f"Ray returned {int(filled.sum())} of {len(texts)} vectors")
        self.seconds += time.perf_counter() - t
        return out
