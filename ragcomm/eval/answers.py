"""Answer-level evaluation: does an answer cite the evidence, lead with it, stay short, and
abstain when (and only when) the documents do not answer?

Any callable question -> Answer (types.py) is scored the same way: the extractive Answerer,
a generator, anything that cites sentences by their offsets in the documents. The questions
come from the gold set or any file of its shape (id, question, doc_id, evidence, answerable),
the evidence located in the cleaned text as for retrieval (datasets.py). Per question:

    evidence cited   a citation's span in the document holds at least half of the evidence
    evidence first   the answer's first citation does
    words            words of the answer text, [n] markers left out
    answered         not abstained (answerable questions should be, the others not)
    score            the answer's abstention signal (`confidence`, else `evidence`), for AUROC

    >>> from ragcomm.types import Citation
    >>> c = Citation(1, "d", "d#0", "d.txt", "x" * 10, 100, 110, 0, 10, 1.0, 1.0, 1.0)
    >>> covers(c, "d", [(102, 108)]), covers(c, "d", [(105, 130)]), covers(c, "e", [(102, 108)])
    (True, False, False)
    >>> answer_words("Managers were seen as animateurs. [1] They had no authority. [2]")
    9
"""
from __future__ import annotations

import itertools
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..answer.calibration import auroc
from ..answer.choice import SELECTION_PARAMETERS
from ..config import home
from ..splits import split_of, tune_half  # noqa: F401  (split_of re-exported: eval code and tests import it from here)
from .datasets import GoldSet
from .stats import proportion_interval, randomisation_test

SPLITS = ("tune", "heldout", "all", "calibrate")  # calibrate: the half of tune no reader learns from
GRID_PARAMETERS = SELECTION_PARAMETERS  # what a grid may vary: fields of answer.choice.Selection
MARKER = re.compile(r"\s*\[\d+\]")
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
# Paired tests: metric -> which questions it is compared on.
PAIRED = {"evidence_cited": "answerable", "evidence_first": "answerable", "correct": "all",
          "words": "answered by both"}


def in_split(qids, split: str) -> list:
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}' (choose from {', '.join(SPLITS)})")
    if split == "calibrate":
        return [q for q in qids if split_of(q) == "tune" and tune_half(q) == "calibrate"]
    return [q for q in qids if split == "all" or split_of(q) == split]


def covers(citation, doc_id: str, spans) -> bool:
    """Whether the citation's span in its document holds at least half of an evidence span."""
    if citation.doc_id != doc_id:
        return False
    return any(min(e, citation.end) - max(s, citation.start) >= (e - s) / 2 for s, e in spans)


def answer_words(text: str) -> int:
    return len(WORD.findall(MARKER.sub("", text)))


def score_answer(answer, qid: str, gold: GoldSet, docs: dict | None = None) -> dict:
    """One question's record: answered, evidence cited / first, words, verbatim, score."""
    doc_id, spans = gold.spans.get(qid, (None, []))
    return answer_row(answer, qid in gold.answerable, lambda c: covers(c, doc_id, spans), docs,
                      split=split_of(qid))


def answer_row(answer, answerable: bool, cites, docs: dict | None = None, **extra) -> dict:
    """The record of one answer, whatever the test bed: `cites(citation)` says whether a
    citation holds the evidence; `extra` fields follow the question."""
    answered = not answer.abstained
    hits = [cites(c) for c in answer.citations] if answerable and answered else []
    verbatim = [docs[c.doc_id].text[c.start:c.end] == c.sentence if docs and c.doc_id in docs else None
                for c in answer.citations]
    confidence = getattr(answer, "confidence", None)
    row = {"question": answer.question, **extra, "answerable": answerable, "answered": answered,
           "evidence_cited": float(any(hits)), "evidence_first": float(bool(hits) and hits[0]),
           "words": answer_words(answer.text) if answered else 0, "sentences": len(answer.citations),
           "verbatim": [v for v in verbatim if v is not None],
           "score": round(float(confidence if confidence is not None else answer.evidence), 4),
           "answer": answer.text,
           "citations": [{"marker": c.marker, "doc_id": c.doc_id, "start": c.start, "end": c.end}
                         for c in answer.citations]}
    row["outcome"] = getattr(answer, "outcome", "") or ("decline" if answer.abstained else "answer")
    decided = getattr(answer, "decided_by", None)
    if decided:
        row["decided_by"] = decided
    generated = getattr(answer, "generated", None)
    if generated is not None:  # a language model was asked (answer/generate.py)
        row["generated"] = {"shown": not generated.fallback, "checked": len(generated.sentences),
                            "kept": generated.kept, "seconds": round(generated.seconds, 3),
                            "reason": generated.reason}
    return row


