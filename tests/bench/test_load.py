"""A short load test on loopback: concurrent clients through the REST API, the Gradio API and
the chat's own path of one launched app, no errors (figures are printed, never asserted)."""
import pytest

from ragcomm.bench.launch import launch_app, stop_app
from ragcomm.bench.load import report, run


def test_concurrent_clients_on_every_path_are_all_served(real_index):
    proc, url = launch_app(real_index.index_dir, real_index.corpus_dir)
    try:
        result = run(url, clients=4, seconds=2, max_requests=50, pid=proc.pid)
    finally:
        stop_app(proc)
    print(report(result))
    assert result["errors"] == 0, result["error_examples"]
    assert [r["path"] for r in result["results"]] == ["rest", "gradio", "chat"]
    assert all(r["served"] >= 4 for r in result["results"])
    assert result["rest_over_gradio"] > 0
    assert result["memory_start_mb"] > 0 and result["memory_end_mb"] > 0


def test_load_tests_refuse_other_hosts_and_unknown_paths():
    with pytest.raises(ValueError, match="only target this machine"):
        run("http://10.0.0.5:7860/", clients=1, seconds=1)
    with pytest.raises(ValueError, match="unknown load paths"):
        run("http://127.0.0.1:7860/", clients=1, seconds=1, paths=["soap"])
