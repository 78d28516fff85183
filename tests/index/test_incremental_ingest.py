"""Incremental ingest: a build reads only new or changed files and reuses the stored
documents (cleaned text, sections, page map) of the others, giving the same index as a
full rebuild; every file read is timed."""
import json
import sys
from pathlib import Path

from ragcomm import Settings, build_index

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))
from test_formats import simple_pdf  # noqa: E402


def quiet(*_):
    pass


def test_add_reads_only_the_new_file_and_equals_a_full_rebuild(small_corpus, tmp_path, fake_embedder):
    simple_pdf(small_corpus / "wards.pdf", ["Virtual wards admit adults from the emergency department.",
                                            "Frailty teams visit within two hours."])
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    first = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    assert set(first.manifest["timings"]["files_read"]) == {"wards.pdf", "animateurs-commissioning-managers-2012.txt",
                                                           "commissioners-use-of-information-findings.txt"}
    stored = [json.loads(line) for line in (tmp_path / "index" / "documents.jsonl").read_text().splitlines()]
    assert all({"text", "sections", "pages"} <= set(d) for d in stored)

    (small_corpus / "icb.txt").write_text("Integrated care boards\n\nThey took over from CCGs in July 2022.\n")
    logged = []
    second = build_index(settings, embedder=fake_embedder, log=logged.append, progress=False)
    assert list(second.manifest["timings"]["files_read"]) == ["icb.txt"]  # the others were not read again
    assert second.manifest["ingest"]["files_reused"] == 3
    assert any(m.startswith("read icb.txt in ") for m in logged)

    (small_corpus / "wards.pdf").unlink()
    simple_pdf(small_corpus / "wards.pdf", ["Virtual wards now admit children too."])  # changed: read again
    third = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    assert list(third.manifest["timings"]["files_read"]) == ["wards.pdf"]

    full = build_index(settings.replace(index_dir=tmp_path / "full"), embedder=fake_embedder, log=quiet,
                       progress=False)
    assert full.documents == third.documents
    assert [(c.chunk_id, c.text, c.page_start, c.page_end) for c in full.chunks] == \
        [(c.chunk_id, c.text, c.page_start, c.page_end) for c in third.chunks]


def test_an_index_from_an_older_ingest_is_read_afresh(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["ingest"]["version"] = -1  # as if an older ragcomm had cleaned the files
    manifest_path.write_text(json.dumps(manifest))
    again = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    assert len(again.manifest["timings"]["files_read"]) == 2
