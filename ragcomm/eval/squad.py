"""Answers on SQuAD-format files: questions written outside the project, asked through the
whole pipeline (ingest, the default index, the Answerer with abstention). The file becomes a
corpus and an index in eval/squad_corpus.py; every question is asked with `Answerer.ask`,
retrieving over all the chosen articles. Per question:

    evidence cited   some citation's span lies within the gold paragraph's span and its
                     sentence contains one of the gold answer texts (case-insensitive, white
                     space collapsed, Unicode normalised as ingestion does)
    evidence first   the first citation does
    passage top 5    a retrieved passage (of the k = 5) overlaps the gold paragraph
    answered         not abstained; SQuAD 2.0's `is_impossible` questions should be declined

and the figures of eval/answers.py (`summarise`: balanced accuracy, AUROC of the answer's
confidence, Wilson intervals; paired tests against `--baseline`). A grid of changes to the
answer's `Selection` (as `eval --answers --answer-grid`) answers the same questions again over
the same index, each variant tested against the default.

    >>> answer_text("  Amazon\\u00a0 Rainforest ")
    'amazon rainforest'
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from .answers import PAIRED, AnswerRun, answer_row, answers_table, compare, summarise
from .squad_corpus import (Question, SquadCorpus, build_squad_corpus, read_squad, sample_questions,
                           select_articles)
from .stats import proportion_interval

K = 5  # passages retrieved per question, as `ragcomm ask`
# Paired tests against a baseline: those of eval/answers.py and the right passage in the top 5.
SQUAD_PAIRED = {**PAIRED, "passage_top5": "answerable"}


def answer_text(text: str) -> str:
    """An answer or a sentence as compared: Unicode as ingestion normalises it, lower case,
    white space collapsed."""
    from ..ingest import clean

    return " ".join(clean.normalise(text).lower().split())


def holds_answer(citation, doc_id: str, span, answers) -> bool:
    """Whether a citation lies within the gold paragraph (`span` in document `doc_id`) and its
    sentence contains one of the answers (already passed through `answer_text`)."""
    if span is None or citation.doc_id != doc_id or not (span[0] <= citation.start and citation.end <= span[1]):
        return False
    sentence = answer_text(citation.sentence)
    return any(a in sentence for a in answers)


def passage_overlaps(hits, doc_id: str, span) -> bool:
    """Whether a retrieved passage overlaps the gold paragraph."""
    return span is not None and any(h.doc_id == doc_id and h.start < span[1] and h.end > span[0] for h in hits)


def in_one_sentence(text: str, span, answers) -> bool:
    """Whether some sentence of the paragraph (split as chunking splits) holds an answer: the
    ceiling of `evidence cited` (answers spanning two sentences can never be cited whole)."""
    from ..chunking import sentence_spans

    if span is None:
        return False
    piece = text[span[0]:span[1]]
    return any(a in answer_text(piece[s:e]) for s, e in sentence_spans(piece) for a in answers)


# ---------------------------------------------------------------- evaluation

@dataclass
class SquadEvaluation:
    file: str
    articles: list  # names
    spec: str  # --articles as given
    runs: list  # [AnswerRun]: the default, then each variant of the grid
    notes: list = field(default_factory=list)
    sample: int | None = None
    seed: int = 0
    index: str = ""

    def to_json(self) -> dict:  # the shape of `eval --answers --json`, so that --baseline reads it
        return {"gold": self.file, "split": self.spec, "articles": self.articles, "sample": self.sample,
                "seed": self.seed, "index": self.index, "notes": self.notes,
                "answerers": [r.to_json() for r in self.runs]}


def score_squad_answer(answer, question: Question, corpus: SquadCorpus, docs: dict, seconds: float = 0.0) -> dict:
    """One question's record: the fields of eval/answers.py plus its article, paragraph,
    whether a retrieved passage overlaps the gold paragraph, and the answer's milliseconds."""
    doc_id = corpus.doc_ids[question.article]
    span = corpus.spans.get((question.article, question.paragraph))
    answers = [answer_text(a) for a in question.answers]
    row = answer_row(answer, question.answerable, lambda c: holds_answer(c, doc_id, span, answers), docs,
                     article=question.article, paragraph=question.paragraph)
    if question.answerable:
        row["passage_top5"] = float(passage_overlaps(answer.hits[:K], doc_id, span))
        row["answer_in_one_sentence"] = float(in_one_sentence(docs[doc_id].text, span, answers))
    row["ms"] = round(seconds * 1000, 2)
    return row


