"""Cleaning, record splitting and readers, on real snippets of the corpus."""
from pathlib import Path

import pytest

from ragcomm.ingest import (IngestError, clean_text, is_listing, load_corpus, read_text, reflow,
                            split_records)

ROOT = Path(__file__).resolve().parents[2]
LISTING = (ROOT / "corpus" / "pubmed-primary-care-workforce-listing.txt").read_text()
REPORT = (ROOT / "corpus" / "hsmc-pct-commissioning-report-2006.txt").read_text()


def test_web_leftovers_are_removed():
    raw = ("Your browser doesn't support javascript.\nloading\nShow: 20 | 50 | 100\n"
           "Results 1 - 20 de 26\nFilter\nReal text here.\nEdit this page\n")
    assert clean_text(raw).text == "Real text here."


def test_hard_wrapped_lines_are_reflowed_into_paragraphs():
    raw = ("In March 2005, the NHS Alliance and HSMC\npublished a briefing paper on ‘Reconfiguring\n"
           "PCTs: influences and options’ (Peck and\nFreeman, 2005).  The report was\ncommissioned.\n")
    text = clean_text(raw).text
    assert text == ("In March 2005, the NHS Alliance and HSMC published a briefing paper on ‘Reconfiguring "
                    "PCTs: influences and options’ (Peck and Freeman, 2005). The report was commissioned.")


def test_end_of_line_hyphenation_undone_only_for_split_words():
    vocabulary = {"commissioning", "practice", "based"}
    assert reflow(["the commis-", "sioning task"], vocabulary) == "the commissioning task"
    # 'practicebased' is no word of the file: a real compound keeps its hyphen
    assert reflow(["practice-", "based commissioning"], vocabulary) == "practice-based commissioning"


def test_page_break_inside_a_paragraph_is_joined():
    raw = "from patient surveys, citizen’s panels/juries, consultation\n\nevents and workshops, and more."
    assert clean_text(raw).text == ("from patient surveys, citizen’s panels/juries, consultation "
                                    "events and workshops, and more.")


def test_report_sections_are_found_and_passages_know_them():
    cleaned = clean_text(REPORT)
    headings = [h for _, h in cleaned.sections]
    for expected in ("Executive summary", "1. Introduction and background", "Policy context",
                     "3. Governing commissioning", "Governing partnerships", "Public Engagement"):
        assert expected in headings
    assert len(headings) >= 25
    for offset, heading in cleaned.sections:
        assert cleaned.text[offset:offset + len(heading)] == heading
    assert "\n" not in cleaned.text.split("\n\n")[3]  # paragraphs are reflowed, not hard-wrapped


def test_reference_list_moves_out_of_the_body():
    raw = (ROOT / "corpus" / "ccg-network-leadership-study.txt").read_text()
    docs = split_records(raw, "ccg-network-leadership-study.txt")
    assert len(docs) == 1
    doc = docs[0]
    assert "[1]" not in doc.text and "Towards Managed Primary Care" not in doc.text
    assert len(doc.metadata["references"]) == 25
    assert doc.title.startswith("Leadership of healthcare commissioning networks in England")


def test_listing_splits_into_one_document_per_abstract():
    assert is_listing(LISTING)
    docs = split_records(LISTING, "listing.txt")
    assert len(docs) == 18
    first = docs[0]
    assert first.doc_id == "listing/pmid-38127564"
    assert first.metadata["pmid"] == "38127564" and first.metadata["year"] == 2023
    assert first.metadata["journal"] == "J Public Health (Oxf)"
    assert "General Practitioners" in first.metadata["subjects"]
    assert first.text.count("ABSTRACT") == 1 and first.text.endswith("unfamiliar practitioners.")
    assert "Subject(s)" not in first.text  # index terms are metadata, not retrievable text
    assert len({d.doc_id for d in docs}) == 18
    assert all("Your browser" not in d.text and "SEARCH DETAIL" not in d.text for d in docs)
    # every abstract lands in exactly one record
    bmj = [d for d in docs if d.metadata["pmid"] == "25320000"][0]
    assert "commissioning support units (CSUs)" in bmj.text and bmj.metadata["year"] == 2014


def test_single_abstract_gets_citation_metadata():
    raw = (ROOT / "corpus" / "animateurs-commissioning-managers-2012.txt").read_text()
    doc = split_records(raw, "a.txt")[0]
    assert doc.metadata["doi"] == "10.1258/jhsrp.2011.011010"
    assert doc.metadata["year"] == 2012 and doc.metadata["kind"] == "abstract"
    assert "Professional Competence*" in doc.metadata["subjects"]
    assert "MeSH terms" not in doc.text


def test_corpus_loads_with_stable_ids_and_sources():
    docs, problems = load_corpus(ROOT / "corpus")
    assert problems == []
    assert len(docs) == 22
    again, _ = load_corpus(ROOT / "corpus")
    assert [d.doc_id for d in docs] == [d.doc_id for d in again]
    kinds = {d.doc_id.split("/")[0]: d.metadata["kind"] for d in docs}
    assert kinds["hsmc-pct-commissioning-report-2006"] == "report"
    assert kinds["commissioners-use-of-information-findings"] == "web page"
    assert all((ROOT / "corpus" / d.source).exists() for d in docs)


def test_html_pdf_docx_readers(tmp_path):
    html = tmp_path / "page.html"
    html.write_text("<html><head><script>alert(1)</script><style>p{}</style></head><body><nav>Menu</nav>"
                    "<h1>Commissioning</h1><p>GPs lead <b>commissioning</b> groups.</p>"
                    "<ul><li>one</li><li>two</li></ul></body></html>")
    text = read_text(html)
    assert "alert" not in text and "Menu" not in text and "GPs lead commissioning groups." in text

    import docx

    d = docx.Document()
    d.add_heading("Findings", level=1)
    d.add_paragraph("Commissioners used local data to persuade colleagues.")
    d.save(tmp_path / "report.docx")
    assert "Commissioners used local data" in read_text(tmp_path / "report.docx")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.1, 0.5, "Practice based commissioning in England")
    fig.savefig(tmp_path / "paper.pdf")
    plt.close(fig)
    assert "Practice based commissioning" in read_text(tmp_path / "paper.pdf")


def test_unreadable_files_are_reported_by_name_and_skipped(tmp_path):
    (tmp_path / "good.txt").write_text("Commissioning managers act as animateurs.")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    docs, problems = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    named = sorted(Path(p.path).name for p in problems)
    assert named == ["binary.txt", "broken.docx", "broken.pdf", "empty.md", "image.png"]
    assert all(str(p).startswith("skipped ") for p in problems)
    with pytest.raises(IngestError):
        read_text(tmp_path / "broken.pdf")