def _mean(values) -> float | None:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else None


def summarise(rows: dict, latencies: list | None = None) -> dict:
    """The figures over a set of scored questions (None where a figure has no questions)."""
    pos = [r for r in rows.values() if r["answerable"]]
    neg = [r for r in rows.values() if not r["answerable"]]
    answered = [r for r in pos if r["answered"]]
    kept = _mean(r["answered"] for r in pos)
    abstained = _mean(not r["answered"] for r in neg)
    verbatim = [v for r in rows.values() for v in r["verbatim"]]
    area = auroc([r["score"] for r in pos], [r["score"] for r in neg])
    out = {"answerable": len(pos), "unanswerable": len(neg),
           "evidence_cited": _mean(r["evidence_cited"] for r in pos),
           "evidence_first": _mean(r["evidence_first"] for r in pos),
           "evidence_cited_of_answered": _mean(r["evidence_cited"] for r in answered),
           "evidence_first_of_answered": _mean(r["evidence_first"] for r in answered),
           "words_mean": _mean(r["words"] for r in answered),
           "words_p90": round(float(np.percentile([r["words"] for r in answered], 90)), 1) if answered else None,
           "sentences_mean": _mean(r["sentences"] for r in answered),
           "answered_when_answerable": kept, "refused_answerable": len(pos) - len(answered),
           "abstained_when_not": abstained,
           "balanced_accuracy": round((kept + abstained) / 2, 4) if kept is not None and abstained is not None
           else None,
           "auroc": None if math.isnan(area) else round(area, 4),
           "verbatim": _mean(verbatim)}
    # three outcomes (answer/abstention.py): answered, answered with a caution, declined
    out["outcomes"] = {side: {o: sum(r.get("outcome", "answer" if r["answered"] else "decline") == o for r in group)
                              for o in ("answer", "caution", "decline")} for side, group in (("answerable", pos),
                                                                                            ("unanswerable", neg))}
    out["cautioned_or_declined_when_not"] = _mean(r.get("outcome", "answer" if r["answered"] else "decline") != "answer"
                                                  for r in neg)
    out["interval95"] = {name: [round(x, 4) for x in ci] for name, ci in (
        ("evidence_cited", proportion_interval(sum(r["evidence_cited"] for r in pos), len(pos))),
        ("evidence_first", proportion_interval(sum(r["evidence_first"] for r in pos), len(pos))),
        ("answered_when_answerable", proportion_interval(len(answered), len(pos))),
        ("abstained_when_not", proportion_interval(sum(not r["answered"] for r in neg), len(neg)))) if ci}
    asked = [r["generated"] for r in rows.values() if "generated" in r]
    if asked:  # generated answers: how often the model's answer was shown, how much of it held up
        checked = sum(g["checked"] for g in asked)
        out["generated"] = {"asked": len(asked), "shown": _mean(g["shown"] for g in asked),
                            "sentences_checked": checked,
                            "sentences_supported": round(sum(g["kept"] for g in asked) / checked, 4) if checked else None,
                            "seconds_p50": round(float(np.percentile([g["seconds"] for g in asked], 50)), 2)}
    if latencies:
        ms = np.asarray(latencies) * 1000
        out["latency_ms"] = {"p50": round(float(np.percentile(ms, 50)), 2),
                             "p95": round(float(np.percentile(ms, 95)), 2)}
    return out


@dataclass
class AnswerRun:
    """One answerer over a set of questions: per-question records, summary, paired tests."""
    name: str
    rows: dict  # qid -> record (score_answer)
    summary: dict
    params: dict = field(default_factory=dict)
    significance: dict = field(default_factory=dict)  # metric -> {against, difference, p_randomisation}

    def to_json(self) -> dict:
        return {"name": self.name, "params": self.params, **self.summary, "significance": self.significance,
                "per_question": self.rows}


