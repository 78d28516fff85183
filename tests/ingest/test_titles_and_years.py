"""Titles and years from the best evidence in each document (issue 25, item 2): the five corpus
documents, the nine real public ones of ../shared/realdocs, and made-up files as a user
would add them (a Word file with a publication line, a form filled in from a template, a PDF
dated only by its properties, a result listing with article titles); the nine real documents
are in test_realdocs.py. Nothing here names a file to the code: each file is read as any
other would be."""
from datetime import datetime
from pathlib import Path


from ragcomm.ingest import load_corpus, load_file, split_records

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
LISTING = "pubmed-primary-care-workforce-listing.txt"

# source: (title, year) as a commissioner should see them; None: the document gives no year
CORPUS_EXPECTED = {
    "animateurs-commissioning-managers-2012.txt":
        ("'Animateurs' and animation: what makes a good commissioning manager?", 2012),
    "ccg-network-leadership-study.txt": ("Leadership of healthcare commissioning networks in England: a mixed-methods "
                                         "study on clinical commissioning groups", None),
    "commissioners-use-of-information-findings.txt": ("Commissioners use of information findings", None),
    "hsmc-pct-commissioning-report-2006.txt": ("HSMC PCT commissioning report 2006", 2006),
}


def test_corpus_titles_and_years():
    docs, problems = load_corpus(CORPUS)
    assert problems == []
    by_source = {}
    for d in docs:
        by_source.setdefault(d.source, []).append(d)
    for source, (title, year) in CORPUS_EXPECTED.items():
        (d,) = by_source[source]
        assert (d.title, d.metadata.get("year")) == (title, year), source
    hsmc = by_source["hsmc-pct-commissioning-report-2006.txt"][0]
    assert hsmc.doc_id == "hsmc-pct-commissioning-report-2006"  # ids do not change
    # The listing's records: one title each, the abstract's opening (this listing has no title
    # lines), never the journal label; their years from the citation.
    records = by_source[LISTING]
    assert len(records) == 18 and all(d.doc_id.startswith("pubmed-primary-care-workforce-listing/pmid-")
                                      for d in records)
    assert all("(PMID" not in d.title and not d.title.startswith("ABSTRACT") for d in records)
    assert {d.metadata["year"] for d in records} == {2014, 2015, 2016, 2017, 2019, 2020, 2021, 2022, 2023}
    one = next(d for d in records if d.doc_id.endswith("pmid-35977066"))
    assert one.title.startswith("The objectives are to determine the factors that motivated GP practice managers")


def test_a_listing_with_article_titles_is_titled_by_them():
    raw = ("Results 1 - 2 de 2\n1.\nPatients' experiences of skill mix change in primary care: an exploration of\n"
           "'patient illness work'.\nHall, Anne; Smith, Bob.\n"
           "J Public Health (Oxf) ; 45(Suppl 1): i54-i62, 2023 12 21.\nArticle in English | MEDLINE | ID: mdl-38127564\n"
           "\nABSTRACT\n\nBACKGROUND: This paper presents insights into patient experiences. METHODS: We met.\n"
           "2.\nSociol Health Illn ; 45(3): 623-641, 2023 03.\nArticle in English | MEDLINE | ID: mdl-36610016\n\n"
           "ABSTRACT\n\nThis study explores how pharmacists legitimise the expansion of their clinical work.\n")
    titled, untitled = split_records(raw, "workforce.txt")
    assert titled.doc_id == "workforce/pmid-38127564"
    assert titled.title == ("Patients' experiences of skill mix change in primary care: an exploration of "
                            "'patient illness work'")
    assert titled.metadata["article_title"] == titled.title
    assert titled.metadata["citation"] == "J Public Health (Oxf) ; 45(Suppl 1): i54-i62, 2023 12 21."
    assert titled.metadata["journal"] == "J Public Health (Oxf)" and titled.metadata["year"] == 2023
    assert "Hall, Anne" not in titled.title and not titled.text.startswith("Patients'")
    assert untitled.title == "This study explores how pharmacists legitimise the expansion of their clinical work."


def test_documents_a_user_adds(tmp_path):
    """A Word file with a publication line, a filled-in form whose heading is its template's,
    a PDF with no date but its properties, a text file named with its year: each titled and
    dated from what it holds."""
    import docx

    word = docx.Document()
    word.add_heading("Community diagnostics: a commissioning guide", level=0)
    word.add_paragraph("Published: 3 May 2019")
    word.add_paragraph("Integrated care boards commission community diagnostic centres for their areas.")
    word.core_properties.created = datetime(2023, 1, 9)
    word.save(tmp_path / "diagnostics guide.docx")

    form = docx.Document()
    form.add_heading("NEW PRESCRIBED SPECIALISED SERVICES SERVICE SPECIFICATION TEMPLATE", level=0)
    table = form.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "1. Service name", "Adult Critical Care"
    table.cell(1, 0).text, table.cell(1, 1).text = "2. Accountable Commissioner", "NHS England"
    form.add_paragraph("The service provides critical care to adults across the region.")
    form.save(tmp_path / "form.docx")

    (tmp_path / "winter-plan-2019.txt").write_text(
        "Winter plan\n\nIn the winter of 2019 the system opened forty escalation beds.\n", encoding="utf-8")
    (tmp_path / "targets-2031.txt").write_text(  # a year in the name the text never names: no year
        "Targets\n\nThe board will review its targets each year.\n", encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(tmp_path / "ward note.pdf", metadata={"CreationDate": datetime(2022, 6, 1)}) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.1, 0.8, "Ward staffing note for the integrated care board and its providers.", fontsize=10)
        pdf.savefig(fig)
        plt.close(fig)

    def one(name):
        (d,) = load_file(tmp_path / name, tmp_path)
        return d.title, d.metadata.get("year"), d.metadata.get("year_evidence")

    assert one("diagnostics guide.docx") == ("Community diagnostics: a commissioning guide", 2019,
                                             "Published: 3 May 2019")
    assert one("form.docx")[0] == "Adult Critical Care service specification"
    assert one("winter-plan-2019.txt") == ("Winter plan", 2019, "winter-plan-2019.txt")
    assert one("targets-2031.txt")[1] is None
    assert one("ward note.pdf")[1:] == (2022, "the file's creation date")


def test_year_filters_see_the_2006_report(real_index):
    """The 2006 report is in the year lists and a 2015-2020 filter leaves it out."""
    from ragcomm import Retriever, load_index

    index = load_index(real_index.index_dir)
    assert index.documents["hsmc-pct-commissioning-report-2006"]["metadata"]["year"] == 2006
    question = "Who will govern partnerships, markets and the public as NHS Local?"
    retriever = Retriever(index, settings=real_index)
    assert "hsmc-pct-commissioning-report-2006" in {h.doc_id for h in retriever.search(question, k=5)}
    for undated in (True, False):
        hits = retriever.search(question, k=20, filters={"year_from": 2015, "year_to": 2020,
                                                          "include_undated": undated})
        assert hits and "hsmc-pct-commissioning-report-2006" not in {h.doc_id for h in hits}
        assert all(2015 <= (h.metadata.get("year") or 2015) <= 2020 for h in hits)
