"""The command line, driven through main() with tables of arguments and expected errors,
and the real index for the contracts other tools rely on."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ragcomm.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("argv,message", [
    (["search", "", "--index", "{index}"], "the question is empty"),
    (["search", "   ", "--index", "{index}"], "the question is empty"),
    (["search", "x" * 2100, "--index", "{index}"], "too long"),
    (["search", "--index", "{index}"], "give a question or --queries"),
    (["search", "q", "-k", "0", "--index", "{index}"], "-k must be at least 1"),
    (["search", "anything", "--index", "{tmp}/no-index"], "no index in"),
    (["search", "--queries", "{tmp}/missing.jsonl", "--index", "{index}"], "queries file not found"),
    (["search", "--queries", "{tmp}/bad.jsonl", "--index", "{index}"], "bad.jsonl:2: not valid JSON"),
    (["search", "--queries", "{tmp}/noid.jsonl", "--index", "{index}"], "needs 'id' and 'question'"),
    (["index", "--corpus", "{tmp}/no-corpus", "--index", "{tmp}/i"], "corpus folder not found"),
])
def test_errors_are_one_clear_line(argv, message, tmp_path, capsys, real_index):
    (tmp_path / "bad.jsonl").write_text('{"id": "1", "question": "ok"}\n{oops\n')
    (tmp_path / "noid.jsonl").write_text('{"question": "ok"}\n')
    argv = [a.format(tmp=tmp_path, index=real_index.index_dir) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert "Traceback" not in err[0]


def test_unknown_mode_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["search", "q", "--mode", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_search_json_contract(real_index, capsys):
    assert main(["search", "What makes a good commissioning manager?", "-k", "3", "--json",
                 "--index", str(real_index.index_dir), "--corpus", str(real_index.corpus_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == "What makes a good commissioning manager?"
    assert len(out["results"]) == 3
    for key in ("rank", "score", "chunk_id", "doc_id", "title", "section", "text", "source", "start", "end",
                "metadata", "bm25_rank", "bm25_score", "dense_rank", "dense_score", "fused_score"):
        assert key in out["results"][0]
    assert out["results"][0]["doc_id"] == "animateurs-commissioning-managers-2012"


def test_batch_search_reads_ragcomm_and_beir_lines(real_index, tmp_path, capsys):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "question": "pharmacy technician training across sectors"}\n'
                       '{"_id": "b", "text": "outsourcing commissioning support units"}\n'
                       '{"id": "c", "question": "   "}\n')
    assert main(["search", "--queries", str(queries), "-k", "2", "--mode", "bm25", "--json",
                 "--index", str(real_index.index_dir)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c"]
    assert lines[0]["results"][0]["doc_id"].endswith("pmid-36127240")
    assert lines[1]["results"][0]["doc_id"].endswith("pmid-25320000")
    assert lines[2]["results"] == [] and "empty" in lines[2]["error"]
    assert all({"rank", "score", "chunk_id", "doc_id", "title", "section", "text"} <= set(h)
               for x in lines for h in x["results"])


def test_readable_output_and_filters(real_index, capsys):
    assert main(["search", "skill mix", "-k", "2", "--kind", "abstract", "--year-from", "2020",
                 "--index", str(real_index.index_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ") and "BM25 #" in out and "dense #" in out
    assert "2019" not in out.split("\n")[0]


def test_a_year_range_keeps_undated_documents_unless_asked(real_index, capsys):
    """As in the chat and the API: --year-from keeps documents whose year is unknown (the CCG
    paper, the web page); --exclude-undated leaves them out. The HSMC report is dated 2006
    (issue 25), so a range from 2015 leaves it out either way."""
    where = ["--index", str(real_index.index_dir), "--corpus", str(real_index.corpus_dir)]
    question = ["search", "What is practice based commissioning?", "-k", "10", "--json", "--year-from", "2015"]
    assert main([*question, *where]) == 0
    kept = {h["doc_id"] for h in json.loads(capsys.readouterr().out)["results"]}
    assert "ccg-network-leadership-study" in kept and "hsmc-pct-commissioning-report-2006" not in kept
    assert main([*question, "--exclude-undated", *where]) == 0
    dated = json.loads(capsys.readouterr().out)["results"]
    assert dated and all(h["metadata"].get("year") and h["metadata"]["year"] >= 2015 for h in dated)
    assert main(["search", "skill mix", "--exclude-undated", *where]) == 2
    assert "--exclude-undated goes with" in capsys.readouterr().err


def test_module_entry_point_and_up_to_date_index(real_index):
    run = subprocess.run([sys.executable, "-m", "ragcomm", "index", "--corpus", str(real_index.corpus_dir),
                          "--index", str(real_index.index_dir)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "is up to date" in run.stdout  # the second run loads index/ without re-embedding
