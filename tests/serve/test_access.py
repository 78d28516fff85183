"""Access: loopback by default, a login required to serve further, no file access through Gradio."""
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ragcomm.bench.launch import free_port, launch_app, stop_app

ROOT = Path(__file__).resolve().parents[2]


# `python app.py` and `ragcomm serve` are one entry point with one argument set: test both.
ENTRY_POINTS = {"app.py": [str(ROOT / "app.py")], "ragcomm serve": ["-m", "ragcomm", "serve"]}


def run_app(*args, env=None, timeout=20, entry="app.py"):
    return subprocess.run([sys.executable, *ENTRY_POINTS[entry], *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=ROOT)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_refuses_to_serve_exposed_without_login(entry):
    run = run_app("--host", "0.0.0.0", "--port", str(free_port()), env={"RAGCOMM_AUTH": ""}, entry=entry)
    assert run.returncode == 2
    assert "refusing to serve on 0.0.0.0 without a login" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_weak_or_missing_credentials_are_refused(tmp_path, entry):
    creds = tmp_path / "creds"
    creds.write_text("admin:short\n")
    run = run_app("--host", "0.0.0.0", "--auth-file", str(creds), "--port", str(free_port()), entry=entry)
    assert run.returncode == 2 and "at least 8 characters" in run.stderr
    run = run_app("--auth-file", str(tmp_path / "missing"), "--port", str(free_port()), entry=entry)
    assert run.returncode == 2 and "missing" in run.stderr and "Traceback" not in run.stderr


def test_both_entry_points_take_the_same_options():
    helps = {entry: run_app("--help", entry=entry).stdout for entry in ENTRY_POINTS}
    for flag in ("--host", "--port", "--index", "--corpus", "--concurrency", "--threshold", "--auth-file",
                 "--exposed-without-login"):
        assert all(flag in text for text in helps.values()), flag


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_login_is_enforced_and_no_files_are_served(real_index, tmp_path):
    from gradio_client import Client

    creds = tmp_path / "creds"
    creds.write_text("analyst:correct-horse-battery\n")
    proc, url = launch_app(real_index.index_dir, real_index.corpus_dir, args=("--auth-file", str(creds)))
    try:
        status, body = get(url + "config")
        assert status in (401, 403) or '"components"' not in body  # no app config before login
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("What is an animateur?", api_name="/ask")
        client = Client(url, auth=("analyst", "correct-horse-battery"), verbose=False)
        assert "answer" in client.predict("What makes a good commissioning manager?", api_name="/ask")
        source = ROOT / "ragcomm" / "serve" / "gradio_app.py"
        for path in ("gradio_api/file=/etc/passwd", "file=/etc/passwd", "gradio_api/file=" + str(source),
                     "gradio_api/file=" + str(ROOT / "app.py"), "gradio_api/file=../../../../etc/passwd"):
            status, body = get(url + path)
            assert status != 200 and "root:" not in body and "import gradio" not in body, path
            assert "from ragcomm.serve import main" not in body, path
        # The REST API and the original files want the same login (HTTP Basic).
        import base64
        import json

        def post(path, auth=None):
            headers = {"Content-Type": "application/json"}
            if auth:
                headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
            request = urllib.request.Request(url + path, json.dumps({"question": "What is an animateur?"}).encode(),
                                             headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert post("api/ask") == 401
        assert post("api/ask", "analyst:wrong-password") == 401
        assert post("api/ask", "analyst:correct-horse-battery") == 200
        assert get(url + "api/documents")[0] == 401
        assert get(url + "files/animateurs-commissioning-managers-2012.txt")[0] == 401
        assert get(url + "view/animateurs-commissioning-managers-2012")[0] == 401
    finally:
        stop_app(proc)
