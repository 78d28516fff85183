"""The cited page of a PDF, reached from the chat's citation: the app indexes a made-up
three-page PDF, answers with its page, and the one viewer (/view/{doc_id}) shows that page of
the original rendered (/pages/{doc_id}) with the cited sentence marked, above the text."""
import io
import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ragcomm.cli import main

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60_000  # ms, for a loaded machine; nothing here asserts on time
PAGES = ["Virtual wards admit adults from the emergency department and from frailty clinics.",
         "Community respiratory teams lend pulse oximeters to every patient on the virtual ward.",
         "The integrated care board pays for forty virtual ward beds until March 2026."]
QUESTION = "Who lends pulse oximeters to patients on the virtual ward?"

pytestmark = pytest.mark.slow


def make_pdf(path: Path) -> None:
    """Three A4 pages, one sentence each near the top, a running footer and a page number."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for n, sentence in enumerate(PAGES, start=1):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(0.1, 0.8, sentence, fontsize=10)
            fig.text(0.1, 0.03, "Made-up ICB virtual ward policy", fontsize=8)
            fig.text(0.9, 0.03, str(n), fontsize=8)
            pdf.savefig(fig)
            plt.close(fig)


def make_xlsx(path: Path) -> None:
    """A one-sheet workbook: beds per virtual ward."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Beds"
    for row in [("Ward", "Beds"), ("Respiratory virtual ward", 25), ("Frailty virtual ward", 15)]:
        sheet.append(row)
    book.save(path)


@pytest.fixture(scope="module")
def pdf_app(tmp_path_factory):
    from ragcomm.bench.launch import launch_app, stop_app

    root = tmp_path_factory.mktemp("cited-page")
    corpus = root / "corpus"
    corpus.mkdir()
    make_pdf(corpus / "virtual-wards.pdf")
    make_xlsx(corpus / "ward-beds.xlsx")
    shutil.copy(ROOT / "corpus" / "animateurs-commissioning-managers-2012.txt", corpus)
    assert main(["index", "--no-progress", "--corpus", str(corpus), "--index", str(root / "index")]) == 0
    log = open(root / "app.log", "w")
    proc, url = launch_app(root / "index", corpus, log=log, timeout=180)
    try:
        yield url
    finally:
        stop_app(proc)
        log.close()


