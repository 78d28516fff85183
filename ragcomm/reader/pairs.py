"""Training groups for the reader from public question-answering data (train/qa/).

A `Group` is one question with candidate sentences, each labelled 1 (it holds the answer)
or 0; an unanswerable question has no positive. The reader is trained to score each
(question, sentence) pair, listwise within its group, against a "no answer" score of 0.

    squad (1.1 and 2.0)  the sentence holding the answer span is positive (a sentence that leans on
                         the one before, "It entails...", is quoted with it); the other sentences
                         of its paragraph and of the paragraphs BM25 ranks highest for the
                         question in the same article are negatives (never one holding a gold
                         answer text); every sentence is negative for an unanswerable question
    covid-qa             the same over a whole paper (expert questions, scientific text)
    pubmedqa             the abstract's conclusion answers its question; background, objective
                         and methods sentences do not (results sentences are left out)
    medquad              a consumer-health question's answer opens with the answer; the opening
                         sentences of answers to other questions on the same topic do not
    dropped              a copy of some answerable groups with the positives taken out: the
                         evidence is not among the candidates, so "no answer" must win

Articles are split whole (splits.py): SQuAD by title, COVID-QA by its own files, PubMedQA
by abstract id, MedQuAD by topic; no question of a validation article is trained on.

    >>> g = squad_groups({"data": [{"title": "T", "paragraphs": [{"context":
    ...     "The cat sat on the mat all day. Dogs barked at the moon in the night. Birds sang very loudly.",
    ...     "qas": [{"id": "1", "question": "Where did the cat sit?", "is_impossible": False,
    ...              "answers": [{"text": "on the mat", "answer_start": 12}]}]}]}]}, "squad")
    >>> [(s, l) for s, l in zip(g[0].sentences, g[0].labels)]
    [('The cat sat on the mat all day.', 1), ('Dogs barked at the moon in the night.', 0), ('Birds sang very loudly.', 0)]
"""
from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..backends import analyze
from ..chunking import sentence_spans
from ..splits import hashed_split, squad_split
from .context import quotes

WORD = re.compile(r"\w+")
MIN_WORDS = 4  # shorter pieces are labels and headings: never candidates


@dataclass
class Group:
    """One question and its candidate sentences, labelled."""
    source: str
    article: str  # what the split keeps whole (title, paper, abstract id, topic)
    question: str
    sentences: list
    labels: list
    split: str = "train"
    qid: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return any(self.labels)

    def to_dict(self) -> dict:
        return asdict(self)


def read_json(path) -> dict | list:
    """A JSON file, gzipped or not."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def read_jsonl(path) -> list[dict]:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def normal(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def sentences_of(text: str) -> list[tuple[int, int]]:
    """The quotes of a text's sentences that could be candidates (MIN_WORDS words or more):
    a sentence that leans on the one before is quoted with it (context.py), as the answerer
    quotes and reads it."""
    spans = sentence_spans(text)
    return [q for q, (a, b) in zip(quotes(text, spans), spans) if len(WORD.findall(text[a:b])) >= MIN_WORDS]


class Lexical:
    """IDF-weighted overlap of a question's analysed terms with a text: how hard a negative is."""

    def __init__(self, texts):
        self.df = Counter()
        for t in texts:
            self.df.update(set(analyze(t)))
        self.n = max(1, len(texts))

    def idf(self, term: str) -> float:
        return math.log(1 + (self.n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))

    def overlap(self, question_terms: set, text: str) -> float:
        return sum(self.idf(t) for t in question_terms & set(analyze(text)))


def pick_negatives(negatives: list[str], question: str, lexical: Lexical, n: int, rng: random.Random,
                   random_share: float = 0.25) -> list[str]:
    """The n negatives to train on: mostly the hardest (most of the question's term weight),
    some at random, so the reader also sees ordinary off-topic sentences."""
    negatives = list(dict.fromkeys(negatives))
    if len(negatives) <= n:
        return negatives
    terms = set(analyze(question))
    ranked = sorted(negatives, key=lambda s: -lexical.overlap(terms, s))
    at_random = int(round(n * random_share))
    hard = ranked[:n - at_random]
    rest = ranked[n - at_random:]
    return hard + rng.sample(rest, min(at_random, len(rest)))


def holds_any(sentence: str, answers: list[str]) -> bool:
    s = normal(sentence)
    return any(a and f" {a} " in f" {s} " for a in answers)


