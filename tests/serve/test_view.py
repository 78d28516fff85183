"""Answers as the page, the copy button and the exports show them: one reference per document,
markers that survive brackets in the quoted text, links to the cited place, Markdown and Word
with one numbered reference list; conversations kept per user in SQLite; filters in words."""
import re

import pytest

from ragcomm.serve import export, view
from ragcomm.serve.history import History


def hit(marker, doc_id, chunk_id, text, source="report.pdf", **extra):
    return {"rank": marker, "score": 1.0, "chunk_id": chunk_id, "doc_id": doc_id, "title": doc_id.title(),
            "section": "", "text": text, "source": source, "start": 0, "end": len(text), "metadata": extra,
            "bm25_rank": 2, "bm25_score": 7.3, "dense_rank": 1, "dense_score": 0.61, "fused_score": 0.9,
            "page_start": extra.pop("page", None), "page_end": None, "marker": marker, "highlights": [[0, 10]]}


def citation(marker, doc_id, chunk_id, sentence, start, page=None):
    return {"marker": marker, "doc_id": doc_id, "chunk_id": chunk_id, "source": "report.pdf", "sentence": sentence,
            "start": start, "end": start + len(sentence), "passage_start": 0, "passage_end": len(sentence),
            "score": 0.5, "similarity": 0.5, "overlap": 0.5, "page": page}


@pytest.fixture
def answer():
    # Two passages of one report cited as [1] and [2], a third document as [3]; the second
    # sentence quotes a reference marker of its own ("[3]").
    s1, s2, s3 = "Commissioners value local data.", "GPs trusted audits [3] more than reports.", "PBC grew."
    return {"question": "q", "query": "q", "abstained": False, "answer": f"{s1} [1] {s2} [2] {s3} [3]",
            "citations": [citation(1, "report", "report#0", s1, 10, page=4), citation(2, "report", "report#5", s2, 900),
                          citation(3, "listing/pmid-1", "listing/pmid-1#0", s3, 0)],
            "sources": [hit(1, "report", "report#0", s1, page=4), hit(2, "report", "report#5", s2),
                        hit(3, "listing/pmid-1", "listing/pmid-1#0", s3, source="listing.txt", pmid="123",
                            doi="10.1/x", kind="abstract", journal="BMJ Open", year=2019)],
            "evidence": {"value": 0.6}, "note": "", "more": ["a field #13 may add"]}


def test_one_reference_per_document_with_all_its_sentences(answer):
    refs, numbers = view.references(answer, {"listing/pmid-1": "GPs and commissioning: a survey"})
    assert [r["n"] for r in refs] == [1, 2] and numbers == {1: 1, 2: 1, 3: 2}
    assert [q["sentence"] for q in refs[0]["quotes"]] == ["Commissioners value local data.",
                                                          "GPs trusted audits [3] more than reports."]
    assert refs[1]["title"] == "GPs and commissioning: a survey"
    assert view.answer_text(answer, numbers) == ("Commissioners value local data. [1] GPs trusted audits [3] more "
                                                 "than reports. [1] PBC grew. [2]")


def test_links_open_the_cited_place(answer):
    refs, _ = view.references(answer)
    report, abstract = (dict(view.links(r)) for r in refs)
    assert report["Open at the cited sentence"] == "view/report?cite=10-41&cite=900-941"
    assert report["PDF at page 4"] == "files/report.pdf#page=4"
    assert abstract["PubMed record"] == "https://pubmed.ncbi.nlm.nih.gov/123/"
    assert abstract["DOI"] == "https://doi.org/10.1/x"


def test_turn_html_escapes_and_makes_markers_buttons(answer):
    turn = {"question": "<script>x</script>", "answer": answer, "titles": {}}
    html = view.turn_html(turn, 1, True)
    assert "<script>" not in html and "&lt;script&gt;" in html
    buttons = re.findall(r'<button type="button" class="rc-cite"[^>]*>\[(\d)\]</button>', html)
    assert buttons == ["1", "1", "2"]  # the quoted "[3]" stays text
    cards = view.sources_html({"turns": [turn]})
    assert cards.count('class="rc-card"') == 2 and 'id="card-1-1"' in cards and "Why this source" in cards
    assert "Exact words (BM25): 2nd" in cards and "Meaning (embeddings): 1st" in cards