def by_kind(rows: dict) -> dict:
    """The figures of answerable and of unanswerable questions apart (None where not defined)."""
    out = {}
    for kind, answerable in (("answerable", True), ("unanswerable", False)):
        part = [r for r in rows.values() if r["answerable"] == answerable]
        if not part:
            continue
        out[kind] = {"questions": len(part), "answered": _mean(r["answered"] for r in part),
                     "abstained": _mean(not r["answered"] for r in part),
                     "evidence_cited": _mean(r["evidence_cited"] for r in part) if answerable else None,
                     "evidence_first": _mean(r["evidence_first"] for r in part) if answerable else None,
                     "passage_top5": _mean(r["passage_top5"] for r in part) if answerable else None,
                     "latency_ms_p50": round(float(np.percentile([r["ms"] for r in part], 50)), 2)}
    return out


def _mean(values):
    values = [float(v) for v in values]
    return round(float(np.mean(values)), 4) if values else None


def squad_summary(rows: dict, latencies: list) -> dict:
    """eval/answers.py's summary plus the right passage in the top 5 (with its interval), the
    ceiling of evidence cited, and the figures per kind of question."""
    out = summarise(rows, latencies)
    pos = [r for r in rows.values() if r["answerable"]]
    out["passage_top5"] = _mean(r["passage_top5"] for r in pos)
    out["answer_in_one_sentence"] = _mean(r["answer_in_one_sentence"] for r in pos)
    ci = proportion_interval(sum(r["passage_top5"] for r in pos), len(pos))
    if ci:
        out["interval95"]["passage_top5"] = [round(x, 4) for x in ci]
    out["by_kind"] = by_kind(rows)
    return out


def default_answerer(index, calibration=None, reader="default"):
    """The shipped answerer (`ragcomm ask`) over an index, its sentence vectors loaded."""
    from ..answer import Answerer
    from ..search import Retriever

    answerer = Answerer(Retriever(index), calibration=calibration, reader=reader)
    answerer.warm()
    return answerer


def refused(question: str, reason: str):
    """The record of a question the answerer refused to take (empty, too long): an abstention."""
    return SimpleNamespace(question=question, text=reason, abstained=True, citations=[], hits=[], evidence=0.0,
                           confidence=0.0, decided_by="refused")


def evaluate_squad(path, settings=None, articles: str | None = "validation", sample: int | None = None,
                   seed: int = 0, cache_dir=None, calibration=None, make_answerer=None, baseline: dict | None = None,
                   name: str = "default", log=None, progress_every: float = 10.0, embedder=None,
                   reader="default", grid: list | None = None) -> SquadEvaluation:
    """Ask every question of the chosen articles of a SQuAD-format file (or a seeded sample of
    `sample` of them) through the whole pipeline and score the answers. `make_answerer(index)`
    gives the answerer to measure (default: the shipped one, with `calibration` when given);
    `grid`: changes to its `Selection` (eval/answers.py's parse_grid), each answered as one more
    run over the same index and tested against the first; `baseline`: per-question records of
    an earlier run (its --json) for paired tests; `embedder`: builds the index in place of
    settings.model (tests)."""
    from ..config import Settings

    log = log or (lambda _m: None)
    settings = settings or Settings()
    squad = read_squad(path)
    chosen = select_articles(squad, articles)
    names = {a.name for a in chosen}
    questions = sample_questions([q for q in squad.questions if q.article in names], sample, seed)
    corpus = build_squad_corpus(chosen, settings, cache_dir, log, embedder)
    answerer = make_answerer(corpus.index) if make_answerer else default_answerer(corpus.index, calibration, reader)
    docs = {doc_id: SimpleNamespace(text=d["text"]) for doc_id, d in corpus.index.documents.items()}
    log(f"answering {len(questions)} questions ({sum(q.answerable for q in questions)} answerable) over "
        f"{plural(len(chosen), 'article')}")
    runs, refusals = [], set()
    for params in [{}] + [g for g in grid or [] if g]:  # the default first: the others are tested against it
        label = ", ".join(f"{k_}={v}" for k_, v in params.items()) or name
        if params:
            log(f"answering: {label}")
        rows, latencies, refused_ = answer_questions(lambda q, p=params: answerer.ask(q, k=K, selection=p),
                                                     questions, corpus, docs, log, progress_every)
        refusals.update(refused_)
        runs.append(AnswerRun(label, rows, squad_summary(rows, latencies),
                              {"file": squad.path, "articles": articles, "sample": sample, "seed": seed, "k": K,
                               **params}))
    for r in runs[1:]:
        r.significance = compare(r, runs[0].rows, runs[0].name, metrics=SQUAD_PAIRED)
    if baseline:
        metrics = {m: v for m, v in SQUAD_PAIRED.items() if m in PAIRED or any(m in r for r in baseline.values())}
        for r in runs:
            r.significance.update({f"{m}_vs_baseline": v for m, v in compare(r, baseline, "baseline",
                                                                             metrics=metrics).items()})
    notes = []
    unplaced = sorted({(q.article, q.paragraph) for q in questions if corpus.spans.get((q.article, q.paragraph))
                       is None})
    if unplaced:
        notes.append(f"{len(unplaced)} paragraph(s) not found in the cleaned text (their questions score as not "
                     f"cited): {', '.join(f'{a} #{p + 1}' for a, p in unplaced[:5])}")
    if corpus.missing_blocks:
        notes.append(f"{corpus.missing_blocks} line(s) of the articles not found in the cleaned text "
                     "(ingestion dropped or changed them)")
    if refusals:
        notes.append(f"{len(refusals)} question(s) refused as asked (scored as abstained): "
                     f"{', '.join(sorted(refusals)[:5])}")
    if baseline and not set(rows) & set(baseline):
        notes.append("the baseline has none of these questions: rerun it with the same --articles, --sample, --seed")
    return SquadEvaluation(squad.path, [a.name for a in chosen], articles or "validation", runs, notes, sample, seed,
                           str(corpus.folder))


