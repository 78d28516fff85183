"""The app against a hostile user (#23), one real server with a login over a corpus of its own:
a zip bomb uploaded while 20 clients ask through /api/ask (answers keep coming, the bomb is
refused in one line, a normal upload right after succeeds), page images of 14,400 and
1,000,000 point pages at a bounded size, SIGTERM during a slow upload, a restart that serves
the last good index at once while it catches up, and failed logins throttled per address
however the requests in between look. The server's peak memory (VmHWM) is read from /proc."""
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, docx_of_paragraphs, text_pdf

from ragcomm.bench.launch import launch_app, stop_app

USER, PASSWORD = "analyst", "correct-horse-battery"
AUTH = (USER, PASSWORD)
QUESTION = "What makes a good commissioning manager?"
CEILING = 1536 * 2**20


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class App:
    def __init__(self, root: Path):
        self.root, self.corpus, self.index = root, root / "corpus", root / "index"
        self.creds = root / "creds"
        self.creds.write_text(f"{USER}:{PASSWORD}\n")
        self.proc = self.url = None
        self.logs = []

    def start(self, env: dict | None = None, name: str = "app"):
        log = open(self.root / f"{name}.log", "w")
        self.logs.append(self.root / f"{name}.log")
        saved = {k: os.environ.get(k) for k in env or {}}
        os.environ.update(env or {})
        try:
            self.proc, self.url = launch_app(self.index, self.corpus, args=("--auth-file", str(self.creds)),
                                             log=log, timeout=600)
        finally:
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        return self

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=AUTH, timeout=kw.pop("timeout", 600), **kw)

    def status(self) -> dict:
        with self.client() as c:
            return c.get("api/status").json()

    def wait_for_job(self, seconds: float = 600) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job = self.status()["job"]
            if job and job["state"] != "running":
                return job
            time.sleep(0.5)
        raise AssertionError("the update did not finish")

    def log_text(self) -> str:
        return "".join(p.read_text() for p in self.logs)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-app")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    (corpus / "guide.html").write_text("<html><body><h1>Referral guide</h1><p>GPs refer patients to virtual "
                                       "wards when community teams can support them.</p>"
                                       "<script>alert(1)</script></body></html>")
    for name, points in (("huge-page.pdf", 14_400), ("giant-page.pdf", 1_000_000)):
        text_pdf(corpus / name, ["A very large page about commissioning community services for carers."],
                 width=points, height=points)
    bombs = root / "bombs"
    bombs.mkdir()
    docx_of_paragraphs(bombs / "paragraphs.docx", 3_000_000)
    app = App(root).start()
    yield app
    if app.proc.poll() is None:
        stop_app(app.proc)


def test_files_serve_html_as_text_that_browsers_do_not_sniff(app):
    with app.client() as c:
        r = c.get("files/guide.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("body, message", [
    ({"question": QUESTION, "k": True}, "k must be a whole number from 1 to 100, not 'True'"),
    ({"question": QUESTION, "history": ["x" * 1_000_000]},
     "history item 1 is too long (1000000 characters; at most 2000)"),
])
def test_bad_requests_say_what_was_wrong(app, body, message):
    with app.client() as c:
        r = c.post("api/ask", json=body)
    assert r.status_code == 400 and r.json()["detail"] == message


@pytest.mark.parametrize("doc_id", ["huge-page", "giant-page"])
def test_page_images_have_a_bounded_size_whatever_the_page(app, doc_id):
    from PIL import Image

    with app.client() as c:
        r = c.get(f"pages/{doc_id}", params={"page": 1})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    import io

    width, height = Image.open(io.BytesIO(r.content)).size
    assert max(width, height) <= 2000 and min(width, height) >= 100
    assert peak_rss(app.proc.pid) < CEILING


