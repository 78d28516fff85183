"""Made-up awkward files, generated here: a scanned page, a garbled text layer, an
owner-password PDF, a user-password PDF, two columns, a DOCX with styles, a contents list and
a table, a PPTX, an XLSX, a CSV, an ODT and a DOC; and bad input reported file by file."""
import shutil
from pathlib import Path

import pytest

from ragcomm.ingest import IngestError, load_corpus, load_file, read_document
from ragcomm.ingest.readers import ocr

DATA = Path(__file__).parent / "data"
needs_tesseract = pytest.mark.skipif(not ocr.available(), reason="Tesseract missing: `make setup` installs it")

SCANNED = ["Virtual wards let patients get hospital care at home.",
           "Community teams review each patient every day by video call.",
           "The integrated care board funds forty virtual ward beds."]


def text_image(lines, size=(1275, 1650), font_size=34):
    """A white page with black text, as a scanner would give it (150 dpi, A4-ish)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("DejaVuSans.ttf", font_size) if _has_dejavu() else ImageFont.load_default(font_size)
    for i, line in enumerate(lines):
        draw.text((110, 160 + i * 70), line, fill=0, font=font)
    return image


def _has_dejavu():
    from PIL import ImageFont

    try:
        ImageFont.truetype("DejaVuSans.ttf", 10)
        return True
    except OSError:
        return False


def figure_pdf(path: Path, texts, image=None, pages=1):
    """A PDF drawn by matplotlib: texts [(x, y, text, kwargs)] in the order given (that is the
    order of the PDF's content stream), optionally over a full-page image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for _ in range(pages):
            fig = plt.figure(figsize=(8.27, 11.69))
            if image is not None:
                ax = fig.add_axes([0, 0, 1, 1])
                ax.imshow(image, cmap="gray", vmin=0, vmax=255)
                ax.axis("off")
            for x, y, text, kwargs in texts:
                fig.text(x, y, text, **kwargs)
            pdf.savefig(fig)
            plt.close(fig)
    return path


@needs_tesseract
def test_scanned_page_is_read_by_ocr_with_its_confidence(tmp_path):
    pdf = tmp_path / "scanned.pdf"
    text_image(SCANNED).save(pdf, "PDF", resolution=150)
    doc = load_file(pdf, tmp_path)[0]
    assert "integrated care board funds forty virtual ward beds" in doc.text.lower()
    assert doc.metadata["ocr_pages"]["1"] > 60  # Tesseract's mean word confidence, kept
    assert doc.pages == [(0, 1)]


@needs_tesseract
def test_garbled_text_layer_falls_back_to_ocr(tmp_path):
    # An invisible text layer of nonsense over a picture of the real text: what a PDF whose
    # fonts have no usable Unicode map gives (../shared/realdocs/SOURCES.md, GIRFT via pypdf).
    garbage = "y5V83K£9KV5E3E-•%V)7Vz-3•-£97-•%V)3E5Q- 4£9K)V8•3-%5VE£3Q9K-•V)7 £V5-3E8K9•%)Q"
    texts = [(0.1, 0.9 - i * 0.03, garbage, {"alpha": 0.0, "fontsize": 10}) for i in range(6)]
    pdf = figure_pdf(tmp_path / "garbled.pdf", texts, image=text_image(SCANNED))
    doc = load_file(pdf, tmp_path)[0]
    assert "community teams review each patient every day" in doc.text.lower()
    assert "£9KV5" not in doc.text
    assert "1" in doc.metadata["ocr_pages"]


def simple_pdf(path: Path, lines) -> Path:
    return figure_pdf(path, [(0.1, 0.9 - i * 0.03, line, {"fontsize": 11}) for i, line in enumerate(lines)])


def test_owner_password_pdf_is_read_and_user_password_pdf_refused(tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = simple_pdf(tmp_path / "plain.pdf", ["Owner passwords only restrict printing and copying."])
    for name, user in (("owner.pdf", ""), ("user.pdf", "secret")):
        writer = PdfWriter()
        writer.append(PdfReader(plain))
        writer.encrypt(user_password=user, owner_password="owner-only", algorithm="RC4-128")
        writer.write(tmp_path / name)
    assert "restrict printing and copying" in read_document(tmp_path / "owner.pdf").text
    with pytest.raises(IngestError, match="password"):
        read_document(tmp_path / "user.pdf")


LEFT = ["Left column line %d: referrals reach the hub" % i for i in range(1, 11)]
RIGHT = ["Right column line %d: the hub replies" % i for i in range(1, 11)]


def test_two_column_page_reads_one_column_then_the_other(tmp_path):
    # Drawn row by row (left line 1, right line 1, ...): only a reader that sees the columns
    # gets the order right.
    texts = [(0.1, 0.95, "Two column briefing", {"fontsize": 18})]
    for i, (left, right) in enumerate(zip(LEFT, RIGHT)):
        texts.append((0.06, 0.88 - i * 0.02, left, {"fontsize": 8}))
        texts.append((0.54, 0.88 - i * 0.02, right, {"fontsize": 8}))
    extracted = read_document(figure_pdf(tmp_path / "columns.pdf", texts))
    text = extracted.text
    assert text.index(LEFT[9]) < text.index(RIGHT[0])  # the whole left column first
    assert all(text.index(a) < text.index(b) for a, b in zip(LEFT, LEFT[1:]))
    assert extracted.title == "Two column briefing"


BODIES = ["Virtual wards admit adults from the emergency department.", "Frailty teams visit within two hours.",
          "Respiratory patients wear pulse oximeters at home.", "Each ward reports its occupancy every month."]


def test_running_footer_and_page_numbers_leave_the_text_for_metadata(tmp_path):
    footer = "© Made-up ICB 2025. Commissioning policy for virtual wards"
    path = tmp_path / "footer.pdf"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for n in range(1, 5):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(0.1, 0.6, f"Body text of page {n}: {BODIES[n - 1]}", fontsize=11)
            fig.text(0.1, 0.03, footer, fontsize=8)
            fig.text(0.9, 0.03, str(n), fontsize=8)
            pdf.savefig(fig)
            plt.close(fig)
    doc = load_file(path, tmp_path)[0]
    assert "Made-up ICB" not in doc.text
    assert any(footer in f for f in doc.metadata["running_footers"])
    assert [p for _, p in doc.pages] == [1, 2, 3, 4]
    assert doc.page_at(doc.text.index("page 3")) == 3


def test_docx_keeps_styles_order_and_tables_in_place(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Virtual ward operating model"
    d.add_paragraph("Contents")
    d.add_paragraph("Eligibility\t3")  # a contents line: never a heading, never text
    d.add_heading("Eligibility", level=1)
    d.add_paragraph("Adults with frailty or acute respiratory infection are eligible.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Pathway", "Beds"
    table.cell(1, 0).text, table.cell(1, 1).text = "Frailty", "24"
    d.add_paragraph("Beds are reviewed every quarter.")
    d.add_heading("Staffing", level=2)
    d.add_paragraph("A consultant geriatrician leads each daily board round.")
    d.save(tmp_path / "model.docx")
    doc = load_file(tmp_path / "model.docx", tmp_path)[0]
    assert doc.title == "Virtual ward operating model"
    assert [h for _, h in doc.sections] == ["Eligibility", "Staffing"]
    assert "Eligibility 3" not in doc.text and "\t3" not in doc.text
    text = doc.text
    assert text.index("are eligible") < text.index("Frailty | 24") < text.index("reviewed every quarter")
    assert doc.section_at(text.index("consultant geriatrician")) == "Staffing"


def test_pptx_slide_is_a_page_and_a_section(tmp_path):
    from pptx import Presentation

    deck = Presentation()
    for title, bullet in (("Why virtual wards", "Beds at home free hospital capacity."),
                          ("How referrals work", "GPs refer through the single point of access.")):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = bullet
    deck.save(tmp_path / "deck.pptx")
    doc = load_file(tmp_path / "deck.pptx", tmp_path)[0]
    at = doc.text.index("single point of access")
    assert doc.page_at(at) == 2 and doc.section_at(at) == "Slide 2: How referrals work"
    assert doc.page_at(doc.text.index("free hospital capacity")) == 1
    assert doc.title == "Why virtual wards" and doc.metadata["kind"] == "slides"


def test_spreadsheet_rows_carry_their_headers(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Capacity"
    sheet.append(["Virtual ward capacity by ICB, made up for a test"])
    sheet.append([])
    sheet.append(["ICB", "Capacity", "Occupancy %"])
    sheet.append(["NHS Example North ICB", 120, 0.8125])
    sheet.append(["NHS Example South ICB", 95, 0.75])
    book.save(tmp_path / "capacity.xlsx")
    (tmp_path / "codes.csv").write_text("code,name\nVW01,Virtual ward capacity\nVW02,Virtual ward occupancy\n")
    docs, problems = load_corpus(tmp_path)
    assert problems == []
    by_id = {d.doc_id: d for d in docs}
    xlsx = by_id["capacity"]
    assert "ICB: NHS Example South ICB; Capacity: 95; Occupancy %: 0.75." in xlsx.text
    assert xlsx.title == "Virtual ward capacity by ICB, made up for a test"
    assert xlsx.section_at(xlsx.text.index("South")) == "Sheet Capacity"
    assert "code: VW02; name: Virtual ward occupancy." in by_id["codes"].text


def test_odt_and_doc(tmp_path):
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    odt = OpenDocumentText()
    odt.text.addElement(H(outlinelevel=1, text="Discharge to assess"))
    odt.text.addElement(P(text="Patients leave hospital once they are medically fit and are assessed at home."))
    odt.save(str(tmp_path / "d2a.odt"))
    doc = load_file(tmp_path / "d2a.odt", tmp_path)[0]
    assert doc.sections == [(0, "Discharge to assess")] and "assessed at home" in doc.text

    if not shutil.which("antiword") and not shutil.which("soffice"):
        pytest.skip("antiword missing: `make setup` installs it")
    doc = load_file(DATA / "referral-guidance.doc", DATA)[0]  # made up, saved by LibreOffice as Word 97
    assert "echocardiogram within six weeks" in doc.text


def test_bad_files_get_a_message_each_and_the_rest_are_read(tmp_path, monkeypatch):
    from pypdf import PdfReader, PdfWriter

    plain = simple_pdf(tmp_path / "good.pdf", ["A readable commissioning note about referrals."])
    writer = PdfWriter()
    writer.append(PdfReader(plain))
    writer.encrypt(user_password="secret", owner_password="x", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "corrupt.pptx").write_bytes(b"\x00" * 100)
    (tmp_path / "notes.rtf").write_text("{\\rtf1 unsupported}")
    (tmp_path / "huge.csv").write_text("a,b\n" + "1,2\n" * 5000)
    import ragcomm.ingest.readers as readers

    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 10_000)  # rather than writing 200 MB
    docs, problems = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    reasons = {Path(p.path).name: p.message for p in problems}
    assert set(reasons) == {"locked.pdf", "empty.pdf", "corrupt.xlsx", "corrupt.pptx", "notes.rtf", "huge.csv"}
    assert "too large" in reasons["huge.csv"]
    assert "password" in reasons["locked.pdf"]
    assert "empty" in reasons["empty.pdf"]
    assert "unsupported" in reasons["notes.rtf"]


def test_html_keeps_headings_link_text_and_table_rows(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Virtual wards - NHS England</title></head><body><nav><ul><li>Home</li></ul></nav>"
        "<h1>Virtual wards</h1><p>Read <a href='/guidance'>the operational framework</a> first.</p>"
        "<h2>Capacity</h2><table><tr><th>ICB</th><th>Beds</th></tr><tr><td>North</td><td>120</td></tr></table>"
        "<footer>Cookie settings</footer></body></html>")
    doc = load_file(tmp_path / "page.html", tmp_path)[0]
    assert doc.title == "Virtual wards"
    assert [h for _, h in doc.sections] == ["Virtual wards", "Capacity"]
    assert "Read the operational framework first." in doc.text
    assert "North | 120" in doc.text and "Home" not in doc.text and "Cookie" not in doc.text


def test_footnote_marker_stands_apart_from_its_word(tmp_path):
    pdf = figure_pdf(tmp_path / "footnote.pdf", [
        (0.1, 0.8, r"Delegated commissioning$^{12}$ began in April 2023 for pharmacy services.", {"fontsize": 11})])
    assert "Delegated commissioning ¹² began in April 2023" in read_document(pdf).text
