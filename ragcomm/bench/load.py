"""Load test on loopback: N concurrent clients asking the same app, one path after another in
one run, so that the figures compare:

    rest    POST /api/ask (FastAPI), one keep-alive HTTP connection per client
    gradio  the Gradio API endpoint /ask through gradio_client (queue + server-sent events)
    chat    the page's own event, as the browser sends it when Ask is clicked (one POST to
            /gradio_api/run/chat with the page's session); each client starts a new
            conversation every 5 questions

    ragcomm load --clients 20 --seconds 30

Launches the app on a free 127.0.0.1 port (or uses --url, which must be a loopback address),
warms it up, then runs each path for a bounded time and a bounded number of requests per
client. Reports requests served, errors (a "Queue is full" refusal is an error), throughput,
p50/p95 latency, and the app's memory.
"""
from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.parse
import uuid

import numpy as np

from ..extras import require
from ..serve.access import is_loopback
from .launch import launch_app, stop_app
from .perf import gold_questions

PATHS = ("rest", "gradio", "chat")
CHAT_TURNS = 5  # questions per conversation in the chat path


def rss_mb(pid: int) -> float:
    psutil = require("psutil", "bench")
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


class HttpClient:
    """JSON POSTs over one keep-alive connection."""

    def __init__(self, url: str, auth: tuple[str, str] | None = None):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, path: str, payload: dict) -> dict:
        body = json.dumps(payload)
        try:
            self.conn.request("POST", path, body, self.headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # reconnect once, then give up
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.conn.request("POST", path, body, self.headers)
            response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}: {data[:100]!r}")
        return json.loads(data)


def make_client(path: str, url: str, auth=None):
    """A function question -> reply dict (or text) for one client of a path."""
    if path == "rest":
        http_client = HttpClient(url, auth)
        return lambda q: http_client.post("/api/ask", {"question": q})
    if path == "gradio":
        client = require("gradio_client", "bench").Client(url, auth=auth, verbose=False)
        return lambda q: client.predict(q, api_name="/ask")
    if auth:
        raise ValueError("the chat path needs the chat's login cookie: run it against an app without a login")
    http_client = HttpClient(url)
    asked = [0]
    session = [uuid.uuid4().hex]

    def chat(question):
        if asked[0] and asked[0] % CHAT_TURNS == 0:
            session[0] = uuid.uuid4().hex  # a new page, a new conversation
        asked[0] += 1
        # the page's inputs: question, (conversation), passages, match, documents, years, undated, kinds, (list)
        data = [question, None, 5, "hybrid", [], "Any year", "Any year", True, [], None]
        out = http_client.post("/gradio_api/run/chat", {"data": data, "session_hash": session[0]})
        html = str(out.get("data", [""])[0])
        return {"answer": html} if "rc-turn" in html else {"error": str(out)[:200]}

    return chat


def run_path(path: str, url: str, clients: int, seconds: float, max_requests: int, auth=None) -> dict:
    """`clients` threads asking through one path until `seconds` pass or each made `max_requests`."""
    qs = gold_questions()
    latencies, errors, lock = [], [], threading.Lock()
    start = {}
    ready = threading.Barrier(clients + 1, action=lambda: start.update(deadline=time.monotonic() + seconds))

    def worker(n: int):
        try:
            ask = make_client(path, url, auth)
            ask(qs[n % len(qs)])  # warm this client's connection
        except Exception as exc:
            with lock:
                errors.append(f"connect: {type(exc).__name__}: {exc}"[:200])
            ask = None
        ready.wait()
        i = n
        for _ in range(max_requests if ask else 0):
            if time.monotonic() >= start["deadline"]:
                break
            t = time.perf_counter()
            try:
                reply = ask(qs[i % len(qs)])
                if not isinstance(reply, dict) or "answer" not in reply:
                    raise ValueError(f"unexpected reply: {str(reply)[:100]}")
                with lock:
                    latencies.append(time.perf_counter() - t)
            except Exception as exc:  # count every failure ("Queue is full" included), keep going
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            i += clients

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = start["deadline"] - seconds
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - t0
    ms = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {"path": path, "clients": clients, "seconds": round(elapsed, 1), "served": len(latencies),
            "errors": len(errors), "queue_full": sum("queue is full" in e.lower() for e in errors),
            "error_examples": errors[:5], "throughput_per_s": len(latencies) / elapsed,
            "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def wait_until_warm(url: str, auth=None, timeout: float = 300) -> None:
    """Until the app has embedded every passage's sentences (it does so in the background
    after start-up, and would otherwise be measured while still busy with it)."""
    u = urllib.parse.urlparse(url)
    headers = dict(HttpClient(url, auth).headers)
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        try:
            conn.request("GET", "/api/status", headers=headers)
            if json.loads(conn.getresponse().read()).get("warmed"):
                return
        except (OSError, ValueError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.5)


def run(url: str, clients: int = 20, seconds: float = 30, max_requests: int = 5000, pid: int | None = None,
        paths=PATHS, auth=None) -> dict:
    """Each path in turn against one app; the REST / Gradio throughput ratio."""
    host = urllib.parse.urlparse(url).hostname or ""
    if not is_loopback(host):
        raise ValueError(f"load tests only target this machine (127.0.0.1 / localhost), not {host}")
    unknown = set(paths) - set(PATHS)
    if unknown:
        raise ValueError(f"unknown load paths {sorted(unknown)} (choose from {', '.join(PATHS)})")
    wait_until_warm(url, auth)
    mem_start = rss_mb(pid) if pid else None
    results = [run_path(path, url, clients, seconds, max_requests, auth) for path in paths]
    mem_end = rss_mb(pid) if pid else None
    by = {r["path"]: r for r in results}
    ratio = (by["rest"]["throughput_per_s"] / by["gradio"]["throughput_per_s"]
             if "rest" in by and "gradio" in by and by["gradio"]["throughput_per_s"] else None)
    return {"clients": clients, "results": results, "rest_over_gradio": ratio, "memory_start_mb": mem_start,
            "memory_end_mb": mem_end, "memory_growth": (mem_end / mem_start - 1) if mem_start else None,
            "errors": sum(r["errors"] for r in results),
            "error_examples": [e for r in results for e in r["error_examples"]][:5]}


LABELS = {"rest": "REST POST /api/ask", "gradio": "Gradio API /ask (queue)", "chat": "chat page's Ask (browser path)"}


def report(r: dict) -> str:
    lines = ["| path | clients | seconds | served | errors (queue full) | req/s | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for x in r["results"]:
        lines.append(f"| {LABELS[x['path']]} | {x['clients']} | {x['seconds']} | {x['served']} | {x['errors']} "
                     f"({x['queue_full']}) | {x['throughput_per_s']:.1f} | {x['p50_ms']:.0f} | {x['p95_ms']:.0f} |")
    if r["rest_over_gradio"]:
        lines.append(f"\nREST / Gradio /ask throughput: {r['rest_over_gradio']:.1f}x")
    if r["memory_start_mb"]:
        lines.append(f"App memory: {r['memory_start_mb']:.0f} MB -> {r['memory_end_mb']:.0f} MB "
                     f"({r['memory_growth'] * 100:+.1f}%)")
    return "\n".join(lines)


def main_load(clients: int, seconds: float, url: str | None, index_dir=None, corpus_dir=None,
              paths=PATHS, app_args: tuple = ()) -> dict:
    proc = None
    if url is None:
        proc, url = launch_app(index_dir, corpus_dir, args=app_args)
    try:
        return run(url, clients, seconds, pid=proc.pid if proc else None, paths=paths)
    finally:
        if proc:
            stop_app(proc)
