"""Generated answers against a real language model served on this machine (llama.cpp with
SmolLM2-135M, 1 thread): a normal answer is checked sentence by sentence (kept, or a clean
fallback to the extractive answer), streaming gives the words as they come, an endpoint that
is down, slow or silent gives the extractive answer and says why, and replies with invented
markers or sentences from no cited source are rejected. A 135M model writes poor text, so
these tests assert on the check and the fallback, not on the prose; replies that must say
something exact are forced with llama.cpp's grammar (the real server still writes them)."""
import json
import socket
import threading

import pytest

from ragcomm.answer.generate import Checked, GenerationError, LLMConfig, OpenAIGenerator, Token, chat_stream
from ragcomm.cli import main

pytestmark = pytest.mark.llm

QUESTION = "Why were CCGs reluctant to outsource commissioning support?"
PATIENT = 600  # seconds: a 135M model on one thread slows sharply when the machine is busy


def exactly(text: str) -> dict:
    """llama.cpp request fields that make the model write exactly `text`."""
    return {"grammar": 'root ::= "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'}


def generator(answerer, url, model="smollm2", **options):
    options.setdefault("timeout", PATIENT)
    options.setdefault("max_tokens", 120)
    return OpenAIGenerator(answerer, LLMConfig(url, model, **options))


def assert_clean_fallback(answer, extractive, reason):
    g = answer.generated
    assert g.fallback and reason in g.reason, g.reason
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert answer.note.startswith(f"The generated answer was not used: {g.reason}")


def test_a_normal_answer_is_checked_sentence_by_sentence(real_answerer, llm_server):
    answer = generator(real_answerer, llm_server.url).ask(QUESTION, k=3)
    g = answer.generated
    assert g is not None and g.output.strip() and g.sentences
    for s in g.sentences:  # every verdict is explained; every kept sentence is tied to a passage sentence
        assert s.supported == (s.reason == "")
        if s.supported:
            hit = answer.hits[s.marker - 1]
            assert s.marker in s.markers and hit.text[s.passage_start:s.passage_end] == s.evidence
    extractive = real_answerer.ask(QUESTION, k=3)
    if g.fallback:
        assert_clean_fallback(answer, extractive, "sentences are supported")
    else:
        assert g.kept >= 0.5 * len(g.sentences) and len(answer.citations) == g.kept
        assert all(answer.sources[c.marker - 1].chunk_id == c.chunk_id for c in answer.citations)
    json.dumps(answer.to_dict())


def test_streaming_gives_the_words_then_the_checked_answer(real_answerer, llm_server):
    events = list(generator(real_answerer, llm_server.url, max_tokens=60).stream(QUESTION, k=3))
    tokens = [e for e in events if isinstance(e, Token)]
    answer = events[-1]
    assert len(tokens) > 1 and "".join(t.text for t in tokens) == answer.generated.output
    # the words and the checked sentences as they come, then the answer (events.index found the
    # first token equal to the last one, so a repeated word failed this)
    assert all(isinstance(e, (Token, Checked)) for e in events[:-1]) and answer.generated is not None
    checked = [e for e in events if isinstance(e, Checked)]
    assert [c.index for c in checked] == list(range(len(answer.generated.sentences)))


def test_a_supported_reply_is_kept_and_cites_its_evidence_verbatim(real_answerer, llm_server):
    extractive = real_answerer.ask(QUESTION, k=3)
    quoted = extractive.citations[0]
    n = [h.chunk_id for h in extractive.hits].index(quoted.chunk_id) + 1
    reply = f"{' '.join(quoted.sentence.split())} [{n}]"
    answer = generator(real_answerer, llm_server.url, extra=exactly(reply)).ask(QUESTION, k=3)
    g = answer.generated
    assert g.output == reply and not g.fallback and g.kept == 1
    assert answer.text == reply and not answer.abstained
    c = answer.citations[0]
    assert c.marker == n and c.sentence == quoted.sentence and (c.start, c.end) == (quoted.start, quoted.end)
    row = answer.to_dict()
    assert row["generated"]["fallback"] is False and row["generated"]["sentences"][0]["similarity"] > 0.9
    assert row["sources"][n - 1]["marker"] == n


