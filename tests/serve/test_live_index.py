"""The running app follows the index on disk (#11): a real server (subprocess) under load from
10 clients sees `ragcomm add`, `ragcomm remove` and `ragcomm index --rebuild` (real CLI
processes) within seconds; every answer comes whole from one version of the index; a broken
index on disk is never served (the app keeps the last good one and says so); uploads beyond
--max-upload-mb are refused and the server's upload folder goes when it stops."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ragcomm.bench.launch import launch_app, stop_app

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
NEW = "ccg-network-leadership-study"  # the document added and removed while the app runs
QUESTION = "What leadership practices did GP leaders use in commissioning networks?"


def call(url, body=None, method=None, timeout=60):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url, data, headers={"Content-Type": "application/json"},
                                     method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def ragcomm(*args, settings):
    run = subprocess.run([sys.executable, "-m", "ragcomm", *args, "--index", str(settings["index"]),
                          "--corpus", str(settings["corpus"]), "--no-progress"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A corpus of two real documents, its index, and the app serving it (reloading every 0.2 s)."""
    from ragcomm import Settings, build_index

    base = tmp_path_factory.mktemp("live")
    corpus = base / "corpus"
    corpus.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    build_index(Settings(corpus_dir=corpus, index_dir=base / "index"), log=lambda *_: None, progress=False)
    log_path = base / "app.log"
    log = open(log_path, "w")
    proc, url = launch_app(base / "index", corpus, args=("--reload-seconds", "0.2", "--max-upload-mb", "1"),
                           log=log, timeout=180)
    yield {"url": url, "proc": proc, "index": base / "index", "corpus": corpus, "log": log_path, "base": base}
    stop_app(proc)
    log.close()


def status(live) -> dict:
    code, body = call(live["url"] + "api/status")
    assert code == 200, body
    return json.loads(body)


def wait_for_generation(live, above: int, limit: float = 60) -> tuple[dict, float]:
    """The app's status once it serves a generation above `above`; and how long that took."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        s = status(live)
        if s["generation"] > above:
            return s, time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"the app still serves generation {status(live)['generation']} after {limit} s")


def searched_docs(live, doc_id) -> set:
    code, body = call(live["url"] + "api/search", {"question": QUESTION, "k": 5, "filters": {"doc_id": [doc_id]}})
    assert code == 200, body
    return {h["doc_id"] for h in json.loads(body)["results"]}


class Clients:
    """10 threads asking questions through /api/ask until stopped; every reply kept."""

    def __init__(self, url, n=10):
        self.url, self.replies, self.stop = url, [], threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(n)]

    def run(self):
        while not self.stop.is_set():
            code, body = call(self.url + "api/ask", {"question": QUESTION, "k": 5})
            self.replies.append((code, json.loads(body) if code == 200 else body))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(120)


def test_add_remove_and_rebuild_are_served_within_seconds_and_never_half(live):
    first = status(live)
    assert first["documents"] == 2 and first["reload_error"] is None
    assert searched_docs(live, NEW) == set()
    with Clients(live["url"]) as clients:
        start = time.monotonic()
        ragcomm("add", str(CORPUS / f"{NEW}.txt"), settings=live)
        added, _ = wait_for_generation(live, first["generation"])
        seconds_add = time.monotonic() - start
        assert added["documents"] == 3 and searched_docs(live, NEW) == {NEW}
        start = time.monotonic()
        ragcomm("remove", NEW, settings=live)
        removed, _ = wait_for_generation(live, added["generation"])
        seconds_remove = time.monotonic() - start
        assert removed["documents"] == 2 and searched_docs(live, NEW) == set()
        code, body = call(live["url"] + "api/documents")
        assert NEW not in {d["doc_id"] for d in json.loads(body)["documents"]}
        ragcomm("index", "--rebuild", settings=live)
        rebuilt, _ = wait_for_generation(live, removed["generation"])
        time.sleep(1)  # some questions on the rebuilt index too
    print(f"\nthe app served the add {seconds_add:.1f} s after `ragcomm add` started, the remove "
          f"{seconds_remove:.1f} s after `ragcomm remove` started ({len(clients.replies)} questions from 10 clients "
          "meanwhile, all answered)")
    assert clients.replies and all(code == 200 for code, _ in clients.replies), \
        [r for r in clients.replies if r[0] != 200][:3]
    shapes = {}  # generation -> (documents, chunks): each answer comes whole from one version
    for _, row in clients.replies:
        info = row["index"]
        shapes.setdefault(info["generation"], set()).add((info["documents"], info["chunks"]))
        if info["documents"] == 2:
            assert NEW not in {s["doc_id"] for s in row["sources"]}
    assert all(len(v) == 1 for v in shapes.values()), shapes
    assert {first["generation"], added["generation"], removed["generation"], rebuilt["generation"]} >= set(shapes)
    assert added["generation"] in shapes or removed["generation"] in shapes  # answers came from the new versions


def test_a_broken_index_on_disk_is_never_served(live):
    served = status(live)
    manifest = live["index"] / "manifest.json"
    good = manifest.read_text()
    broken = live["base"] / "manifest.broken"
    broken.write_text("[1, 2, 3]")
    os.replace(broken, manifest)  # a manifest of the wrong shape, swapped in as a new file
    deadline = time.monotonic() + 30
    while status(live)["reload_error"] is None and time.monotonic() < deadline:
        time.sleep(0.1)
    now = status(live)
    assert now["reload_error"] and "manifest" in now["reload_error"] and "--rebuild" in now["reload_error"]
    assert now["generation"] == served["generation"] and now["documents"] == served["documents"]
    code, body = call(live["url"] + "api/ask", {"question": QUESTION})
    assert code == 200 and json.loads(body)["index"]["generation"] == served["generation"]
    assert good  # the rebuild recovers from the broken folder by itself
    ragcomm("index", "--rebuild", settings=live)
    after, _ = wait_for_generation(live, served["generation"])
    assert after["reload_error"] is None and after["documents"] == served["documents"]


def test_uploads_are_limited_and_their_folder_goes_with_the_server(live):
    big = b"x" * (1024 * 1024 + 10)
    boundary = "ragcommtestboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()
    for path in ("api/documents", "gradio_api/upload"):
        request = urllib.request.Request(live["url"] + path, body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                code, text = r.status, r.read()
        except urllib.error.HTTPError as exc:
            code, text = exc.code, exc.read()
        assert code in (400, 413) and b"Traceback" not in text, (path, code, text[:300])
    assert "big.txt" not in {d["source"] for d in json.loads(call(live["url"] + "api/documents")[1])["documents"]}
    folders = list(Path(tempfile.gettempdir()).glob(f"ragcomm-uploads-{live['proc'].pid}-*"))
    assert len(folders) == 1
    stop_app(live["proc"])
    assert not folders[0].exists()
    assert "Traceback" not in live["log"].read_text()
