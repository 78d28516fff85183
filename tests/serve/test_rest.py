"""The REST API served beside the chat by the same process: the same JSON as the CLI, clear
errors, documents listed, added and removed, original files only from inside the corpus."""
import json
import time
import urllib.error
import urllib.request

import pytest

from ragcomm.cli import main


def call(url, method="GET", body=None, headers=None, raw=None):
    data = json.dumps(body).encode() if body is not None else raw
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def as_json(reply):
    status, body, _ = reply
    return status, json.loads(body)


def test_ask_is_the_cli_json(app_url, real_index, capsys):
    question = "Why were CCGs reluctant to outsource commissioning support functions?"
    status, row = as_json(call(app_url + "api/ask", "POST", {"question": question}))
    assert status == 200
    assert main(["ask", question, "--json", "--index", str(real_index.index_dir),
                 "--corpus", str(real_index.corpus_dir)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert set(row) == set(cli)

    def cited(r):  # scores may differ in the last digit between processes (ONNX threads)
        return [(c["marker"], c["chunk_id"], c["sentence"], c["start"], c["end"]) for c in r["citations"]]

    assert row["answer"] == cli["answer"] and cited(row) == cited(cli)
    assert [s["chunk_id"] for s in row["sources"]] == [s["chunk_id"] for s in cli["sources"]]


def test_search_is_the_cli_json(app_url, real_index, capsys):
    question = "What is an animateur?"
    status, row = as_json(call(app_url + "api/search", "POST", {"question": question, "k": 3, "mode": "bm25"}))
    assert status == 200
    assert main(["search", question, "-k", "3", "--mode", "bm25", "--json", "--index", str(real_index.index_dir),
                 "--corpus", str(real_index.corpus_dir)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert row["question"] == cli["question"]
    assert [(h["chunk_id"], h["rank"], h["text"]) for h in row["results"]] == \
        [(h["chunk_id"], h["rank"], h["text"]) for h in cli["results"]]
    assert [h["bm25_score"] for h in row["results"]] == pytest.approx([h["bm25_score"] for h in cli["results"]])


def test_year_filters_keep_undated_documents_unless_asked(app_url):
    def docs(filters):
        status, row = as_json(call(app_url + "api/search", "POST",
                                   {"question": "commissioners use of information", "k": 50, "filters": filters}))
        assert status == 200
        return {r["doc_id"]: r["metadata"].get("year") for r in row["results"]}

    kept = docs({"year_from": 2015})
    assert None in kept.values() and all(y is None or y >= 2015 for y in kept.values())
    dropped = docs({"year_from": 2015, "include_undated": False})
    assert dropped and all(y is not None and y >= 2015 for y in dropped.values())
    assert docs({"year_from": 2020, "year_to": 2015}) == docs({"year_from": 2015, "year_to": 2020})  # put right


@pytest.mark.parametrize("body,message", [({"question": ""}, "empty"), ({"question": "x" * 2500}, "too long"),
                                          ({"question": "ok?", "k": 0}, "k must be a whole number"),
                                          ({"question": "ok?", "mode": "magic"}, "hybrid")])
def test_bad_requests_get_a_clear_error(app_url, body, message):
    status, raw, _ = call(app_url + "api/ask", "POST", body)
    assert status == 400 and message in raw.decode() and "Traceback" not in raw.decode()


def test_openapi_docs_and_document_list(app_url):
    status, body, _ = call(app_url + "docs")
    assert status == 200 and b"swagger" in body.lower()
    status, spec = as_json(call(app_url + "openapi.json"))
    assert {"/api/ask", "/api/search", "/api/documents", "/api/documents/{target}"} <= set(spec["paths"])
    status, row = as_json(call(app_url + "api/documents"))
    assert status == 200 and len(row["documents"]) == row["status"]["documents"] == 22
    assert {"doc_id", "title", "source", "year", "kind", "pages", "added"} <= set(row["documents"][0])


def test_original_files_and_document_view_stay_inside_the_corpus(app_url):
    status, body, headers = call(app_url + "files/animateurs-commissioning-managers-2012.txt")
    assert status == 200 and b"Animateurs" in body and headers["content-type"].startswith("text/plain")
    for path in ("files/../app.py", "files/%2e%2e/app.py", "files/..%2fapp.py", "files//etc/passwd",
                 "files/%2fetc%2fpasswd", "files/.removed/x.txt", "files/not-indexed.txt"):
        status, body, _ = call(app_url + path)
        assert status == 404 and b"root:" not in body and b"import" not in body, path
    status, row = as_json(call(app_url + "api/ask", "POST", {"question": "What makes a good commissioning manager?"}))
    c = row["citations"][0]
    status, body, _ = call(app_url + f"view/{c['doc_id']}?cite={c['start']}-{c['end']}")
    page = body.decode()
    assert status == 200 and '<mark id="cited-1"' in page
    import html

    assert html.escape(c["sentence"], quote=False) in page or html.escape(c["sentence"]) in page  # ' may be &#x27;
    assert call(app_url + "view/no-such-document")[0] == 404


def wait_for_update(url, timeout=120):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        status, row = as_json(call(url + "api/status"))
        if row["job"] and row["job"]["state"] != "running":
            return row
        time.sleep(0.3)
    raise AssertionError("the update did not finish")


def multipart(name, content, field="files"):
    boundary = "ragcommboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_upload_and_remove_through_the_api(managed_app):
    url, corpus = managed_app
    text = (b"Dental commissioning note\n\nNHS dental services in England are commissioned by integrated care "
            b"boards, which took over dental commissioning from NHS England in 2023 and must plan access for "
            b"patients who cannot find an NHS dentist.\n")
    body, headers = multipart("dental-commissioning-note.txt", text)
    status, job = as_json(call(url + "api/documents", "POST", raw=body, headers=headers))
    assert status == 202 and job["action"] == "add" and job["files"] == ["dental-commissioning-note.txt"]
    row = wait_for_update(url)
    assert row["job"]["state"] == "done", row
    status, answer = as_json(call(url + "api/ask", "POST", {"question": "Who commissions NHS dental services?"}))
    assert any(s["source"] == "dental-commissioning-note.txt" for s in answer["sources"])

    body, headers = multipart("tool.exe", b"MZ")
    assert call(url + "api/documents", "POST", raw=body, headers=headers)[0] == 415
    body, headers = multipart("../../escape.txt", text)  # the name is made safe, inside the corpus
    status, job = as_json(call(url + "api/documents", "POST", raw=body, headers=headers))
    assert status == 202 and job["files"] == ["escape.txt"] and (corpus / "escape.txt").exists()
    wait_for_update(url)

    status, job = as_json(call(url + "api/documents/dental-commissioning-note.txt", "DELETE"))
    assert status == 202 and job["action"] == "remove"
    assert wait_for_update(url)["job"]["state"] == "done"
    assert call(url + "api/documents/escape.txt", "DELETE")[0] == 202
    wait_for_update(url)
    status, row = as_json(call(url + "api/documents"))
    assert "dental-commissioning-note.txt" not in {d["source"] for d in row["documents"]}
    assert call(url + "api/documents/no-such-file.txt", "DELETE")[0] == 404
