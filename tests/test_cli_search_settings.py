"""Search settings on the command line (issue #14): `ragcomm index` records them, `search`
uses them unless told otherwise, `eval --grid` reads candidates from a file and `choose`
applies the rule of eval/README.md."""
import json

import pytest

from ragcomm import Settings
from ragcomm.cli import main
from ragcomm.index import load_index
from ragcomm.search import Retriever


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    import shutil
    from tests.conftest import CORPUS

    root = tmp_path_factory.mktemp("settings")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "animateurs-commissioning-managers-2012.txt", corpus)
    return corpus, root / "index"


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_index_records_search_settings_and_search_uses_them(small_index, capsys):
    corpus, index = small_index
    code, out, _ = run(["index", "--corpus", corpus, "--index", index, "--no-progress", "--fusion", "zscore",
                        "--dense-weight", "0.6", "--weighting", "confidence"], capsys)
    assert code == 0 and "search settings recorded: hybrid (zscore, dense weight 0.6, confidence weighting)" in out
    recorded = json.loads((index / "manifest.json").read_text())["retrieval"]
    assert recorded["fusion"] == "zscore" and recorded["dense_weight"] == 0.6 and recorded["weighting"] == "confidence"

    question = "what makes a good commissioning manager?"
    code, out, _ = run(["search", question, "--json", "-k", "3", "--corpus", corpus, "--index", index], capsys)
    results = json.loads(out)["results"]
    expected = Retriever(load_index(index), settings=Settings().replace(fusion="zscore", dense_weight=0.6,
                                                                        weighting="confidence")).search(question, k=3)
    assert [r["chunk_id"] for r in results] == [h.chunk_id for h in expected]
    assert [r["fused_score"] for r in results] == pytest.approx([h.fused_score for h in expected])
    # a flag beats what the index recorded
    code, out, _ = run(["search", question, "--json", "-k", "3", "--fusion", "rrf", "--corpus", corpus,
                        "--index", index], capsys)
    rrf = Retriever(load_index(index), settings=Settings().replace(fusion="rrf")).search(question, k=3)
    assert [r["fused_score"] for r in json.loads(out)["results"]] == pytest.approx([h.fused_score for h in rrf])

    code, out, _ = run(["status", "--corpus", corpus, "--index", index], capsys)
    assert "search settings: hybrid (zscore, dense weight 0.6, confidence weighting)" in out
    assert "sentences max;" in out and "sentence vectors" in out
    # nothing asked: up to date, the recorded settings kept
    code, out, _ = run(["index", "--corpus", corpus, "--index", index], capsys)
    assert code == 0 and "up to date" in out
    # one setting changed: rebuilt without embedding again, the other recorded settings kept
    code, out, err = run(["index", "--corpus", corpus, "--index", index, "--no-progress", "--prf", "rm3"], capsys)
    assert code == 0 and "embedding 0 chunks" in err
    recorded = json.loads((index / "manifest.json").read_text())["retrieval"]
    assert recorded["prf"] == "rm3" and recorded["fusion"] == "zscore" and recorded["weighting"] == "confidence"


