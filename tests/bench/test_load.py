"""A short load test on loopback: concurrent clients through the app's /ask API, no errors."""
import pytest

from ragcomm.bench.launch import launch_app, stop_app
from ragcomm.bench.load import run


def test_concurrent_clients_are_all_served(real_index):
    proc, url = launch_app(real_index.index_dir, real_index.corpus_dir)
    try:
        result = run(url, clients=4, seconds=8, max_requests=50, pid=proc.pid)
    finally:
        stop_app(proc)
    assert result["errors"] == 0, result["error_examples"]
    assert result["served"] >= 4
    assert result["memory_start_mb"] > 0 and result["memory_end_mb"] > 0


def test_load_tests_refuse_other_hosts():
    with pytest.raises(ValueError, match="only target this machine"):
        run("http://10.0.0.5:7860/", clients=1, seconds=1)
