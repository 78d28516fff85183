"""Bad input at every boundary is a clear error, never a traceback: the chat's /ask endpoint
(through a real client: wrong types for every parameter, and no traceback in the server log),
the REST API (/api/ask, /api/search: 400 with the same words), the Service itself, and the
CLI's files (--queries, --auth-file)."""
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ragcomm.cli import main
from ragcomm.search import QueryError
from ragcomm.serve.checks import check_history, check_k, check_mode

gradio_client = pytest.importorskip("gradio_client")
ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is an animateur?"

# (parameters of /ask besides the question, words the error must contain)
BAD_REQUESTS = [
    ({"k": None}, "k must be a whole number"),
    ({"k": "abc"}, "k must be a whole number"),
    ({"k": 0}, "k must be a whole number"),
    ({"k": 10**9}, "k must be a whole number"),
    ({"k": 2.5}, "k must be a whole number"),
    ({"k": [5]}, "k must be a whole number"),
    ({"mode": 5}, "mode must be one of"),
    ({"mode": "fuzzy"}, "mode must be one of"),
    ({"history": "an earlier question"}, "history must be a list"),
    ({"history": [None]}, "history must be a list"),
    ({"history": [{"q": 1}]}, "history must be a list"),
    ({"history": ["x" * 5000]}, "too long"),
    ({"documents": 5}, "documents must be text or a list of text"),
    ({"documents": [1, 2]}, "documents must be text or a list of text"),
    ({"year_from": "abc"}, "year_from must be a year"),
    ({"year_from": 1.5}, "year_from must be a year"),
    ({"year_to": [2010]}, "year_to must be a year"),
    ({"year_to": -3}, "year_to must be a year"),
    ({"kinds": {"a": 1}}, "kinds must be text or a list of text"),
    ({"question": None}, "the question must be text"),
    ({"question": ["What?"]}, "the question must be text"),
    ({"question": 42}, "the question must be text"),
]


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


@pytest.mark.parametrize("params,message", BAD_REQUESTS, ids=[repr(p) for p, _ in BAD_REQUESTS])
def test_bad_types_through_ask_are_clear_errors(client, params, message):
    with pytest.raises(Exception) as caught:
        client.predict(**{"question": QUESTION, **params}, api_name="/ask")
    text = str(caught.value)
    assert message in text, text
    assert "Traceback" not in text and "Something went wrong" not in text


def test_good_values_in_loose_shapes_are_accepted(client):
    row = client.predict(QUESTION, "3", "bm25", [], "animateurs-commissioning-managers-2012", "2010", 2014.0,
                         api_name="/ask")
    assert {s["doc_id"] for s in row["sources"]} == {"animateurs-commissioning-managers-2012"}
    assert len(row["sources"]) <= 3 and row["index"]["generation"] >= 1


def test_no_traceback_in_the_server_log_for_user_errors(client, app_log_path):
    for params, _ in BAD_REQUESTS[:6]:
        with pytest.raises(Exception):
            client.predict(**{"question": QUESTION, **params}, api_name="/ask")
    assert client.predict(QUESTION, api_name="/ask")["answer"]  # and it still answers
    log = app_log_path.read_text()
    assert "Traceback" not in log, log[-3000:]


# ---------------------------------------------------------------- the REST API

# (the JSON body besides the question, words the 400 must contain)
BAD_BODIES = [
    ({"k": None}, "k must be a whole number"),
    ({"k": "abc"}, "k must be a whole number"),
    ({"k": 0}, "k must be a whole number"),
    ({"k": [5]}, "k must be a whole number"),
    ({"mode": 5}, "mode must be one of"),
    ({"history": "an earlier question"}, "history must be a list"),
    ({"filters": {"year_from": "abc"}}, "year_from must be a year"),
    ({"filters": {"year_to": [2010]}}, "year_to must be a year"),
    ({"filters": {"doc_id": [1, 2]}}, "doc_id must be text or a list of text"),
    ({"filters": {"include_undated": "maybe"}}, "include_undated must be true or false"),
    ({"filters": ["animateurs"]}, "filters must be an object"),
    ({"question": None}, "the question must be text"),
    ({"question": ["What?"]}, "the question must be text"),
]


