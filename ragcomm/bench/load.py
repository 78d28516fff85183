"""Load test on loopback: N concurrent clients asking through the app's /ask API.

    ragcomm load --clients 20 --seconds 60

Launches the app on a free 127.0.0.1 port (or uses --url, which must be a loopback
address), warms it up, then runs the clients for a bounded time and a bounded number of
requests each. Reports requests served, errors, p50/p95 latency, and the app's memory at
start and end.
"""
from __future__ import annotations

import threading
import time
import urllib.parse

import numpy as np

from ..extras import require
from ..serve.service import is_loopback
from .launch import launch_app, stop_app
from .perf import gold_questions


def rss_mb(pid: int) -> float:
    psutil = require("psutil", "bench")
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def run(url: str, clients: int = 20, seconds: float = 60, max_requests: int = 2000, pid: int | None = None) -> dict:
    """Ask from `clients` threads until `seconds` pass or each has made `max_requests`."""
    host = urllib.parse.urlparse(url).hostname or ""
    if not is_loopback(host):
        raise ValueError(f"load tests only target this machine (127.0.0.1 / localhost), not {host}")
    Client = require("gradio_client", "bench").Client

    qs = gold_questions()
    warm = Client(url, verbose=False)
    for q in qs[:3]:
        warm.predict(q, api_name="/ask")
    mem_start = rss_mb(pid) if pid else None
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int):
        client = Client(url, verbose=False)
        i = n
        for _ in range(max_requests):
            if time.monotonic() >= deadline:
                break
            t = time.perf_counter()
            try:
                result = client.predict(qs[i % len(qs)], api_name="/ask")
                ok = isinstance(result, dict) and "answer" in result
                if not ok:
                    raise ValueError(f"unexpected reply: {str(result)[:100]}")
                with lock:
                    latencies.append(time.perf_counter() - t)
            except Exception as exc:  # count every failure, keep going
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            i += clients

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - t0
    mem_end = rss_mb(pid) if pid else None
    ms = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {"clients": clients, "seconds": round(elapsed, 1), "served": len(latencies), "errors": len(errors),
            "error_examples": errors[:5], "throughput_per_s": len(latencies) / elapsed,
            "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "memory_start_mb": mem_start, "memory_end_mb": mem_end,
            "memory_growth": (mem_end / mem_start - 1) if mem_start else None}


def report(r: dict) -> str:
    growth = f"{r['memory_growth'] * 100:+.1f}%" if r["memory_growth"] is not None else "n/a"
    mem = (f"{r['memory_start_mb']:.0f} MB -> {r['memory_end_mb']:.0f} MB ({growth})"
           if r["memory_start_mb"] else "not measured")
    return (f"| clients | seconds | served | errors | req/s | p50 ms | p95 ms | app memory |\n|---|---|---|---|---|---|---|---|\n"
            f"| {r['clients']} | {r['seconds']} | {r['served']} | {r['errors']} | {r['throughput_per_s']:.1f} | "
            f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {mem} |")


def main_load(clients: int, seconds: float, url: str | None, index_dir=None, corpus_dir=None) -> dict:
    proc = None
    if url is None:
        proc, url = launch_app(index_dir, corpus_dir)
    try:
        return run(url, clients, seconds, pid=proc.pid if proc else None)
    finally:
        if proc:
            stop_app(proc)
