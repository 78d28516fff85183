"""Files that expand to a lot (#23): each is generated here, small on disk, and read through
the same path as `ragcomm add`, a build and the app's upload (ingest.load_file: a worker
process with the reading budget). Each is refused with one line naming the limit, or read
within the budget; the reading process's peak resident memory (VmHWM, from the worker, or
os.wait4 of a `ragcomm add` process and everything it waited for) stays well under 1.5 GB."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (csv_of_rows, docx_of_paragraphs, pdf_inflating, pdf_of_pages, pdf_of_references, text_pdf,
                      xlsx_with_one_cell)

from ragcomm.ingest import Budget, IngestError, load_corpus, load_file, plan_add
from ragcomm.ingest.readers import ocr

ROOT = Path(__file__).resolve().parents[2]
CEILING = 1536 * 2**20  # "well under 1.5 GB": every read below is also held to the budget's 1 GB


def refused(path: Path, budget: Budget = Budget()) -> IngestError:
    with pytest.raises(IngestError) as caught:
        load_file(path, path.parent, budget=budget)
    error = caught.value
    assert "Traceback" not in str(error) and "\n" not in str(error)
    assert 0 < error.peak_rss < CEILING, error.peak_rss
    return error


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "paragraphs.docx": docx_of_paragraphs(folder / "paragraphs.docx", 3_000_000),
        "cell.xlsx": xlsx_with_one_cell(folder / "cell.xlsx", 400),
        "inflating.pdf": pdf_inflating(folder / "inflating.pdf", 300),
        "pages.pdf": pdf_of_pages(folder / "pages.pdf", 100_000),
        "references.pdf": pdf_of_references(folder / "references.pdf"),
        "rows.csv": csv_of_rows(folder / "rows.csv", 1_000_000),
    }
    for path in made.values():
        assert path.stat().st_size < 10 * 2**20, path  # small on disk (the CSV: a million short rows)
    return made


@pytest.mark.parametrize("name, limit", [
    ("paragraphs.docx", "more than 1,000,000 cells or paragraphs"),  # 3 million paragraphs, 330 KB
    ("cell.xlsx", "expands to more than 256 MB"),  # one cell of 400 MB, 400 KB on disk
    ("inflating.pdf", "expands to more than 256 MB"),  # a content stream of 300 MB, 1 MB on disk
    ("pages.pdf", "more than 5,000 pages"),
    ("references.pdf", "more than 5,000 pages"),  # one page referred to a million times, 2 KB
    ("rows.csv", "more than 1,000,000 cells or paragraphs"),
])
def test_a_file_that_expands_is_refused_within_the_budget(bombs, name, limit):
    error = refused(bombs[name])
    assert limit in str(error) and "raise with --max-" in str(error)


def test_each_limit_is_the_budget_asked_for(tmp_path):
    """Every limit is a setting (the flags of `ragcomm add`, `index` and `serve`), and a file
    within it is read: the same files pass with room and are refused without."""
    pdf = text_pdf(tmp_path / "three.pdf", ["Integrated care boards commission services for their population."])
    docx = docx_of_paragraphs(tmp_path / "note.docx", 40, "Virtual wards free hospital beds.")
    csv = csv_of_rows(tmp_path / "rows.csv", 300)
    assert load_file(pdf, tmp_path)[0].text and load_file(docx, tmp_path) and load_file(csv, tmp_path)
    assert "more than 10 cells" in str(refused(docx, Budget(cells=10)))
    assert "more than 100 cells" in str(refused(csv, Budget(cells=100)))
    assert "more than 50 characters" in str(refused(pdf, Budget(text_chars=50)))
    assert "expands to more than 0 MB" in str(refused(docx, Budget(expanded_bytes=1000)))


def test_a_slow_read_is_stopped_at_its_seconds(tmp_path):
    """The deadline: the worker is killed, the file refused naming the limit (a read that
    would take minutes: three million paragraphs allowed by the other limits)."""
    docx = docx_of_paragraphs(tmp_path / "slow.docx", 3_000_000)
    error = refused(docx, Budget(cells=10**9, text_chars=10**9, seconds=3))
    assert "takes longer than 3 s to read (" in str(error) and "--max-read-seconds" in str(error)


@pytest.mark.parametrize("points", [14_400, 1_000_000])
def test_huge_pages_are_read_within_the_budget(tmp_path, points):
    """Pages of 14,400 and 1,000,000 points: their text read as any other; a page without text
    goes to OCR rendered at a bounded size (ocr.MAX_SIDE), not 60,000 pixels square."""
    pdf = text_pdf(tmp_path / "huge.pdf", ["A very large page about commissioning community services."],
                   width=points, height=points)
    assert "very large page about commissioning" in load_file(pdf, tmp_path)[0].text
    if ocr.available():
        blank = text_pdf(tmp_path / "blank.pdf", [], width=points, height=points)
        error = refused(blank)  # nothing to read, even by OCR: refused, within the budget
        assert "no extractable text" in str(error) or "no text" in str(error)


def test_random_bytes_named_txt_are_refused_not_indexed(tmp_path):
    """Random bytes (fewer than 1% NUL) are not text: refused, not 1,488 chunks of Latin-1."""
    import random

    data = random.Random(23).randbytes(300_000).replace(b"\x00", b"\x01")
    data = data[:1000] + b"\x00" * 50 + data[1000:]  # a few NUL bytes, as in the report
    (tmp_path / "noise.txt").write_bytes(data)
    (tmp_path / "cp1252.txt").write_bytes("Café prices rose by £5 – “a lot”.\n".encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes("Integrated care boards.\n".encode("utf-16"))
    docs, problems = load_corpus(tmp_path)
    assert {Path(p.path).name: p.message for p in problems} == {
        "noise.txt": problems[0].message} and "binary content" in problems[0].message
    assert sorted(d.source for d in docs) == ["cp1252.txt", "utf16.txt"]
    assert "Café prices rose by £5 – “a lot”." in {d.text for d in docs if d.source == "cp1252.txt"}.pop()


def test_ragcomm_add_of_a_bomb_is_one_line_and_its_peak_memory_is_bounded(bombs, tmp_path):
    """Through the command line, as the issue's user did: `ragcomm add` of the three-million
    paragraph DOCX is refused in one line, exit 1, and the peak resident memory of the
    command and every process it waited for stays under the ceiling: RUSAGE_CHILDREN of a
    small launcher (measured from the test process itself, a fork would count the test
    process's own pages: exec records the parent's high-water mark)."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "note.txt").write_text("Integrated care boards commission most services.\n")
    env = {**os.environ, "RAGCOMM_HOME": str(ROOT)}
    launcher = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
                "open(sys.argv[1], 'w').write(f'{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {code}'); "
                "sys.exit(code)")
    with open(tmp_path / "err", "w+") as log:
        subprocess.run([sys.executable, "-c", launcher, str(tmp_path / "usage"), sys.executable, "-m", "ragcomm", "add",
                        str(bombs["paragraphs.docx"]), "--corpus", str(corpus), "--index", str(index),
                        "--no-progress"], stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=tmp_path)
    err = (tmp_path / "err").read_text()
    maxrss_kb, returncode = map(int, (tmp_path / "usage").read_text().split())
    assert "Traceback" not in err, err
    line = next(line for line in err.splitlines() if line.startswith("refused "))
    assert "paragraphs.docx" in line and "more than 1,000,000 cells or paragraphs" in line, err
    assert returncode == 1
    assert maxrss_kb * 1024 < CEILING, maxrss_kb
    assert [p.name for p in corpus.iterdir()] == ["note.txt"]  # nothing half-added