def post(url, body: bytes):
    request = urllib.request.Request(url, body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


REST_CASES = [(endpoint, params, message) for endpoint in ("api/ask", "api/search") for params, message in BAD_BODIES
              if endpoint == "api/ask" or "history" not in params]  # /api/search takes no history


@pytest.mark.parametrize("endpoint,params,message", REST_CASES, ids=[f"{e}-{p!r}" for e, p, _ in REST_CASES])
def test_bad_types_through_the_rest_api_are_400(app_url, endpoint, params, message):
    status, text = post(app_url + endpoint, json.dumps({"question": QUESTION, **params}).encode())
    assert status == 400 and message in json.loads(text)["detail"], text
    assert "Traceback" not in text


@pytest.mark.parametrize("raw,message", [(b"[1, 2]", "must be a JSON object"), (b"{broken", "JSON"),
                                         (b'"What?"', "must be a JSON object"), (b"{}", "question")])
def test_bodies_of_the_wrong_shape_are_400(app_url, raw, message):
    status, text = post(app_url + "api/ask", raw)
    assert status == 400 and message in json.loads(text)["detail"], text


def test_rest_user_errors_leave_no_traceback_and_answers_carry_the_index(app_url, app_log_path):
    for params, _ in BAD_BODIES:
        assert post(app_url + "api/ask", json.dumps({"question": QUESTION, **params}).encode())[0] == 400
    status, text = post(app_url + "api/ask", json.dumps({"question": QUESTION, "k": "3"}).encode())
    row = json.loads(text)
    assert status == 200 and row["answer"] and row["index"]["generation"] >= 1 and row["index"]["documents"] == 22
    assert "Traceback" not in app_log_path.read_text()


def test_the_service_checks_are_shared():
    assert check_k(4) == 4 and check_mode(None) is None and check_history(None) == []
    for bad in (True, -1, "1e3", 101):
        with pytest.raises(QueryError):
            check_k(bad)


# ---------------------------------------------------------------- the CLI's files

@pytest.mark.parametrize("content,message", [
    ('["What is PBC?"]\n', "must be a JSON object"),
    ('"just text"\n', "must be a JSON object"),
    ("42\n", "must be a JSON object"),
    ('{"id": "q1"}\n', "needs 'id' and 'question'"),
    ('{"id": ["a"], "question": "What?"}\n', "needs 'id' and 'question'"),
    ("{broken\n", "not valid JSON"),
    (b"\xff\xfe\x00\x01", "not UTF-8"),
])
def test_bad_queries_files_are_one_line(real_index, tmp_path, capsys, content, message):
    queries = tmp_path / "queries.jsonl"
    queries.write_bytes(content if isinstance(content, bytes) else content.encode())
    for command in ("search", "ask"):
        code = main([command, "--queries", str(queries), "--index", str(real_index.index_dir),
                     "--corpus", str(real_index.corpus_dir)])
        out, err = capsys.readouterr()
        assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in out + err, err


def test_a_folder_as_the_queries_file(real_index, tmp_path, capsys):
    assert main(["search", "--queries", str(tmp_path), "--index", str(real_index.index_dir)]) == 2
    assert "is a folder, not a queries file" in capsys.readouterr().err


@pytest.mark.parametrize("make,message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b"\xff\xfeuser:password"), "not UTF-8"),
])
def test_bad_auth_files_are_one_line(tmp_path, make, message):
    auth = tmp_path / "auth"
    make(auth)
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--auth-file", str(auth), "--port", "1"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("args,message", [
    (["add", "{folder}"], "a folder, not a file"),
    (["add", "{folder}/missing.txt"], "no such file"),
    (["remove", "../etc/passwd"], "no document or corpus file"),
    (["search", "x", "-k", "0"], "-k must be at least 1"),
    (["status", "--index", "{folder}/nowhere"], "no index in"),
])
def test_bad_cli_arguments_are_clear(real_index, tmp_path, capsys, args, message):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Commissioning managers act as animateurs of change.")
    args = [a.replace("{folder}", str(tmp_path)) for a in args]
    if "--index" not in args:
        args += ["--index", str(tmp_path / "index")]
    code = main([*args, "--corpus", str(corpus)])
    out, err = capsys.readouterr()
    assert code in (1, 2) and message in out + err and "Traceback" not in out + err, out + err