def squad_groups(data: dict, source: str, negatives: int = 7, retrieved: int = 2, seed: int = 0,
                 split=squad_split) -> list[Group]:
    """Groups of a SQuAD-format file (1.1 or 2.0): per question, the answer's sentence and
    negatives from its paragraph and the `retrieved` paragraphs of the article BM25 ranks
    highest for the question."""
    rng = random.Random(seed)
    out = []
    for article in data["data"]:
        title = article.get("title") or article["paragraphs"][0].get("document_id") or str(len(out))
        paragraphs = [p["context"] for p in article["paragraphs"]]
        spans = [sentences_of(text) for text in paragraphs]
        lexical = Lexical(paragraphs)
        terms_of = [set(analyze(p)) for p in paragraphs]
        for pi, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                question = qa["question"].strip()
                answers = [a for a in qa.get("answers", []) if a.get("text")]
                texts = [normal(a["text"]) for a in answers]
                terms = set(analyze(question))
                others = sorted((j for j in range(len(paragraphs)) if j != pi),
                                key=lambda j: -sum(lexical.idf(t) for t in terms & terms_of[j]))[:retrieved]
                positives, pool = [], []
                for a, b in spans[pi]:
                    sentence = context[a:b]
                    inside = any(a <= ans["answer_start"] < b for ans in answers)
                    if inside and not qa.get("is_impossible") and holds_any(sentence, texts):
                        positives.append(sentence)
                    elif not holds_any(sentence, texts):
                        pool.append(sentence)
                for j in others:
                    pool += [paragraphs[j][a:b] for a, b in spans[j] if not holds_any(paragraphs[j][a:b], texts)]
                if not qa.get("is_impossible") and not positives:
                    continue  # the answer does not stand in a whole sentence of its own
                chosen = pick_negatives(pool, question, lexical, negatives, rng)
                sentences = positives[:2] + chosen
                labels = [1] * len(positives[:2]) + [0] * len(chosen)
                out.append(Group(source, title, question, sentences, labels, split(title), str(qa.get("id", ""))))
    return out


def pubmedqa_groups(data: dict, negatives: int = 7, seed: int = 0) -> list[Group]:
    """PubMedQA (PQA-L): the conclusion's sentences answer the question (the title as a
    question); background, objective and methods sentences do not."""
    rng = random.Random(seed)
    out = []
    texts = [" ".join(item["CONTEXTS"]) for item in data.values()]
    lexical = Lexical(texts)
    for pubid, item in data.items():
        conclusion = item.get("LONG_ANSWER") or ""
        positives = [conclusion[a:b] for a, b in sentences_of(conclusion)]
        pool = []
        for context, label in zip(item["CONTEXTS"], item.get("LABELS", [])):
            if label.upper() in ("RESULTS", "RESULT", "FINDINGS"):
                continue
            pool += [context[a:b] for a, b in sentences_of(context)]
        if not positives or not pool:
            continue
        chosen = pick_negatives(pool, item["QUESTION"], lexical, negatives, rng)
        out.append(Group("pubmedqa", pubid, item["QUESTION"], positives[:2] + chosen,
                         [1] * len(positives[:2]) + [0] * len(chosen), hashed_split(f"pubmedqa:{pubid}"), pubid))
    return out


MEDQUAD_TYPES = {"information", "symptoms", "causes", "treatment", "inheritance", "frequency", "genetic changes",
                 "exams and tests", "outlook", "prevention", "susceptibility", "stages", "complications"}


def medquad_groups(rows: list[dict], limit: int = 3000, negatives: int = 7, seed: int = 0) -> list[Group]:
    """MedQuAD: the first sentence of a question's answer answers it; the opening sentences
    of the answers to the other questions on the same topic (its symptoms, not its causes)
    do not. At most `limit` questions, drawn at random (seeded) from topics with 3+ questions."""
    rng = random.Random(seed)
    by_focus: dict = {}
    for r in rows:
        if r.get("qtype") in MEDQUAD_TYPES and r.get("answer") and r.get("focus"):
            by_focus.setdefault(r["focus"], []).append(r)
    openings = {}
    for focus, items in by_focus.items():
        for r in items:
            text = r["answer"]
            first = [text[a:b] for a, b in sentences_of(text) if not text[a:b].rstrip().endswith((":", "?"))][:2]
            openings[r["id"]] = first
    eligible = [r for items in by_focus.values() if len(items) >= 3 for r in items if openings.get(r["id"])]
    rng.shuffle(eligible)
    lexical = Lexical([r["answer"] for r in eligible[:5000]])
    out = []
    for r in eligible[:limit]:
        own = openings[r["id"]]
        pool = [s for o in by_focus[r["focus"]] if o["id"] != r["id"] for s in openings.get(o["id"], [])
                if s not in own]
        if not pool:
            continue
        chosen = pick_negatives(pool, r["question"], lexical, negatives, rng)
        out.append(Group("medquad", r["focus"], r["question"], own[:1] + chosen, [1] + [0] * len(chosen),
                         hashed_split(f"medquad:{r['focus']}"), r["id"]))
    return out


