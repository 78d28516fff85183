"""Pages end to end, with the real model: a multi-page PDF (made up here, and real NICE and
NHS England PDFs when ../shared/realdocs is beside the repository) is indexed; `search --json`
gives each passage its page range, `ask --json` each citation its page, and the viewer
renders the cited page with the sentence marked."""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from ragcomm.cli import main
from ragcomm.ingest.readers import ocr
from ragcomm.ingest.viewer import render_page, source_file

ROOT = Path(__file__).resolve().parents[2]
REALDOCS = Path(os.environ.get("RAGCOMM_SHARED", ROOT.parent / "shared")) / "realdocs"
REAL = {"recentonset-chest-pain-of-suspected-cardiac-origin-assessment-and-diagnosis-pdf-975751034821.pdf",
        "cardiac-surgery-service-specification.pdf"}
PAGES = ["Virtual wards admit adults from the emergency department and from frailty clinics.",
         "Community respiratory teams lend pulse oximeters to every patient on the virtual ward.",
         "The integrated care board pays for forty virtual ward beds until March 2026."]

SCANNED = ["Made-up scanned memo from the discharge team.",
           "Patients discharged to a care home are visited by a pharmacist",
           "within seven days to review their medicines."]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def paged_index(tmp_path_factory):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    folder = tmp_path_factory.mktemp("paged")
    corpus = folder / "corpus"
    corpus.mkdir()
    with PdfPages(corpus / "virtual-wards.pdf") as pdf:
        for n, sentence in enumerate(PAGES, start=1):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(0.1, 0.8, sentence, fontsize=10)
            fig.text(0.1, 0.03, "Made-up ICB virtual ward policy", fontsize=8)
            fig.text(0.9, 0.03, str(n), fontsize=8)
            pdf.savefig(fig)
            plt.close(fig)
    if ocr.available():  # a scanned page: its text comes from OCR
        sys.path.insert(0, str(ROOT / "tests" / "ingest"))
        from test_formats import text_image

        text_image(SCANNED).save(corpus / "scanned-note.pdf", "PDF", resolution=150)
    if REALDOCS.is_dir():
        for name in REAL:
            shutil.copy(REALDOCS / name, corpus / name)
    paths = ["--corpus", str(corpus), "--index", str(folder / "index")]
    assert main(["index", "--no-progress", *paths]) == 0
    return paths, corpus


def ask(paths, question, capsys):
    capsys.readouterr()
    assert main(["ask", question, "--json", *paths]) == 0
    return json.loads(capsys.readouterr().out)


def test_search_and_ask_give_pages(paged_index, capsys):
    paths, corpus = paged_index
    capsys.readouterr()
    assert main(["search", "who pays for the virtual ward beds", "-k", "3", "--json", *paths]) == 0
    top = json.loads(capsys.readouterr().out)["results"][0]
    assert top["doc_id"] == "virtual-wards" and (top["page_start"], top["page_end"]) == (1, 3)  # one chunk, 3 pages
    assert "Made-up ICB" not in top["text"]  # the running footer is not in the passage

    answer = ask(paths, "Who lends pulse oximeters to patients on the virtual ward?", capsys)
    cited = [c for c in answer["citations"] if "pulse oximeters" in c["sentence"]]
    assert cited and cited[0]["page"] == 2

    png, boxes = render_page(source_file(corpus, cited[0]["source"]), cited[0]["page"], cited[0]["sentence"])
    assert png.startswith(b"\x89PNG") and boxes  # the cited sentence is found and marked on its page


@pytest.mark.skipif(not ocr.available(), reason="Tesseract missing: `make setup` installs it")
def test_a_scanned_page_answers_after_ocr(paged_index, capsys):
    paths, _ = paged_index
    answer = ask(paths, "When does a pharmacist visit patients discharged to a care home?", capsys)
    cited = [c for c in answer["citations"] if c["doc_id"] == "scanned-note"]
    assert cited and "seven days" in " ".join(c["sentence"] for c in cited) and cited[0]["page"] == 1
    scanned = [s for s in answer["sources"] if s["doc_id"] == "scanned-note"][0]
    assert scanned["metadata"]["ocr_pages"]["1"] > 60  # marked as OCR'd, with its confidence


@pytest.mark.skipif(not REALDOCS.is_dir(), reason="../shared/realdocs not beside the repository (CI has it)")
@pytest.mark.parametrize("question, evidence, page", [
    ("Do symptoms of acute coronary syndrome differ between ethnic groups?",
     "Do not assess symptoms of an ACS differently in ethnic groups", 8),
    ("Who should lead the cardiac surgery service?",
     "There should be a single named lead clinician for the service", 7),
])
def test_real_guidance_is_cited_with_its_page(paged_index, capsys, question, evidence, page):
    paths, _ = paged_index
    answer = ask(paths, question, capsys)
    cited = [c for c in answer["citations"] if evidence in " ".join(c["sentence"].split())]
    assert cited, [c["sentence"] for c in answer["citations"]]
    assert cited[0]["page"] == page
    for source in answer["sources"]:
        assert "All rights reserved" not in source["text"]  # NICE's running footer
