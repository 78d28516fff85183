"""Start and stop the app (`python -m ragcomm serve`) as a subprocess on a free loopback
port, for the start-up benchmark, the load test and the app's tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..config import home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_app(index_dir: Path | None = None, corpus_dir: Path | None = None, args: tuple = (),
               log=None, timeout: float = 180) -> tuple[subprocess.Popen, str]:
    """Start the app on 127.0.0.1 and a free port; (process, base URL) once it answers HTTP.
    It runs in RAGCOMM_HOME (default: the current folder), where it finds eval/calibration.json.
    `log`: an open file for its output (default: discarded)."""
    port = free_port()
    root = home()
    cmd = [sys.executable, "-m", "ragcomm", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    if index_dir:
        cmd += ["--index", str(index_dir)]
    if corpus_dir:
        cmd += ["--corpus", str(corpus_dir)]
    out = log or subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL, cwd=root,
                            env={**os.environ, "RAGCOMM_HOME": str(root)})
    url = f"http://127.0.0.1:{port}/"
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except urllib.error.HTTPError:  # it answered (a login page, say): it is up
            return proc, url
        except OSError:
            time.sleep(0.1)
    stop_app(proc)
    raise RuntimeError(f"the app did not answer on {url} within {timeout:.0f} s")


def stop_app(proc: subprocess.Popen, wait: float = 20) -> None:
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
