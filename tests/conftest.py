"""Shared fixtures: the real corpus, a small fake embedder for unit tests, and one index
built with the real model (once per test session) for integration tests."""
from __future__ import annotations

import hashlib
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


class FakeEmbedder:
    """Deterministic hashed bag of words: for unit tests of index and fusion logic only."""

    model_id = "fake-hash-embedder"
    dim = 64
    max_seq_length = 10_000
    backend = "fake"

    def count_tokens(self, text):
        return len(text.split())

    def fits(self, text):
        return True

    def encode(self, texts, batch_size=32, progress=False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[row, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def encode_query(self, text):
        return self.encode([text])[0]


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def small_corpus(tmp_path):
    """A copy of two real corpus files in a temporary folder."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    """The real corpus indexed with the real model and default settings, built once."""
    from ragcomm import Settings, build_index

    folder = tmp_path_factory.mktemp("real") / "index"
    settings = Settings(corpus_dir=CORPUS, index_dir=folder)
    build_index(settings, log=lambda *_: None, progress=False)
    return settings


@pytest.fixture(scope="session")
def app_log_path(tmp_path_factory):
    """Where the session's app (app_url) writes its log: tests read it for tracebacks."""
    return tmp_path_factory.mktemp("app") / "app.log"


@contextmanager
def serving(index_dir, corpus_dir, log_path, args: tuple = (), timeout: float = 180):
    """The app launched as a subprocess on a free port (its log in `log_path`); its base URL,
    stopped on leaving."""
    from ragcomm.bench.launch import launch_app, stop_app

    with open(log_path, "w") as log:
        try:
            proc, url = launch_app(index_dir, corpus_dir, args=args, log=log, timeout=timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see {log.name}") from exc
        try:
            yield url
        finally:
            stop_app(proc)


@pytest.fixture(scope="session")
def app_url(real_index, app_log_path):
    """app.py launched as a subprocess on a free port over the real index; its base URL."""
    with serving(real_index.index_dir, real_index.corpus_dir, app_log_path, timeout=120) as url:
        yield url


# ---------------------------------------------------------------- generated answers (issue 17)
# The real local language model (llama.cpp's server with SmolLM2-135M, answer/llamacpp.py)
# and an answerer over the real index.
@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """The local model server in a child process on 127.0.0.1 (1 thread), stopped at the end."""
    from ragcomm.answer.llamacpp import LocalServer
    from ragcomm.extras import MissingExtra

    log = open(tmp_path_factory.mktemp("llm") / "server.log", "w")
    server = LocalServer(threads=1, log=log, timeout=300)
    try:
        server.start()
    except MissingExtra as exc:
        log.close()
        pytest.skip(f"the local model cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()
        log.close()


@pytest.fixture(scope="session")
def real_answerer(real_index):
    from ragcomm import Retriever, load_index
    from ragcomm.answer import Answerer

    return Answerer(Retriever(load_index(real_index.index_dir, corpus_dir=real_index.corpus_dir),
                              settings=real_index))


# ---------------------------------------------------------------- serve (#15)

@pytest.fixture(scope="session")
def managed_app(tmp_path_factory):
    """The app over a copy of two corpus files with its own index: for adding and removing
    documents without touching the repository's corpus. (base URL, corpus folder)."""
    root = tmp_path_factory.mktemp("managed")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("animateurs-commissioning-managers-2012.txt", "commissioners-use-of-information-findings.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    with serving(root / "index", corpus, root / "app.log") as url:
        yield url, corpus


# ---------------------------------------------------------------- the chat with a language model (#17)

def with_llm(real_index, tmp_path_factory, name, llm_url):
    """The app over the real index, started with --generator openai at `llm_url`."""
    args = ("--generator", "openai", "--llm-url", llm_url, "--llm-model", "smollm2", "--llm-timeout", "600")
    return serving(real_index.index_dir, real_index.corpus_dir, tmp_path_factory.mktemp(name) / "app.log",
                   args=args)


@pytest.fixture(scope="session")
def llm_app_url(real_index, llm_server, tmp_path_factory):
    """The app started with --generator openai over the local model server; its base URL."""
    with with_llm(real_index, tmp_path_factory, "llm-app", llm_server.url) as url:
        yield url


@pytest.fixture(scope="session")
def dead_llm_app_url(real_index, tmp_path_factory):
    """The app started with --generator openai and an endpoint where nothing listens; its base URL."""
    from ragcomm.bench.launch import free_port

    with with_llm(real_index, tmp_path_factory, "dead-llm-app", f"http://127.0.0.1:{free_port()}/v1") as url:
        yield url


# ---------------------------------------------------------------- a real browser (serve tests)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots, git-ignored
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
AXE = ROOT / "tests" / ".axe" / "node_modules" / "axe-core" / "axe.min.js"  # `make axe`


def ask(page, question, timeout=60_000):
    """Ask in the chat page as a user does (type, click Ask) and wait for the new turn: returns it."""
    from playwright.sync_api import expect

    turns = page.locator("#conversation .rc-turn").count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    expect(page.locator("#conversation .rc-turn")).to_have_count(turns + 1, timeout=timeout)
    return page.locator("#conversation .rc-turn").nth(turns)


def serious_violations(page) -> list:
    """axe-core's serious and critical accessibility violations on the page (id, help, first targets)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def browser():
    """One headless Debian chromium (Playwright) for a test module; its tests are skipped, with
    the reason, where none is installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make browser)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield browser
        browser.close()


# ---------------------------------------------------------------- hostile files, made small on disk (#23)
# Each expands, when read, to far more than it takes on disk: zip bombs (DOCX, XLSX), a PDF
# whose stream inflates to hundreds of MB, PDFs of 100,000 pages or a million references to
# one page, pages of 14,400 and 1,000,000 points, a CSV of a million rows.

def write_pdf(path: Path, objects: list, root: int = 1) -> Path:
    """A PDF of the given object bodies (object n is objects[n-1]), with its cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    Path(path).write_bytes(bytes(out))
    return Path(path)


def stream(data: bytes, compress: bool = False) -> bytes:
    if compress:
        data = zlib_compress(data)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def zlib_compress(data) -> bytes:
    import zlib

    if isinstance(data, bytes):
        return zlib.compress(data, 6)
    packer = zlib.compressobj(6)  # an iterable of pieces: never all in memory
    return b"".join(packer.compress(piece) for piece in data) + packer.flush()


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_pdf(path: Path, lines: list[str], width: float = 612, height: float = 792) -> Path:
    """One page of `width` x `height` points with lines of Helvetica text near its top left."""
    size = max(12.0, height / 60)
    ops = b"BT /F1 %.1f Tf %.1f %.1f Td %.1f TL " % (size, width * 0.05, height * 0.9, size * 1.4)
    ops += b"".join(b"(%s) ' " % line.encode("latin-1") for line in lines) + b"ET"
    return write_pdf(path, [b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>", FONT,
                            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.1f %.1f] /Contents 5 0 R "
                            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (width, height), stream(ops)])


def pdf_of_pages(path: Path, pages: int) -> Path:
    """`pages` distinct pages sharing one content stream (about 70 bytes a page on disk)."""
    first = 5
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> >>"
               % (kids, pages), FONT, stream(b"BT /F1 12 Tf 72 720 Td (Page text.) Tj ET")]
    objects += [b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"] * pages
    return write_pdf(path, objects)


def pdf_of_references(path: Path, fanout: int = 10, depth: int = 6) -> Path:
    """fanout**depth references to one page: a tree of page-tree nodes, each listing the node
    below it `fanout` times (a million with the defaults, in a file of a few KB)."""
    # objects: 1 catalog, 2 font, 3 content, 4 the page, 5.. the nodes from the leaf's parent up
    objects = [b"<< /Type /Catalog /Pages %d 0 R >>" % (4 + depth), FONT,
               stream(b"BT /F1 12 Tf 72 720 Td (One page, many times.) Tj ET"),
               b"<< /Type /Page /Parent 5 0 R /Contents 3 0 R /Resources << /Font << /F1 2 0 R >> >> >>"]
    child = 4
    for level in range(1, depth + 1):
        number = 4 + level
        parent = b" /Parent %d 0 R" % (number + 1) if level < depth else b""
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792]%s >>"
                       % (b" ".join([b"%d 0 R" % child] * fanout), fanout ** level, parent))
        child = number
    return write_pdf(path, objects)


def pdf_inflating(path: Path, megabytes: int = 300) -> Path:
    """One page whose content stream (drawing text again and again) inflates to `megabytes` MB."""
    line = b"BT /F1 12 Tf 72 700 Td (commissioning) Tj ET\n"
    piece = line * ((1 << 20) // len(line))
    data = zlib_compress(piece for _ in range(megabytes))
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return write_pdf(path, [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
                            FONT, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
                                  b"/Resources << /Font << /F1 3 0 R >> >> >>", content])


def zip_parts(path: Path, parts: dict) -> Path:
    """A zip file of {name: bytes, or an iterable of bytes written piece by piece}."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in parts.items():
            with archive.open(name, "w", force_zip64=True) as fh:
                for piece in ([data] if isinstance(data, bytes) else data):
                    fh.write(piece)
    return Path(path)


W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOCX_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
              b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
              b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
              b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main'
              b'+xml"/></Types>')
DOCX_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
             b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def docx_of_paragraphs(path: Path, paragraphs: int, text: str = "x") -> Path:
    """A DOCX of `paragraphs` paragraphs of `text` (three million of one letter: 330 KB on disk)."""
    para = b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % text.encode()

    def body():
        yield b'<?xml version="1.0" encoding="UTF-8"?><w:document %s><w:body>' % W
        for _ in range(paragraphs // 100_000):
            yield para * 100_000
        yield para * (paragraphs % 100_000) + b"</w:body></w:document>"

    return zip_parts(path, {"[Content_Types].xml": DOCX_TYPES, "_rels/.rels": DOCX_RELS, "word/document.xml": body()})


def xlsx_with_one_cell(path: Path, megabytes: int) -> Path:
    """An XLSX whose one cell holds `megabytes` MB of text (about 1 KB on disk per MB)."""
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    def shared():
        yield b'<?xml version="1.0" encoding="UTF-8"?><sst %s count="1" uniqueCount="1"><si><t>' % main
        for _ in range(megabytes):
            yield b"a" * (1 << 20)
        yield b"</t></si></sst>"

    return zip_parts(path, {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook'
        b'.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        b'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        b'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId1" Type="%s/officeDocument" Target="xl/workbook.xml"/>'
        b'</Relationships>' % rel,
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook %s xmlns:r="%s"><sheets><sheet name="S" '
        b'sheetId="1" r:id="rId1"/></sheets></workbook>' % (main, rel),
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/'
        b'sheet1.xml"/><Relationship Id="rId2" Type="%s/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        % (rel, rel),
        "xl/worksheets/sheet1.xml": b'<?xml version="1.0" encoding="UTF-8"?><worksheet %s><sheetData><row r="1"><c '
        b'r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>' % main,
        "xl/sharedStrings.xml": shared(),
    })


def csv_of_rows(path: Path, rows: int) -> Path:
    with open(path, "w") as fh:
        fh.write("Practice,Region,Patients\n")
        for block in range(0, rows, 100_000):
            fh.write("".join(f"P{i % 1000},N,{i % 9}\n" for i in range(block, min(rows, block + 100_000))))
    return Path(path)