def answer_questions(ask, questions: list, corpus: SquadCorpus, docs: dict, log, progress_every: float = 10.0):
    """Each question asked with `ask(text)` and scored: (rows by qid, seconds per question, qids
    of the questions refused as asked)."""
    from ..search.retriever import QueryError

    rows, latencies, refusals = {}, [], []
    started = last = time.perf_counter()
    for n, q in enumerate(questions, start=1):
        t = time.perf_counter()
        try:
            answer = ask(q.question)
        except QueryError as exc:
            answer = refused(q.question, str(exc))
            refusals.append(q.qid)
        seconds = time.perf_counter() - t
        latencies.append(seconds)
        rows[q.qid] = score_squad_answer(answer, q, corpus, docs, seconds)
        now = time.perf_counter()
        if now - last >= progress_every or n == len(questions):
            last = now
            done = [r for r in rows.values() if r["answerable"]]
            cited = f", evidence cited so far {np.mean([r['evidence_cited'] for r in done]):.3f}" if done else ""
            log(f"  {n}/{len(questions)} questions, {1000 * (now - started) / n:.0f} ms each, "
                f"{(now - started) / n * (len(questions) - n):.0f} s to go{cited}")
    return rows, latencies, refusals


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def squad_report(result: SquadEvaluation) -> str:
    """The summary table of eval/answers.py, the right passage in the top 5, and a table per
    kind of question, as Markdown."""
    run = result.runs[0]
    s = run.summary
    sampled = f", a sample of {result.sample} (seed {result.seed})" if result.sample else ""
    title = (f"Answers: {result.file}, articles {result.spec} ({plural(len(result.articles), 'article')}, "
             f"{s['answerable'] + s['unanswerable']} questions{sampled})")
    lines = [answers_table(result.runs, title, "baseline" if any(k.endswith("_vs_baseline")
                                                                   for k in run.significance) else "")]
    ci = s["interval95"].get("passage_top5")
    if s["passage_top5"] is not None:
        lines.append(f"Right passage in the top {K} (a retrieved passage overlaps the gold paragraph): "
                     f"{s['passage_top5']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
                     + f" of answerable questions; answer inside one sentence of its paragraph (the most "
                       f"evidence cited can be): {s['answer_in_one_sentence']:.3f}.")
    top5 = run.significance.get("passage_top5_vs_baseline")
    if top5:
        lines.append(f"Right passage in the top {K} vs baseline: {top5['difference']:+.3f} "
                     f"(p {top5['p_randomisation']:.3f}).")
    lines += ["", "| kind | questions | answered | abstained | evidence cited | evidence first | passage top 5 | "
                  "p50 ms |", "|---|---|---|---|---|---|---|---|"]

    def cell(v, digits=3):
        return "—" if v is None else f"{v:.{digits}f}"

    for r in result.runs:
        for kind, k in r.summary["by_kind"].items():
            named = f"{kind} ({r.name})" if len(result.runs) > 1 else kind
            lines.append(f"| {named} | {k['questions']} | {cell(k['answered'])} | {cell(k['abstained'])} | "
                         f"{cell(k['evidence_cited'])} | {cell(k['evidence_first'])} | {cell(k['passage_top5'])} | "
                         f"{cell(k['latency_ms_p50'], 1)} |")
    lines += [f"note: {n}" for n in result.notes]
    lines.append(f"index: {result.index}")
    return "\n".join(lines)