def dropped(groups: list[Group], share: float, seed: int = 0) -> list[Group]:
    """Copies of a share of the answerable groups with their positives removed (unanswerable
    now: the evidence is not among the candidates)."""
    rng = random.Random(seed)
    out = []
    for g in groups:
        if g.answerable and rng.random() < share:
            negatives = [s for s, label in zip(g.sentences, g.labels) if not label]
            if len(negatives) >= 2:
                out.append(Group(g.source + "-dropped", g.article, g.question, negatives, [0] * len(negatives),
                                 g.split, g.qid + "-dropped"))
    return out


WH_START = re.compile(r"^\s*(?:what|which|who|whom|whose|when|where|why|how(?:\s+(?:many|much|long|often|far|old))?)\b"
                      r"(?:\s+(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had)\b)?\s*", re.I)


def restated(question: str) -> str | None:
    """A wh-question turned into a statement that repeats it and answers nothing, or None for
    any other question (a yes/no question restated may be its own answer).

    >>> restated("What added value do GPs bring?"), restated("Do GPs add value?")
    ('The added value GPs bring.', None)
    """
    m = WH_START.match(question)
    if not m:
        return None
    rest = re.sub(r"\b(?:do|does|did)\s+", "", question[m.end():].strip().rstrip("?").strip(), flags=re.I)
    if len(rest.split()) < 3:
        return None
    return rest[0].upper() + rest[1:] + "." if rest[:4].lower() == "the " else "The " + rest[0].lower() + rest[1:] + "."


def with_restatements(groups: list[Group]) -> list[Group]:
    """`train-reader --restate`: each training group of a wh-question with the question restated
    (`restated`) as a negative right after its positives, where trimming to max_sentences keeps
    it; the reader learns that repeating the question is no answer (eval/README.md, fourteenth
    round). Validation groups are left as they are."""
    out = []
    for g in groups:
        statement = restated(g.question) if g.split == "train" else None
        if statement is None:
            out.append(g)
            continue
        positives = [s for s, label in zip(g.sentences, g.labels) if label]
        negatives = [s for s, label in zip(g.sentences, g.labels) if not label]
        out.append(Group(g.source, g.article, g.question, positives + [statement] + negatives,
                         [1] * len(positives) + [0] * (1 + len(negatives)), g.split, g.qid, g.meta))
    return out


def public_groups(root: Path, seed: int = 0, medquad_limit: int = 3000, drop_share: float = 0.25,
                  negatives: int = 7, log=lambda _m: None) -> list[Group]:
    """Every group from the public data under `root` (train/qa/), both splits, with
    'dropped' copies of a share of the answerable training groups."""
    root = Path(root)
    groups = []
    squad2 = read_json(root / "squad2_dev_part.json.gz")
    squad1 = read_json(root / "squad11_dev_part.json.gz")
    titles2 = {a["title"] for a in squad2["data"]}
    groups += squad_groups(squad2, "squad2", negatives, seed=seed)
    only1 = {"data": [a for a in squad1["data"] if a["title"] not in titles2]}
    groups += squad_groups(only1, "squad1", negatives, seed=seed)
    for name, split in (("train", "train"), ("dev", "validation"), ("test", "test")):
        path = root / "covid_qa" / f"covid-qa-{name}.json.gz"
        if path.exists():
            groups += squad_groups(read_json(path), "covid", negatives, retrieved=0, seed=seed,
                                   split=lambda _t, s=split: s)
    groups += pubmedqa_groups(read_json(root / "pubmedqa_pqal.json.gz"), negatives, seed)
    groups += medquad_groups(read_jsonl(root / "medquad_with_answers.jsonl.gz"), medquad_limit, negatives, seed)
    groups += dropped([g for g in groups if g.split == "train"], drop_share, seed)
    counts = Counter((g.source, g.split) for g in groups)
    log("groups: " + ", ".join(f"{s}/{p} {n}" for (s, p), n in sorted(counts.items())))
    return groups