def test_invented_markers_and_sentences_from_no_source_are_rejected(real_answerer, llm_server):
    reply = ("Many CCGs were reluctant to outsource core commissioning support functions [7]. "
             "Both formal and informal observation were undertaken (150 hours) [1]. "
             "CCGs outsourced everything to save money.")
    answer = generator(real_answerer, llm_server.url, extra=exactly(reply)).ask(QUESTION, k=3)
    reasons = [s.reason for s in answer.generated.sentences]
    assert reasons[0] == "cites a passage that does not exist: [7]"
    assert reasons[1].startswith(("words not in the cited passage", "numbers not", "no sentence"))
    assert reasons[2] == "cites no passage"
    assert_clean_fallback(answer, real_answerer.ask(QUESTION, k=3), "only 0 of its 3 sentences are supported")


def test_an_endpoint_that_is_down_gives_the_extractive_answer(real_answerer, llm_server):
    from ragcomm.answer.llamacpp import LocalServer

    with LocalServer(threads=1, timeout=300) as other:
        url = other.url
    answer = generator(real_answerer, url).ask(QUESTION, k=3)  # the server has stopped
    assert_clean_fallback(answer, real_answerer.ask(QUESTION, k=3), "cannot reach the language model at")
    assert "Connection refused" in answer.note


def test_a_slow_model_times_out_and_gives_the_extractive_answer(real_answerer, llm_server):
    # One thread cannot read five passages and write 300 tokens in half a second.
    answer = generator(real_answerer, llm_server.url, timeout=0.5, max_tokens=300).ask(QUESTION, k=5)
    assert_clean_fallback(answer, real_answerer.ask(QUESTION, k=5), "did not")
    assert "within 0.5 s" in answer.generated.reason


def test_a_silent_endpoint_times_out(real_answerer):
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        answer = generator(real_answerer, url, timeout=1).ask(QUESTION, k=3)
    assert_clean_fallback(answer, real_answerer.ask(QUESTION, k=3), "did not answer within 1 s")


def test_http_errors_and_wrong_paths_are_one_clear_message(llm_server):
    config = LLMConfig(llm_server.url.replace("/v1", "/nowhere"), "smollm2", timeout=PATIENT)
    with pytest.raises(GenerationError, match=r"answered HTTP 404"):
        list(chat_stream(config, [{"role": "user", "content": "hi"}]))


def test_the_key_comes_from_the_environment_only(monkeypatch):
    seen = {}

    def serve(listener):
        conn, _ = listener.accept()
        with conn:
            seen["request"] = conn.recv(65536).decode()
            conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
                         b'{"error": {"message": "invalid key xx"}}')

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        thread = threading.Thread(target=serve, args=(listener,))
        thread.start()
        monkeypatch.setenv("RAGCOMM_LLM_API_KEY", "sk-test-123")
        config = LLMConfig(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", "m", timeout=30)
        with pytest.raises(GenerationError, match=r"HTTP 401: invalid key xx") as failure:
            list(chat_stream(config, [{"role": "user", "content": "hi"}]))
        thread.join()
    assert "Authorization: Bearer sk-test-123" in seen["request"] and "sk-test" not in str(failure.value)


@pytest.mark.parametrize("url", ["ftp://host/v1", "127.0.0.1:8080", ""])
def test_bad_urls_are_refused(url):
    with pytest.raises(ValueError, match="--llm-url"):
        LLMConfig(url, "m")


def test_cli_ask_with_the_local_model(real_index, llm_server, capsys):
    argv = ["ask", QUESTION, "-k", "3", "--index", str(real_index.index_dir), "--corpus", str(real_index.corpus_dir),
            "--generator", "openai", "--llm-url", llm_server.url, "--llm-model", "smollm2", "--llm-timeout",
            str(PATIENT), "--json"]
    assert main(argv) == 0
    row = json.loads(capsys.readouterr().out)
    g = row["generated"]
    assert g["model"] == "smollm2" and g["checked"] == len(g["sentences"]) and g["kept"] <= g["checked"]
    assert all({"sentence", "markers", "supported", "reason", "evidence", "similarity", "coverage"} <= set(s)
               for s in g["sentences"])


@pytest.mark.parametrize("argv,message", [
    (["--generator", "openai"], "--generator openai needs --llm-url and --llm-model"),
    (["--llm-url", "http://127.0.0.1:1/v1"], "--llm-url and --llm-model go with --generator openai"),
    (["--generator", "openai", "--llm-url", "nonsense", "--llm-model", "m"], "--llm-url must be an http(s) URL"),
    (["--stream"], "--stream goes with --generator openai"),
])
def test_cli_generator_options_fail_clearly(argv, message, real_index, capsys):
    assert main(["ask", QUESTION, "--index", str(real_index.index_dir), *argv]) == 2
    assert message in capsys.readouterr().err
