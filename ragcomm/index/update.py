"""Changing what is indexed, safely: add files, remove documents, bring the index up to date.

Each change is one writer (store.writer_lock) and one journalled operation:

    1. take the lock; finish what a killed writer left (store.recover_swap, recover_operation)
    2. check each file and plan steps on files (ingest/corpus.py: plan_add, plan_remove)
    3. write the steps to the journal (store.begin_operation), then do them (durable.run_step:
       a temporary name, fsync, rename)
    4. build and save the index (build.build_index), which ends the operation

Killed anywhere, the next writer completes the steps (or rolls them all back when a source
is gone) and indexes the result: no file lost, no half-copied file under its final name,
and readers always see a whole index, the one before or the one after.

    results, index = add_documents(["new.pdf", "bad.exe"], Settings())
    [str(r) for r in results]  # ['added new.pdf as corpus/new.pdf', 'refused bad.exe: unsupported ...']
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..config import Settings
from ..durable import pause_point, run_step
from ..ingest import Budget, CorpusError, FileResult, plan_add, plan_remove
from .build import build_index, keep_retrieval
from .store import (REBUILD, Index, IndexError_, IndexMissing, begin_operation, indexed_documents, load_index,
                    pending_operation, read_manifest, recover_operation, recover_swap, settings_match,
                    undo_operation, writer_lock)


def update_index(settings: Settings, rebuild: bool = False, log=print, progress: bool = True,
                 embedder=None, keep_search: bool = True, fresh: bool = False) -> tuple[Index, bool]:
    """The index, built when it is missing, broken, stale, built with other settings, when an
    operation is unfinished, or when `rebuild`; (index, whether it was built). `keep_search`:
    the search settings the index recorded stay where `settings` has the defaults (an add or a
    remove does not reset `ragcomm index --fusion ...`). `fresh` (`ragcomm index --rebuild`):
    built from the corpus alone, reusing no stored documents or vectors."""
    with writer_lock(settings.index_dir):
        recover_swap(settings.index_dir, log)
        if keep_search:
            try:
                settings = keep_retrieval(settings, read_manifest(settings.index_dir))
            except IndexError_:
                pass  # no readable index: nothing recorded to keep
        if not rebuild and not fresh and pending_operation(settings.index_dir) is None:
            try:
                index = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
                if not index.stale and not settings_match(index.manifest, settings):
                    return index, False
            except IndexMissing:
                pass
            except IndexError_ as exc:
                log(f"the index cannot be used, so it is built afresh: {str(exc).replace(': ' + REBUILD, '')}")
        return build_index(settings, embedder=embedder, log=log, progress=progress, fresh=fresh), True


def stage_add(files: list[Path], settings: Settings, replace: bool = False, log=print,
              all_or_none: bool = False) -> list[FileResult]:
    """Steps 1-3 of an add: the readable files copied into the corpus under a journalled
    operation, which the next build ends (a killed process's next writer completes it); one
    result per file. `all_or_none`: a refused file refuses them all (CorpusError naming each)."""
    with writer_lock(settings.index_dir):
        recover_swap(settings.index_dir, log)
        recover_operation(settings.index_dir, log)
        steps, results = plan_add(files, settings.corpus_dir, replace, log, Budget.from_settings(settings))
        refused = [r for r in results if not r.ok]
        if all_or_none and refused:
            raise CorpusError("; ".join(f"{Path(r.path).name}: {r.reason}" for r in refused))
        if steps:
            Path(settings.corpus_dir).mkdir(parents=True, exist_ok=True)
            begin_operation(settings.index_dir, "add", steps, files=[r.path for r in results if r.target])
            pause_point("add-planned")
            run_steps(steps, settings, log)
            pause_point("add-copied")
    return results


def stage_remove(targets: list[str], settings: Settings, log=print,
                 all_or_none: bool = False) -> list[FileResult]:
    """Steps 1-3 of a remove: the files behind doc_ids or corpus file names moved to
    corpus/.removed/ under a journalled operation, which the next build ends."""
    with writer_lock(settings.index_dir):
        recover_swap(settings.index_dir, log)
        recover_operation(settings.index_dir, log)
        steps, results = plan_remove(targets, settings.corpus_dir, indexed_documents(settings.index_dir))
        refused = [r for r in results if not r.ok]
        if all_or_none and refused:
            raise CorpusError("; ".join(f"{r.path}: {r.reason}" for r in refused))
        if steps:
            begin_operation(settings.index_dir, "remove", steps, targets=list(targets))
            pause_point("remove-planned")
            run_steps(steps, settings, log)
            pause_point("remove-moved")
    return results


def run_steps(steps: list[dict], settings: Settings, log=print) -> None:
    """An operation's steps on files; one that fails (a full disk; not a kill) undoes those
    done and clears the journal, so that no later writer completes what failed."""
    try:
        for step in steps:
            run_step(step)
    except Exception:
        undo_operation(settings.index_dir, log)
        raise


def add_documents(files: list[Path], settings: Settings, replace: bool = False, log=print,
                  progress: bool = False, embedder=None) -> tuple[list[FileResult], Index]:
    """Copy the readable files into the corpus and index them; one result per file (added,
    replaced, unchanged or refused and why). A refused file does not stop the others."""
    with writer_lock(settings.index_dir):
        results = stage_add(files, settings, replace, log)
        with undone_if_failed(settings, log):
            index, _ = update_index(settings, log=log, progress=progress, embedder=embedder)
    return results, index


def remove_documents(targets: list[str], settings: Settings, log=print, progress: bool = False,
                     embedder=None) -> tuple[list[FileResult], Index]:
    """Move the files behind doc_ids or corpus file names to corpus/.removed/ and index what
    is left; one result per target (removed, already removed, or refused and why)."""
    with writer_lock(settings.index_dir):
        results = stage_remove(targets, settings, log)
        with undone_if_failed(settings, log):
            index, _ = update_index(settings, log=log, progress=progress, embedder=embedder)
    return results, index


@contextmanager
def undone_if_failed(settings: Settings, log=print):
    """An add or remove whose index fails (an error, not a kill) is undone: its files are put
    back as they were and the journal cleared, so that no later writer completes it."""
    try:
        yield
    except Exception:
        with writer_lock(settings.index_dir):
            undo_operation(settings.index_dir, log)
        raise