def test_abstention_shows_closest_passages(answer):
    abstained = {**answer, "abstained": True, "answer": "The documents do not appear to answer this question.",
                 "citations": []}
    refs, numbers = view.references(abstained)
    assert numbers == {} and [r["cited"] for r in refs] == [False, False]
    text = view.plain_text({"question": "q", "answer": abstained})
    assert text.startswith("The documents do not appear") and "(closest 1)" in text


def test_markdown_and_word_export_number_references_across_the_conversation(answer, tmp_path):
    other = {**answer, "answer": "PBC grew. [1]", "citations": [citation(1, "listing/pmid-1", "listing/pmid-1#0",
                                                                          "PBC grew.", 0)],
             "sources": [answer["sources"][2] | {"marker": 1}]}
    conversation = {"id": "c", "title": "Local *data*", "updated": 0,
                    "turns": [{"question": "What do commissioners value?", "answer": answer, "titles": {}},
                              {"question": "And PBC?", "answer": other, "titles": {}}]}
    md = export.to_markdown(conversation)
    assert md.startswith("# Local \\*data\\*")
    assert "## 2. And PBC?\n\nPBC grew. [2]" in md  # the abstract keeps its number 2 in the second answer
    assert "## References\n\n1. Report. report.pdf. p. 4." in md and "\n2. " in md
    from docx import Document

    path = export.to_docx(conversation, tmp_path / "c.docx")
    text = [p.text for p in Document(path).paragraphs]
    assert "References" in text and any(t.startswith("[2] ") for t in text) and "PBC grew. [2]" in text


def test_history_is_per_user(tmp_path):
    store = History(tmp_path / "h.sqlite3")
    conversation = {"id": "c1", "title": "What is PBC?", "updated": 5.0,
                    "turns": [{"question": "What is PBC?", "answer": {}}]}
    store.save("ann", conversation)
    store.save("bob", {**conversation, "id": "c2", "updated": 6.0})
    store.save("ann", {"id": "empty", "turns": []})  # nothing asked: nothing kept
    assert [c["id"] for c in store.list("ann")] == ["c1"] and store.get("bob", "c1") is None
    assert store.get("ann", "c1") == conversation
    store.delete("ann", "c1")
    assert store.list("ann") == [] and [c["id"] for c in History(tmp_path / "h.sqlite3").list("bob")] == ["c2"]


def test_filter_summary_on_the_real_index(real_index):
    from ragcomm.serve.service import Service

    import time

    service = Service(real_index, log=lambda *_: None)
    start = time.monotonic()  # let the background warm-up finish: onnxruntime aborts if it runs at exit
    while not getattr(service.answerer, "warmed", False) and time.monotonic() - start < 120:
        time.sleep(0.1)
    none = service.filter_summary({})
    assert none["searched"] == none["total"] == 22 and none["text"].startswith("No filters")
    kept = service.filter_summary({"year_from": 2015, "include_undated": True})
    dropped = service.filter_summary({"year_from": 2015})
    # undated: the CCG study and the web page (the 2006 report is dated since issue 25)
    assert kept["undated_kept"] == 2 and kept["searched"] == dropped["searched"] + 2
    assert "2 undated documents kept" in kept["text"] and "undated documents left out" in dropped["text"]
    one = service.filter_summary({"doc_id": ["ccg-network-leadership-study"], "kind": ["abstract"]})
    assert one["searched"] == 0 and "Nothing to search" in one["text"]
    titles = service.titles(["pubmed-primary-care-workforce-listing/pmid-38127564"])
    assert titles["pubmed-primary-care-workforce-listing/pmid-38127564"].startswith("This paper presents insights")


def test_more_from_the_sources_is_one_click_away(answer):
    extra = "Audits were repeated every year <b>locally</b>."
    answer["more"] = {"text": f"{extra} [4]", "citations": [citation(4, "audit", "audit#2", extra, 40)],
                      "sources": [hit(4, "audit", "audit#2", extra)]}
    page = view.turn_html({"question": "q", "answer": answer, "titles": {}}, 1, True)
    more = re.search(r'<details class="rc-more"><summary>More from the sources \(1\)</summary>(.*?)</details>', page)
    assert more and "&lt;b&gt;locally&lt;/b&gt;" in more.group(1) and "— Audit" in more.group(1)
    assert page.index('class="rc-answer"') < page.index('class="rc-more"')
    answer["abstained"] = True  # an abstention shows the closest passages, not "more"
    assert "rc-more" not in view.turn_html({"question": "q", "answer": answer}, 1, True)
    answer["abstained"], answer["more"] = False, {"text": "", "citations": [], "sources": []}
    assert "rc-more" not in view.turn_html({"question": "q", "answer": answer}, 1, True)