def test_a_bomb_uploaded_while_20_clients_ask(app):
    """Answers keep coming while the bomb is read (in a worker process), it is refused in one
    line, and a normal upload right after it is indexed."""
    answers, errors, stop = [], [], threading.Event()

    def ask():
        with app.client(timeout=120) as c:
            while not stop.is_set():
                try:
                    r = c.post("api/ask", json={"question": QUESTION, "k": 3})
                    (answers if r.status_code == 200 else errors).append((time.monotonic(), r.status_code))
                except httpx.HTTPError as exc:
                    errors.append((time.monotonic(), repr(exc)))

    clients = [threading.Thread(target=ask, daemon=True) for _ in range(20)]
    for t in clients:
        t.start()
    try:
        while len(answers) < 20:  # every client is under way
            time.sleep(0.1)
        with app.client() as c, open(app.root / "bombs" / "paragraphs.docx", "rb") as fh:
            started = time.monotonic()
            r = c.post("api/documents", files={"files": ("paragraphs.docx", fh)})
            finished = time.monotonic()
        during = [t for t, _ in answers if started < t < finished]
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert "paragraphs.docx" in detail and "more than 1,000,000 cells or paragraphs" in detail
        assert "\n" not in detail and "Traceback" not in detail
        note = app.root / "icb-note.txt"
        note.write_text("Integrated care boards\n\nIntegrated care boards hold the commissioning budget for "
                        "their population and publish a joint forward plan every year.\n")
        with app.client() as c, open(note, "rb") as fh:
            r = c.post("api/documents", files={"files": ("icb-note.txt", fh)})
        assert r.status_code == 202, r.text
        job = app.wait_for_job()
        assert job["state"] == "done", job
    finally:
        stop.set()
        for t in clients:
            t.join(120)
    print(f"\n{len(answers)} answers to 20 clients, {len(during)} of them while the bomb was read "
          f"({finished - started:.1f} s); server peak RSS {peak_rss(app.proc.pid) / 2**20:.0f} MB")
    assert not errors, errors[:3]
    assert during  # answers kept coming while the bomb was being read
    with app.client() as c:
        docs = c.get("api/documents").json()["documents"]
    assert "icb-note" in {d["doc_id"] for d in docs} and "paragraphs" not in {d["doc_id"] for d in docs}
    assert not (app.corpus / "paragraphs.docx").exists()
    assert peak_rss(app.proc.pid) < CEILING
    assert "Traceback" not in app.log_text()


def test_sigterm_stops_the_server_during_a_slow_upload(app):
    """An upload still being read when the server is told to stop: the worker is stopped,
    the request answered, and the server ends by itself (not killed)."""
    slow = app.root / "bombs" / "slow.docx"
    docx_of_paragraphs(slow, 990_000, "Integrated care boards commission services.")  # within every count
    replies = []

    def upload():
        try:
            with app.client() as c, open(slow, "rb") as fh:
                replies.append(c.post("api/documents", files={"files": ("slow.docx", fh)}).status_code)
        except httpx.HTTPError as exc:
            replies.append(repr(exc))

    import tempfile

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    arrived = []
    while not arrived and time.monotonic() < deadline:  # the server has the file: its reading begins
        arrived = list(Path(tempfile.gettempdir()).glob("ragcomm-upload-*/slow.docx"))
        time.sleep(0.1)
    assert arrived, "the upload never arrived"
    time.sleep(2)
    app.proc.send_signal(signal.SIGTERM)
    try:
        code = app.proc.wait(60)
    except Exception:
        app.proc.kill()
        raise AssertionError("the server did not stop on SIGTERM while a file was being read")
    thread.join(60)
    assert code == 0 and replies, (code, replies)
    assert not (app.corpus / "slow.docx").exists()
    assert "Traceback" not in app.log_text()


def test_a_restarted_server_serves_the_last_good_index_at_once(app):
    """The corpus changed while the server was down: it listens with the index it had and
    brings it up to date in the background (held here before its swap: RAGCOMM_PAUSE_AT)."""
    served = app.root / "index" / "manifest.json"
    assert served.exists()
    (app.corpus / "late-note.txt").write_text("Late note\n\nPrimary care networks share pharmacists across "
                                              "practices in the neighbourhood.\n")
    before = app.start(env={"RAGCOMM_PAUSE_AT": "save-written"}, name="restarted").status()
    assert before["job"] and before["job"]["state"] == "running" and before["job"]["action"] == "update"
    assert "late-note.txt" in before["stale"]
    with app.client() as c:
        r = c.post("api/ask", json={"question": QUESTION})
        docs = {d["doc_id"] for d in c.get("api/documents").json()["documents"]}
    assert r.status_code == 200 and r.json()["index"]["generation"] == before["generation"]
    assert "icb-note" in docs and "late-note" not in docs  # the last good index, served while it catches up


def test_failed_logins_are_throttled_per_address_whatever_comes_between(app):
    """A password spray over user names, with requests that need no login in between (a
    stylesheet with a Basic header gets 200): the address is throttled (429), even for the
    right password."""
    codes = []
    with httpx.Client(base_url=app.url, timeout=60) as c:
        for n in range(10):
            codes.append(c.post("api/ask", json={"question": QUESTION}, auth=(f"user{n}", "wrong-password"))
                         .status_code)
            c.get("theme.css", auth=("x", "x"))
        right = c.post("api/ask", json={"question": QUESTION}, auth=AUTH).status_code
    assert codes[:5] == [401] * 5 and 429 in codes, codes
    assert right == 429
