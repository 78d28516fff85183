"""Files that share a name stem (#23): control.txt, control.md and control.html, or report.pdf,
report.docx and report.xlsx, and names that differ only in case, Unicode form or spacing.
Added one by one in every order, then rebuilt: every document keeps an id of its own, every
search works, `--rebuild` gives the same ids from the corpus alone, and files without a
clash keep the id they always had. An index that does not load is never saved."""
import itertools
import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from conftest import CORPUS, docx_of_paragraphs, text_pdf

from ragcomm import Settings, build_index, load_index
from ragcomm.index import IndexCorrupt, add_documents, save_index, update_index
from ragcomm.ingest.ids import clash_key
from ragcomm.search import Retriever

SENTENCE = "Commissioning support units advised the integrated care board about {}."
WORDS = ["kestrels", "lanterns", "meadows", "orchards", "quarries", "saffron"]  # one per file: its own search


def quiet(*_):
    pass


def write(path: Path, n: int) -> Path:
    """A readable file of its type with its own sentence (number n)."""
    text = SENTENCE.format(WORDS[n])
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return text_pdf(path, [text])
    if suffix == ".docx":
        return docx_of_paragraphs(path, 3, text)
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["Finding", "Case"])
        book.active.append([text, n])
        book.save(path)
        return path
    if suffix == ".html":
        path.write_text(f"<html><body><h1>Case {n}</h1><p>{text}</p></body></html>")
        return path
    path.write_text(f"Case {n}\n\n{text}\n")
    return path


GROUPS = {
    "stems": ["control.txt", "control.md", "control.html"],
    "office": ["report.pdf", "report.docx", "report.xlsx"],
    "case and unicode": ["Control.txt", "control.txt", unicodedata.normalize("NFD", "café.txt"),
                         unicodedata.normalize("NFC", "café.txt"), "a b.txt", "a_b.txt"],
}


def check(index, fake_embedder, names):
    ids = list(index.documents)
    assert len({clash_key(i) for i in ids}) == len(ids)  # unique even without case or Unicode form
    assert {d["source"] for d in index.documents.values()} >= set(names)
    retriever = Retriever(index, embedder=fake_embedder)
    for n, name in enumerate(names):
        hits = retriever.search(WORDS[n], k=3, mode="bm25")
        assert hits and hits[0].source == name, (name, [h.source for h in hits])


@pytest.mark.parametrize("group", GROUPS)
def test_same_stem_files_added_in_every_order_keep_their_own_ids(small_corpus, tmp_path, fake_embedder, group):
    names = GROUPS[group]
    orders = list(itertools.permutations(names)) if len(names) <= 3 else [names, names[::-1]]
    for k, order in enumerate(orders):
        corpus, index_dir, incoming = tmp_path / f"c{k}", tmp_path / f"i{k}", tmp_path / f"in{k}"
        shutil.copytree(small_corpus, corpus)
        incoming.mkdir()
        settings = Settings(corpus_dir=corpus, index_dir=index_dir)
        build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
        for name in order:
            results, index = add_documents([write(incoming / name, names.index(name))], settings, log=quiet,
                                           embedder=fake_embedder)
            assert results[0].status == "added", str(results[0])
        index = load_index(index_dir)  # what `search` and `ask` open: whole and consistent
        check(index, fake_embedder, names)
        # files without a clash keep the ids they always had
        assert {"animateurs-commissioning-managers-2012", "commissioners-use-of-information-findings"} <= set(
            index.documents)
        ids = {d["source"]: doc_id for doc_id, d in index.documents.items()}
        rebuilt, _ = update_index(settings, fresh=True, log=quiet, embedder=fake_embedder, progress=False)
        assert {d["source"]: doc_id for doc_id, d in rebuilt.documents.items()} == ids  # the corpus alone decides


def test_ids_read_clearly(tmp_path, fake_embedder):
    """Clashing files keep their extension; where that clashes too, a short hash of the name."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, name in enumerate(["control.txt", "control.md", "Control.md", "other.txt"]):
        write(corpus / name, n)
    index = build_index(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder=fake_embedder,
                        log=quiet, progress=False)
    ids = {d["source"]: doc_id for doc_id, d in index.documents.items()}
    assert ids["control.txt"] == "control.txt" and ids["other.txt"] == "other"
    assert ids["control.md"].startswith("control.md~") and ids["Control.md"].startswith("Control.md~")


def test_rebuild_recovers_an_index_saved_with_clashing_ids(small_corpus, tmp_path, fake_embedder):
    """An index written by the earlier ingestion (two documents under one id, stored documents
    that a normal build would reuse): `--rebuild` reads the corpus afresh and is whole."""
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    write(small_corpus / "control.txt", 0)
    write(small_corpus / "control.md", 1)
    build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    documents = settings.index_dir / "documents.jsonl"
    rows = [json.loads(line) for line in documents.read_text().splitlines()]
    for row in rows:  # as the earlier ingestion named them
        if row["source"].startswith("control."):
            row["doc_id"] = "control"
    documents.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(IndexCorrupt):
        load_index(settings.index_dir)
    index, built = update_index(settings, fresh=True, log=quiet, embedder=fake_embedder, progress=False)
    assert built and {"control.txt", "control.md"} <= set(index.documents)
    check(load_index(settings.index_dir), fake_embedder, ["control.txt", "control.md"])


def test_an_index_that_does_not_load_is_never_saved(small_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    good = build_index(settings, embedder=fake_embedder, log=quiet, progress=False)
    before = (settings.index_dir / "manifest.json").read_text()
    bad = build_index(settings, embedder=fake_embedder, log=quiet, progress=False, save=False)
    first = next(iter(bad.documents))
    bad.documents["twin"] = bad.documents[first]  # a document no chunk or count knows of
    with pytest.raises(IndexCorrupt, match="does not load back"):
        save_index(bad, settings.index_dir)
    assert (settings.index_dir / "manifest.json").read_text() == before
    assert load_index(settings.index_dir).generation == good.generation
    assert not list(tmp_path.glob(".index.tmp-*"))  # nothing left behind


def test_existing_corpus_ids_are_unchanged():
    """The seed corpus has no clashes: its ids (and eval/gold.jsonl's) are the ones they were."""
    from ragcomm.ingest import load_corpus

    docs, _ = load_corpus(CORPUS)
    gold = [json.loads(line) for line in (CORPUS.parent / "eval" / "gold.jsonl").read_text().splitlines()]
    wanted = {doc_id for q in gold for doc_id in (q.get("doc_ids") or [q.get("doc_id")]) if doc_id}
    assert wanted and wanted <= {d.doc_id for d in docs}