def test_plan_add_names_the_limit_for_each_refused_file(bombs, tmp_path):
    steps, results = plan_add([bombs["cell.xlsx"], bombs["references.pdf"]], tmp_path / "corpus")
    assert steps == []
    assert [r.status for r in results] == ["refused", "refused"]
    assert "expands to more than 256 MB" in results[0].reason and "more than 5,000 pages" in results[1].reason


@pytest.mark.parametrize("flag, value, message", [
    ("--max-pages", "0", "--max-pages must be at least 1"),
    ("--max-read-memory-mb", "100", "--max-read-memory-mb must be at least 256"),
])
def test_limits_out_of_range_are_one_line(tmp_path, capsys, flag, value, message):
    from ragcomm.cli import main

    assert main(["add", str(tmp_path / "x.txt"), "--corpus", str(tmp_path), "--index", str(tmp_path / "i"),
                 flag, value]) == 2
    assert message in capsys.readouterr().err


def test_the_flags_make_the_budget():
    from ragcomm import Settings
    from ragcomm.cli.common import settings_from
    from ragcomm.cli.parser import parser

    args = parser().parse_args(["add", "x.txt", "--max-pages", "7", "--max-cells", "8", "--max-text-chars", "9",
                                "--max-expanded-mb", "10", "--max-read-seconds", "11", "--max-read-memory-mb", "512"])
    assert Budget.from_settings(settings_from(args)) == Budget(pages=7, cells=8, text_chars=9, expanded_bytes=10 * 2**20,
                                                               seconds=11, memory_bytes=512 * 2**20)
    assert Budget.from_settings(Settings()) == Budget()
