"""`ragcomm eval --calibrate`: fit the abstention model and choose where it declines and
cautions, on questions written by the project and by other people (answer/operating.py).

The question sets, the 'calibrate' half of their tune split only (splits.tune_half: the
reader may have learned from the other half; the held-out split stays for the figures):

    gold          eval/gold.jsonl: the project's own questions
    outside       eval/outside.jsonl: written by someone who never ran the system
    paraphrases   eval/paraphrases.jsonl: the gold questions reworded (short, casual, acronyms,
                  typos), a rewording on its original's side of the split
    squad         SQuAD 2.0 crowdworkers' questions (train/qa/squad2_dev_part.json.gz) on the
                  first 4 of the 8 validation articles (CALIBRATION_ARTICLES), asked over an
                  index of all 8; the other 4 are left for the figures. The reader never
                  trains on any validation article.

Each question is asked with abstention off to read its signals. The commissioning sets must
decline or caution at least 90% of their unanswerable questions, SQuAD 60%; no set may see
more than MAX_DECLINED of its answerable questions declined.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..answer.abstention import SIGNALS
from ..answer.calibration import L2
from ..answer.operating import MAX_DECLINED, fit_pooled
from ..splits import SQUAD_VALIDATION, split_of, tune_half

SETS = ("gold", "outside", "paraphrases")
CALIBRATION_ARTICLES = SQUAD_VALIDATION[:4]
REPORT_ARTICLES = SQUAD_VALIDATION[4:]
TARGETS = {"gold": 0.90, "outside": 0.90, "paraphrases": 0.90, "squad": 0.60}


def signals_of(answerer, questions: dict, k: int = 5) -> dict:
    """Each question's abstention signals, asked with abstention off."""
    saved, answerer.threshold = answerer.threshold, 0.0
    try:
        out = {}
        for qid, question in questions.items():
            try:
                out[qid] = answerer.ask(question, k=k).signals
            except ValueError:  # a question the checks refuse (empty, too long): not a calibration point
                continue
        return out
    finally:
        answerer.threshold = saved


def commissioning_sets(answerer, docs: list, root: Path, split: str = "calibrate", log=lambda _m: None) -> dict:
    """name -> (signals by qid, answerable qids) for the project's question files: the tune
    split's `split` half (splits.tune_half; 'all' for every question)."""
    from .datasets import gold_set, load_gold

    out = {}
    for name in SETS:
        path = root / "eval" / f"{name}.jsonl"
        if not path.exists():
            continue
        gold = gold_set(load_gold(path), docs)
        questions = {q: text for q, text in gold.questions.items()
                     if split == "all" or (split_of(q) == "tune" and tune_half(q) == split)}
        log(f"{name}: {len(questions)} questions of the {split} split")
        out[name] = (signals_of(answerer, questions), gold.answerable & set(questions))
    return out


def squad_set(settings, path: Path, articles=CALIBRATION_ARTICLES, reader="default", log=lambda _m: None):
    """(signals by qid, answerable qids) for the SQuAD questions of `articles`, asked over an
    index of every validation article."""
    from .squad import default_answerer
    from .squad_corpus import build_squad_corpus, read_squad, select_articles

    squad = read_squad(path)
    corpus = build_squad_corpus(select_articles(squad, "validation"), settings, log=log)
    answerer = default_answerer(corpus.index, reader=reader)
    questions = {q.qid: q.question for q in squad.questions if q.article in articles}
    log(f"squad: {len(questions)} questions of {len(articles)} articles")
    answerable = {q.qid for q in squad.questions if q.article in articles and q.answerable}
    return signals_of(answerer, questions), answerable


def calibrate_pooled(answerer, docs: list, settings, root: Path, squad_path: Path | None = None,
                     features=SIGNALS, l2: float = L2, reader="default", log=lambda _m: None,
                     signals_out: Path | None = None):
    """The model fitted on every set, and its report (answer/operating.py). With `signals_out`,
    each question's signals and answerability are written there too (JSON, for analysis)."""
    sets = commissioning_sets(answerer, docs, root, "calibrate", log)
    if squad_path is not None:
        sets["squad"] = squad_set(settings, squad_path, reader=reader, log=log)
    if signals_out is not None:
        Path(signals_out).parent.mkdir(parents=True, exist_ok=True)
        Path(signals_out).write_text(json.dumps({n: {"signals": sig, "answerable": sorted(ans)}
                                                 for n, (sig, ans) in sets.items()}))
    return fit_pooled(sets, features, l2, max_declined=MAX_DECLINED, targets={n: TARGETS[n] for n in sets})


def operating_table(report: dict) -> str:
    """The cross-validated outcomes of each set at the chosen thresholds, as Markdown."""
    lines = [f"decline below {report['threshold']:.3f}, caution below {report['caution']:.3f} "
             f"(answerability, cross-validated over {report['folds']} folds)", "",
             "| set | questions | AUROC | answerable: answered / cautioned / declined | "
             "unanswerable: answered / cautioned / declined |", "|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        a, u = s["outcomes"]["answerable"], s["outcomes"]["unanswerable"]
        lines.append(f"| {name} | {s['questions']} | {s['auroc']} | {a['answer']} / {a['caution']} / {a['decline']} | "
                     f"{u['answer']} / {u['caution']} / {u['decline']} |")
    return "\n".join(lines)