def call(url, body=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def marked_rows(png: bytes) -> list[int]:
    """Rows of the image holding the highlight's yellow (white text paper shows none)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    px = image.load()
    return [y for y in range(0, height, 2)
            if any(r > 230 and g > 220 and b < 200 for r, g, b in (px[x, y] for x in range(0, width, 3)))]


def test_the_cited_page_is_rendered_with_the_sentence_marked(pdf_app):
    status, body, _ = call(pdf_app + "api/ask", {"question": QUESTION})
    assert status == 200
    cited = [c for c in json.loads(body)["citations"] if "pulse oximeters" in c["sentence"]]
    assert cited and cited[0]["doc_id"] == "virtual-wards" and cited[0]["page"] == 2
    cite = f"{cited[0]['start']}-{cited[0]['end']}"

    status, body, _ = call(pdf_app + f"view/virtual-wards?cite={cite}")
    page = body.decode()
    assert status == 200 and "The cited page of the original" in page
    src = re.search(r'<img src="([^"]+)"[^>]*alt="([^"]+)"', page)
    assert src.group(1).replace("&amp;", "&") == f"../pages/virtual-wards?page=2&cite={cite}"
    assert src.group(2) == "Page 2 of virtual-wards.pdf, 1 cited sentence marked in yellow"
    assert 'href="../files/virtual-wards.pdf#page=2"' in page and '<mark id="cited-1"' in page

    status, png, kind = call(pdf_app + f"pages/virtual-wards?page=2&cite={cite}")
    assert status == 200 and kind == "image/png" and png.startswith(b"\x89PNG")
    rows = marked_rows(png)
    height = len(range(0, 1286, 2))  # A4 at 110 dpi is 1286 px high
    assert rows and max(rows) / 2 < height * 0.3  # marked, where the sentence is: near the top
    status, plain, _ = call(pdf_app + "pages/virtual-wards?page=2")
    assert status == 200 and not marked_rows(plain)  # nothing cited, nothing marked
    status, other, _ = call(pdf_app + f"pages/virtual-wards?page=1&cite={cite}")
    assert status == 200 and not marked_rows(other)  # the sentence is not on page 1


def test_pages_that_cannot_be_shown_get_a_clear_error(pdf_app):
    status, body, _ = call(pdf_app + "pages/virtual-wards?page=9")
    assert status == 404 and "has no page 9 (it has 3)" in body.decode()
    status, body, _ = call(pdf_app + "pages/animateurs-commissioning-managers-2012?page=1")
    assert status == 404 and "only PDF pages" in body.decode()
    assert call(pdf_app + "pages/no-such-document?page=1")[0] == 404
    status, body, _ = call(pdf_app + "pages/virtual-wards?page=0")  # a bad request is 400 with one line (#11)
    assert status == 400 and "page" in body.decode() and "Traceback" not in body.decode()
    # A text document's view has no page images: its text only, the sentence marked.
    status, body, _ = call(pdf_app + "view/animateurs-commissioning-managers-2012?cite=0-20")
    assert status == 200 and "<img" not in body.decode() and "<mark" in body.decode()


def test_original_files_go_out_with_their_own_type(pdf_app):
    """A PDF opens in the browser; a spreadsheet comes as a download Excel knows (it used to be
    application/octet-stream); an unknown file is a 404."""
    def head(url):
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.headers.get("Content-Disposition", ""), r.read(4)

    status, kind, disposition, start = head(pdf_app + "files/virtual-wards.pdf")
    assert status == 200 and kind == "application/pdf" and disposition.startswith("inline") and start == b"%PDF"
    status, kind, disposition, start = head(pdf_app + "files/ward-beds.xlsx")
    assert status == 200 and kind == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert disposition.startswith("attachment") and "ward-beds.xlsx" in disposition and start == b"PK\x03\x04"
    assert call(pdf_app + "files/no-such.xlsx")[0] == 404


def test_the_chat_citation_opens_the_cited_page(pdf_app, browser):
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(TIMEOUT)
    page.goto(pdf_app, timeout=TIMEOUT)
    page.locator("#question textarea").wait_for()
    # The page-load step has run, as the other browser tests wait (a question sent before it
    # waits for it: test_browser_usability.py, "still loading").
    expect(page.locator("#filters-line")).to_contain_text("searching all")
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#ask").click()
    turn = page.locator("#conversation .rc-turn").first
    expect(turn.locator(".rc-cite").first).to_be_visible(timeout=TIMEOUT)
    card = page.locator("#sources .rc-card").filter(has_text="pulse oximeters").first
    expect(card).to_contain_text("(page 2)")
    turn.locator(f'.rc-cite[data-ref="{card.get_attribute("data-ref")}"]').first.click()
    link = card.get_by_role("link", name=re.compile("Open at the cited sentence"))
    with page.context.expect_page() as new:
        link.click()
    doc = new.value
    doc.wait_for_load_state()
    pages = doc.get_by_role("img", name=re.compile(r"^Page \d of virtual-wards\.pdf, \d cited sentences? marked"))
    expect(pages.first).to_be_in_viewport()  # the cited pages come first, above the text
    image = doc.get_by_role("img", name=re.compile(r"^Page 2 of virtual-wards\.pdf"))
    image.scroll_into_view_if_needed()
    doc.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle(), timeout=TIMEOUT)
    doc.screenshot(path=str(ROOT / "tests" / "artifacts" / "cited-pdf-page.png"))
    assert not errors, errors
    page.context.close()
