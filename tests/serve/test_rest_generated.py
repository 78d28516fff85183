"""POST /api/ask with "generator": the language model the server was started with (llama.cpp
with SmolLM2-135M here), every sentence checked; the extractive answer when the model's
sentences are not supported or the endpoint is down; a clear error when the server has no
language model. Asserts on the check and the fallback, not on a 135M model's prose."""
import json
import urllib.error
import urllib.request

import pytest

from ragcomm.cli import main



def call(url, method="GET", body=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=900) as r:  # a 135M model on one busy core is slow
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def as_json(reply):
    return reply[0], json.loads(reply[1])


def events_of(url, body):
    """POST /api/ask/stream: the status, the content type and the server-sent events as (name, data)."""
    request = urllib.request.Request(url + "api/ask/stream", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=900) as r:
            status, kind, raw = r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), json.loads(exc.read())
    events = []
    for block in filter(None, raw.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return status, kind, events


QUESTION = "Why were CCGs reluctant to outsource commissioning support functions?"


@pytest.mark.llm
def test_a_generated_answer_is_checked_sentence_by_sentence(llm_app_url):
    ask = {"question": QUESTION, "k": 2}
    status, extractive = as_json(call(llm_app_url + "api/ask", "POST", ask))
    assert status == 200 and "generated" not in extractive  # extractive stays the default
    status, row = as_json(call(llm_app_url + "api/ask", "POST", {**ask, "generator": "openai"}))
    assert status == 200
    g = row["generated"]
    assert g["generator"] == "openai" and g["model"] == "smollm2" and g["output"].strip()
    assert g["checked"] == len(g["sentences"]) >= 1 and g["kept"] == sum(s["supported"] for s in g["sentences"])
    for s in g["sentences"]:  # each verdict explained; a kept sentence quotes its evidence from its passage
        assert s["supported"] == (s["reason"] == "")
        if s["supported"]:
            source = row["sources"][s["marker"] - 1]
            assert source["text"][s["passage_start"]:s["passage_end"]] == s["evidence"]
    if g["fallback"]:
        assert g["reason"] and row["note"].startswith("The generated answer was not used")
        assert row["answer"] == extractive["answer"] and row["citations"] == extractive["citations"]
    else:
        assert len(row["citations"]) == g["kept"] >= 0.5 * g["checked"]
    status, info = as_json(call(llm_app_url + "api/status"))
    assert info["generators"] == ["extractive", "openai"]


@pytest.mark.llm
def test_a_generated_answer_streams_its_words_then_its_checks_then_the_answer(llm_app_url):
    status, kind, events = events_of(llm_app_url, {"question": QUESTION, "k": 2, "generator": "openai"})
    assert status == 200 and kind.startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1 and "error" not in names
    assert names.count("token") >= 1 and names.index("token") < names.index("answer")
    answer = events[-1][1]
    g = answer["generated"]
    assert "".join(data["text"] for name, data in events if name == "token") == g["output"]
    checked = [data for name, data in events if name == "checked"]
    assert [c["sentence"] for c in checked] == [s["sentence"] for s in g["sentences"]]
    assert [c["supported"] for c in checked] == [s["supported"] for s in g["sentences"]]


@pytest.mark.llm
def test_an_endpoint_that_is_down_gives_the_extractive_answer_and_says_why(dead_llm_app_url):
    ask = {"question": QUESTION, "k": 3}
    status, row = as_json(call(dead_llm_app_url + "api/ask", "POST", {**ask, "generator": "openai"}))
    assert status == 200
    g = row["generated"]
    assert g["fallback"] and g["reason"].startswith("cannot reach the language model at http://127.0.0.1:")
    _, extractive = as_json(call(dead_llm_app_url + "api/ask", "POST", ask))
    assert row["answer"] == extractive["answer"] and row["answer"] and not row["abstained"]


def test_the_extractive_answer_streams_as_one_event_and_bad_requests_are_refused(app_url):
    status, kind, events = events_of(app_url, {"question": QUESTION, "k": 3})
    assert status == 200 and kind.startswith("text/event-stream")
    assert [name for name, _ in events] == ["answer"]
    _, plain = as_json(call(app_url + "api/ask", "POST", {"question": QUESTION, "k": 3}))
    streamed = events[0][1]
    assert streamed["answer"] == plain["answer"] and streamed["citations"] == plain["citations"]
    status, _, row = events_of(app_url, {"question": "   "})  # checked before the stream starts: 400, one line
    assert status == 400 and "question" in row["detail"]
    status, _, row = events_of(app_url, {"question": QUESTION, "generator": "openai"})
    assert status == 422 and "--generator openai --llm-url" in row["detail"]


def test_a_server_without_a_language_model_refuses_the_generator_clearly(app_url):
    status, row = as_json(call(app_url + "api/ask", "POST", {"question": QUESTION, "generator": "openai"}))
    assert status == 422 and "--generator openai --llm-url" in row["detail"]
    status, row = as_json(call(app_url + "api/ask", "POST", {"question": QUESTION, "generator": "gpt-9"}))
    assert status == 400 and "extractive" in row["detail"]  # a request of the wrong shape: 400, one line (#11)
    assert as_json(call(app_url + "api/status"))[1]["generators"] == ["extractive"]


@pytest.mark.parametrize("argv, message", [
    (["--generator", "openai"], "--generator openai needs --llm-url and --llm-model"),
    (["--llm-model", "m"], "--llm-url and --llm-model go with --generator openai"),
    (["--generator", "openai", "--llm-url", "ftp://x", "--llm-model", "m"], "must be an http(s) URL"),
])
def test_serve_checks_its_language_model_options_before_loading_anything(argv, message, capsys):
    assert main(["serve", "--port", "1", *argv]) == 2
    assert message in capsys.readouterr().err