def test_an_index_from_before_the_settings_were_recorded_still_loads(small_index, capsys, tmp_path):
    import shutil

    corpus, index = small_index
    old = tmp_path / "old"
    shutil.copytree(index, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["retrieval"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    retriever = Retriever(load_index(old))
    assert retriever.settings.retrieval() == Settings().retrieval()  # the defaults
    code, out, _ = run(["search", "commissioning manager", "-k", "2", "--corpus", corpus, "--index", old], capsys)
    assert code == 0 and out.startswith("1. ")


@pytest.mark.parametrize("argv,message", [
    (["search", "q", "--dense-weight", "1.5"], "between 0 and 1"),
    (["search", "q", "--rrf-k", "0"], "at least 1"),
    (["index", "--fusion", "zscore", "--dense-weight", "-1"], "between 0 and 1"),
])
def test_bad_search_settings_are_one_clear_line(argv, message, small_index, capsys):
    corpus, index = small_index
    code, _, err = run(argv + ["--corpus", corpus, "--index", index], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_unknown_fusion_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["search", "q", "--fusion", "combmnz"])
    assert "invalid choice: 'combmnz'" in capsys.readouterr().err


@pytest.mark.parametrize("grid,message", [
    ('{"mode": "bm25"}', "expected a list of objects"),
    ('[{"mode": "hybrid", "fusion": "best"}]', "unknown fusion 'best'"),
    ('[{"mode": "hybrid", "dense_weigth": 0.5}]', "unknown settings dense_weigth"),
    ('[{"mode": "hybrid", "dense_weight": "half"}]', "dense_weight must be float"),
    ('[{"mode": "both"}]', "unknown mode 'both'"),
    ('[{"mode": "bm25", "chunking": "pages"}]', "chunking is 'whole'"),
    ('[]', "no configurations"),
    ('[{"mode": "bm25"', "not valid JSON"),
    ('{"defaults": {"fusion": 3}, "configurations": [{"mode": "bm25"}]}', "defaults: fusion must be str"),
])
def test_eval_grid_file_errors(grid, message, tmp_path, capsys):
    path = tmp_path / "grid.json"
    path.write_text(grid)
    code, _, err = run(["eval", "--grid", path, "--gold", tmp_path / "gold.jsonl"], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_grid_file_names_every_option(tmp_path):
    from ragcomm.eval import grid_file

    path = tmp_path / "grid.json"
    path.write_text(json.dumps([
        {"mode": "bm25", "prf": "rm3"}, {"mode": "dense", "dense_prf": "rocchio", "dense_sentences": "max"},
        {"mode": "hybrid", "fusion": "zscore", "dense_weight": 0.5, "weighting": "confidence", "prf": "rm3",
         "prf_docs": 10},
        {"mode": "hybrid", "fusion": "rrf", "rrf_k": 20}, {"mode": "hybrid", "fusion": "weighted", "dense_weight": 0.4},
        {"mode": "hybrid", "fusion": "weighted", "dense_weight": 0.4}]))
    base = Settings().replace(weighting="fixed", dense_sentences="off")
    configs = grid_file(path, base, "whole")
    assert [c.name for c in configs] == [
        "bm25 bm25s+rm3 whole", "dense+rocchio+sent-max whole",
        "hybrid-zscore0.5-confidence bm25s+rm3(docs=10) whole", "hybrid-rrf20 bm25s whole",
        "hybrid-weighted0.4 bm25s whole"]  # the duplicate is dropped
    assert configs[2].describe()["prf_docs"] == 10 and configs[2].candidate.endswith("(docs=10)")
    # the same rows under a "defaults" block that switches the product defaults off
    path.write_text(json.dumps({"defaults": {"weighting": "fixed", "dense_sentences": "off"},
                                "configurations": json.loads(path.read_text())}))
    assert [c.name for c in grid_file(path, Settings(), "whole")] == [c.name for c in configs]
    # and without it, the product defaults fill the gaps
    path.write_text('[{"mode": "hybrid"}]')
    assert grid_file(path, Settings())[0].candidate == "hybrid-zscore0.5-confidence bm25s dense+sent-max"


def report(path, dataset, kind, rows):
    path.write_text(json.dumps({"dataset": dataset, "kind": kind, "configurations": [
        {"candidate": name, "ndcg@10": value, "latency_ms": {"p50": 1.0, "p95": 2.0}} for name, value in rows.items()]}))
    return path


def test_choose_applies_the_rule_and_leaves_one_out(tmp_path, capsys):
    rows = {
        "a": {"bm25 bm25s": 0.50, "dense": 0.40, "hybrid-rrf60 bm25s": 0.46, "hybrid-x": 0.53, "hybrid-y": 0.56},
        "b": {"bm25 bm25s": 0.30, "dense": 0.40, "hybrid-rrf60 bm25s": 0.42, "hybrid-x": 0.43, "hybrid-y": 0.39},
        "c": {"bm25 bm25s": 0.35, "dense": 0.36, "hybrid-rrf60 bm25s": 0.37, "hybrid-x": 0.375, "hybrid-y": 0.45},
    }
    paths = [report(tmp_path / f"{n}.json", f"/x/{n}", "beir", r) for n, r in rows.items()]
    out_json = tmp_path / "choice.json"
    code, out, _ = run(["choose", *paths, "--json", out_json], capsys)
    assert code == 0
    data = json.loads(out_json.read_text())
    # hybrid-y wins more and has the higher mean, but falls below dense on b: x holds everywhere
    assert data["choice"]["choice"] == "hybrid-x"
    assert data["choice"]["records"]["hybrid-x"]["wins_on"] == 2  # a (+.03) and b (+.03), not c (+.015)
    loo = {r["left_out"]: r for r in data["leave_one_out"]}
    assert loo["b"]["pick"] == "hybrid-y" and loo["b"]["holds"] is False  # picked on a and c, fails on b
    assert loo["a"]["pick"] == "hybrid-x" and loo["a"]["holds"] is True
    assert "Choice: **hybrid-x**" in out
    # the summary: on each collection the choice, RRF and the best single retriever (no old default here)
    summary = [(r["collection"], r["role"], r["candidate"], r["ndcg@10"]) for r in data["summary"] if r["collection"] == "b"]
    assert summary == [("b", "choice", "hybrid-x", 0.43), ("b", "RRF", "hybrid-rrf60 bm25s", 0.42),
                       ("b", "best single", "dense", 0.40)]
    assert "| b | best single | dense | 0.4000 | — |" in out


def test_choose_without_an_rrf_row(tmp_path, capsys):
    # eval/rerank.sh's reports hold the default and its reranked variants, no RRF: the table says so
    rows = {"a": {"bm25 bm25s": 0.50, "dense": 0.40, "hybrid-x": 0.53, "hybrid-x rerank20": 0.55},
            "b": {"bm25 bm25s": 0.30, "dense": 0.40, "hybrid-x": 0.43, "hybrid-x rerank20": 0.42}}
    paths = [report(tmp_path / f"{n}.json", f"/x/{n}", "beir", r) for n, r in rows.items()]
    code, out, err = run(["choose", *paths], capsys)
    assert code == 0 and "Traceback" not in err
    assert "| a | hybrid-x | 0.5300 | 0.5000 (bm25 bm25s) | — | yes | yes |" in out  # picked on b
    assert "| b | hybrid-x rerank20 | 0.4200 | 0.4000 (dense) | — | yes | no |" in out  # picked on a


def test_choose_needs_two_reports(tmp_path, capsys):
    path = report(tmp_path / "a.json", "/x/a", "beir", {"bm25 bm25s": 0.5, "hybrid-x": 0.6})
    code, _, err = run(["choose", path], capsys)
    assert code == 2 and "at least two collections" in err