# ---------------------------------------------------------------- generated answers (#17)

def support(sentence, markers, supported, marker=None, evidence="", reason=""):
    return {"sentence": sentence, "markers": markers, "supported": supported, "reason": reason, "marker": marker,
            "chunk_id": None, "evidence": evidence, "passage_start": 0, "passage_end": len(evidence),
            "similarity": 0.91 if supported else 0.2, "coverage": 1.0 if supported else 0.3}


def test_a_generated_answer_shows_its_kept_sentences_and_flags_the_dropped_ones(answer):
    kept = support("Commissioners valued local data", [1], True, 1, "Commissioners value local data.")
    dropped = support("GPs ran 40 hospitals", [2], False, reason="the number 40 is not in the cited passage")
    generated = {**answer, "answer": "Commissioners valued local data [1]", "citations": answer["citations"][:1],
                 "generated": {"generator": "openai", "model": "smollm2", "output": "...", "fallback": False,
                               "reason": "", "sentences": [kept, dropped], "seconds": 1.0, "kept": 1, "checked": 2}}
    html = view.turn_html({"question": "q", "answer": generated, "titles": {}}, 1, True)
    assert "Written by a language model (smollm2)" in html and "1 of 2 supported; 1 not supported and left out" in html
    body = html.split('class="rc-answer"')[1].split("</div>")[0]
    assert "Commissioners valued local data" in body and "40 hospitals" not in body  # dropped from the answer
    assert re.findall(r'class="rc-cite"[^>]*>\[(\d)\]</button>', body) == ["1"]
    check = html.split('class="rc-check"')[1]
    assert 'class="rc-supported"' in check and 'class="rc-unsupported"' in check
    assert "the number 40 is not in the cited passage" in check and "similarity 0.91" in check
    assert view.plain_text({"question": "q", "answer": generated}).startswith("Commissioners valued local data [1]")


def test_a_fallback_says_so_first_and_shows_the_extractive_answer(answer):
    reason = "cannot reach the language model at http://127.0.0.1:9/v1/chat/completions (Connection refused)"
    from ragcomm.answer.generate import fallback_note

    fell = {**answer, "note": fallback_note(reason) + " Follow the sources.",
            "generated": {"generator": "openai", "model": "m", "output": "", "fallback": True, "reason": reason,
                          "sentences": [], "seconds": 0.1, "kept": 0, "checked": 0}}
    html = view.turn_html({"question": "q", "answer": fell, "titles": {}}, 1, True)
    banner = html.split('class="rc-fallback"')[1].split("</p>")[0]
    assert "answer was not used" in banner and "Connection refused" in banner and "extractive answer" in banner
    assert html.count("answer was not used") == 1 and "Follow the sources." in html  # the note, not repeated
    assert "GPs trusted audits [3] more than reports." in html  # the extractive sentences


def test_the_draft_shows_the_words_so_far_and_each_checked_sentence():
    html = view.draft_html("GPs <b>led</b> [1]. And", [support("GPs led", [1], True, 1, "GPs led.")], "smollm2")
    assert "GPs &lt;b&gt;led&lt;/b&gt; [1]. And" in html and 'class="rc-supported"' in html and "smollm2" in html


def test_a_cautioned_answer_says_what_to_check_first_in_the_page_and_the_copy(answer):
    """Outcome "caution" (#24): the answer is shown, its caution above it, in the page and the copied text."""
    cautioned = {**answer, "outcome": "caution",
                 "caution": "The closest passages may not answer this: check them (the reader found it weak)."}
    turn = {"question": "q", "answer": cautioned, "titles": {}}
    page = view.turn_html(turn, 1, True)
    assert page.index('class="rc-caution"') < page.index('class="rc-cite"')
    assert "check them (the reader found it weak)" in page and "rc-abstain" not in page
    assert view.plain_text(turn).startswith("Check the sources: The closest passages may not answer this")
    assert "rc-caution" not in view.turn_html({"question": "q", "answer": answer, "titles": {}}, 1, True)