def evaluate_answers(answer_fn, gold: GoldSet, qids=None, docs: dict | None = None, name: str = "answers",
                     params: dict | None = None) -> AnswerRun:
    """Answer each question with `answer_fn(question) -> Answer` and score it; `docs`
    (doc_id -> Document) enables the verbatim check."""
    rows, latencies = {}, []
    for qid in qids if qids is not None else list(gold.questions):
        t = time.perf_counter()
        answer = answer_fn(gold.questions[qid])
        latencies.append(time.perf_counter() - t)
        rows[qid] = score_answer(answer, qid, gold, docs)
    return AnswerRun(name, rows, summarise(rows, latencies), dict(params or {}))


def report_rows(path: Path) -> dict:
    """The per-question records (qid -> record) of the first answerer (the default row) of a
    report written by `ragcomm eval --answers --json`; ValueError (saying why) if it is not one."""
    try:
        return json.loads(Path(path).read_text())["answerers"][0]["per_question"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


def paired_values(run: dict, reference: dict, metric: str) -> tuple[list, list]:
    """Per-question values of a metric for two runs' records (qid -> record), paired."""
    common = [q for q in run if q in reference]
    if metric == "correct":
        return ([float(run[q]["answered"] == run[q]["answerable"]) for q in common],
                [float(reference[q]["answered"] == reference[q]["answerable"]) for q in common])
    if metric == "words":
        common = [q for q in common if run[q]["answered"] and reference[q]["answered"]]
    else:
        common = [q for q in common if run[q]["answerable"]]
    return [float(run[q][metric]) for q in common], [float(reference[q][metric]) for q in common]


def compare(run: AnswerRun, reference_rows: dict, against: str, trials: int = 10_000, metrics=PAIRED) -> dict:
    """Paired randomisation tests (as for retrieval, stats.py) of each metric against a reference."""
    out = {}
    for metric in metrics:
        a, b = paired_values(run.rows, reference_rows, metric)
        out[metric] = {"against": against, "questions": len(a),
                       "difference": round(float(np.mean(a) - np.mean(b)), 4) if a else 0.0,
                       "p_randomisation": randomisation_test(a, b, trials) if a else 1.0}
    return out


def parse_grid(spec: str | None, allowed) -> list[dict]:
    """'max_words=60,80;type_weight=0,0.2' -> every combination, as keyword dicts.

    >>> parse_grid("a=1,2;b=0.5", ["a", "b"])
    [{'a': 1, 'b': 0.5}, {'a': 2, 'b': 0.5}]
    """
    if not spec:
        return [{}]
    names, values = [], []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or name not in allowed:
            raise ValueError(f"bad grid entry '{part}': use NAME=V1,V2;... with NAME one of {', '.join(allowed)}")
        try:
            values.append([_number(v) for v in raw.split(",") if v.strip()])
        except ValueError:
            raise ValueError(f"bad grid values in '{part}': numbers separated by commas") from None
        names.append(name)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _number(text: str):
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


# ---------------------------------------------------------------- reports

COLUMNS = [("evidence_cited", "cited"), ("evidence_first", "first"), ("words_mean", "words"),
           ("answered_when_answerable", "answered"), ("abstained_when_not", "abstained"),
           ("balanced_accuracy", "bal.acc"), ("auroc", "AUROC"), ("verbatim", "verbatim")]
ONE_DECIMAL = {"words_mean", "p50"}


def _cell(value, key: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if key in ONE_DECIMAL else f"{value:.3f}"


def _p(run: AnswerRun, metric: str) -> str:
    s = run.significance.get(metric)
    return "—" if not s else f"{s['difference']:+.3f} (p {s['p_randomisation']:.3f})"


def answers_table(runs: list[AnswerRun], title: str = "", against: str = "") -> str:
    """A Markdown table, one row per answerer; the last columns: difference and p of a paired
    randomisation test against the first row (`against="baseline"`: against the baseline run)."""
    suffix = "_vs_baseline" if against == "baseline" else ""
    ref = against or "first row"
    head = ["answerer", *(label for _, label in COLUMNS), "p50 ms", f"cited vs {ref}", f"first vs {ref}"]
    lines = ([title, ""] if title else []) + ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        s = r.summary
        lines.append("| " + " | ".join([r.name, *(_cell(s.get(key), key) for key, _ in COLUMNS),
                                        _cell(s.get("latency_ms", {}).get("p50"), "p50"),
                                        _p(r, "evidence_cited" + suffix), _p(r, "evidence_first" + suffix)]) + " |")
    if runs:
        s = runs[0].summary
        lines.append("")
        lines.append(f"{s['answerable']} answerable and {s['unanswerable']} unanswerable questions. cited / first: "
                     "share of answerable questions whose evidence is cited / cited first; words: mean of the "
                     "answers given; p: paired randomisation test (10,000 sign flips).")
        ci = s.get("interval95") or {}
        shown = [f"{label} {s[key]:.3f} [{ci[key][0]:.3f}, {ci[key][1]:.3f}]" for key, label in COLUMNS if key in ci]
        if shown:
            lines.append(f"95% intervals of the {runs[0].name} row (Wilson; {s['answerable']} and "
                         f"{s['unanswerable']} questions are few): " + ", ".join(shown) + ".")
    for r in runs:
        g = r.summary.get("generated")
        if g:
            supported = "-" if g["sentences_supported"] is None else f"{g['sentences_supported']:.2f}"
            lines.append(f"{r.name}: the model's answer shown for {g['shown']:.2f} of {g['asked']} questions "
                         f"(the extractive answer otherwise); {supported} of its {g['sentences_checked']} sentences "
                         f"passed the support check; {g['seconds_p50']:.1f} s per answer (p50).")
    return "\n".join(lines)


# ---------------------------------------------------------------- the gold set, end to end

@dataclass
class AnswerEvaluation:
    gold: str
    split: str
    runs: list  # [AnswerRun], the first with the default parameters
    notes: list = field(default_factory=list)
    calibration: dict | None = None  # the operating point chosen on the tune split, when calibrated
    calibrations: list = field(default_factory=list)  # every fit tried (signals x L2)

    def to_json(self) -> dict:
        return {"gold": self.gold, "split": self.split, "notes": self.notes, "calibration": self.calibration,
                "calibrations_tried": self.calibrations, "answerers": [r.to_json() for r in self.runs]}


def gold_answerer(gold_path, settings, prebuilt=None, embedder=None, log=None, reader="default"):
    """The gold set located in the corpus, the documents, and an Answerer over the default
    retrieval (the prebuilt index when it matches the settings, else one built in memory)."""
    from ..answer import Answerer
    from ..index import build_from_documents, settings_match
    from ..ingest import load_corpus
    from ..search import Retriever
    from .datasets import gold_set, load_gold

    log = log or (lambda _m: None)
    docs, _problems = load_corpus(settings.corpus_dir)
    gold = gold_set(load_gold(gold_path), docs)
    index = prebuilt if prebuilt is not None and not settings_match(prebuilt.manifest, settings) else None
    if index is None:
        from ..embed import get_embedder

        embedder = embedder or get_embedder(settings.model, settings.embed_backend)
        log(f"indexing {len(docs)} documents in memory ...")
        index = build_from_documents(docs, settings, embedder=embedder, log=lambda _m: None)
    answerer = Answerer(Retriever(index, embedder=embedder if index is not prebuilt else None, settings=settings),
                        reader=reader)
    answerer.warm()
    return gold, {d.doc_id: d for d in docs}, answerer


def saved_answer(row: dict) -> SimpleNamespace:
    """An answer as scored, from a line of `ragcomm ask --json` (any version: the older JSON
    has the best dense score as its only abstention signal).

    >>> a = saved_answer({"question": "q", "answer": "A. [1]", "abstained": False, "evidence": {"value": 0.5},
    ...     "citations": [{"marker": 1, "doc_id": "d", "start": 3, "end": 9, "sentence": "A."}]})
    >>> a.confidence, a.citations[0].doc_id, a.evidence
    (None, 'd', 0.5)
    """
    if "error" in row:
        raise ValueError(f"question {row.get('id', '?')} failed: {row['error']}")
    evidence = row.get("evidence") or {}
    confidence = evidence.get("value") if evidence.get("signal") == "answerability" else None
    dense = evidence.get("max_dense_score", evidence.get("value", 0.0))
    return SimpleNamespace(question=row.get("question", ""), text=row["answer"], abstained=bool(row["abstained"]),
                           citations=[SimpleNamespace(**c) for c in row.get("citations", [])],
                           evidence=float(dense), confidence=confidence, decided_by=evidence.get("decided_by"),
                           outcome=row.get("outcome") or ("decline" if row["abstained"] else "answer"))


def evaluate_saved_answers(gold_path, settings, answers_path, split: str = "heldout", name: str = "") -> AnswerEvaluation:
    """Score answers produced elsewhere (an older version, another generator): a JSON-lines file
    of `ragcomm ask --queries GOLD --json`, one line per question with its gold id."""
    from ..ingest import load_corpus
    from .datasets import gold_set, load_gold

    rows = {}
    for n, line in enumerate(Path(answers_path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
                rows[row["id"]] = saved_answer(row)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{answers_path} line {n}: not a line of `ragcomm ask --queries --json` ({exc})")
    docs, _problems = load_corpus(settings.corpus_dir)
    gold = gold_set(load_gold(gold_path), docs)
    qids = in_split(list(gold.questions), split)
    missing = [q for q in qids if q not in rows]
    if missing:
        raise ValueError(f"{answers_path} has no answer for {len(missing)} question(s) of the split: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    by_id = {d.doc_id: d for d in docs}
    scored = {q: score_answer(rows[q], q, gold, by_id) for q in qids}
    run = AnswerRun(name or Path(answers_path).stem, scored, summarise(scored), {"answers_file": str(answers_path)})
    notes = [f"evidence not found in the cleaned text for {', '.join(gold.missing)} (scored as not cited)"] \
        if gold.missing else []
    return AnswerEvaluation(str(gold_path), split, [run], notes)


def evaluate_gold_answers(gold_path, settings, split: str = "heldout", grid: list | None = None, k: int = 5,
                          prebuilt=None, embedder=None, baseline: dict | None = None, log=None,
                          calibration=None, feature_sets=None, l2s=None, generator=None,
                          reader="default") -> AnswerEvaluation:
    """The default answerer, and each variant of `grid` (changes to its `Selection`), on
    one split of the gold set, each tested against the first (and against `baseline`, the
    per-question records of an earlier run, when given). With `calibration` (a path), the
    abstention model is first fitted on the tune split (the best of `feature_sets` x `l2s`)
    and written there. `generator(answerer)`, when given, makes a generator (answer/generators.py)
    whose answers are scored too, as one more run tested against the default."""
    log = log or (lambda _m: None)
    gold, docs, answerer = gold_answerer(gold_path, settings, prebuilt, embedder, log, reader)
    report, tried = None, []
    if calibration is not None:
        from ..answer.abstention import SIGNALS
        from ..answer.calibration import L2, write_calibration
        from .calibrate import calibrate_pooled, operating_table

        log("calibrating the abstention model on the tune splits of eval/gold, outside and paraphrases and on "
            "SQuAD 2.0 calibration articles ...")
        model, report = calibrate_pooled(answerer, list(docs.values()), settings, home(),
                                         home() / "train" / "qa" / "squad2_dev_part.json.gz",
                                         (feature_sets or [SIGNALS])[0], (l2s or [L2])[0], reader, log,
                                         signals_out=Path(calibration).with_suffix(".signals.json"))
        log(operating_table(report))
        sizes = ", ".join(f"{n} {s['questions']}" for n, s in report["sets"].items())
        write_calibration(calibration, report, f"{settings.mode} {settings.fusion} (defaults), k={k}",
                          settings.model, f"tune splits and SQuAD calibration articles ({sizes})", model)
        answerer.model, answerer.threshold = model, model.threshold
        tried = [report]
    qids = in_split(list(gold.questions), split)
    notes = [f"evidence not found in the cleaned text for {', '.join(gold.missing)} (scored as not cited)"] \
        if gold.missing else []
    runs = []
    for params in [{}] + [g for g in grid or [] if g]:  # the default first: the others are tested against it
        name = ", ".join(f"{k_}={v}" for k_, v in params.items()) or "default"
        log(f"answering {len(qids)} questions: {name}")
        runs.append(evaluate_answers(lambda q, p=params: answerer.ask(q, k=k, selection=p), gold, qids, docs, name, params))
    if generator is not None:
        made = generator(answerer)
        name = f"generated ({made.config.model})"
        log(f"answering {len(qids)} questions: {name}")
        runs.append(evaluate_answers(lambda q: made.ask(q, k=k), gold, qids, docs, name))
    for r in runs[1:]:
        r.significance = compare(r, runs[0].rows, runs[0].name)
    if baseline:
        for r in runs:
            r.significance.update({f"{m}_vs_baseline": v for m, v in compare(r, baseline, "baseline").items()})
    return AnswerEvaluation(str(gold_path), split, runs, notes, report, tried)
