"""Answers on SQuAD-format files: questions written outside the project, asked through the
whole pipeline (ingest, the default index, the Answerer with abstention).

A SQuAD 1.1/2.0 JSON file (gzipped or not; COVID-QA has the same shape) becomes a corpus of
one text file per article: its title line, then its paragraphs separated by blank lines,
written so that ingestion keeps the text (each line of a paragraph its own block, white space
collapsed). Each paragraph is then located in the *cleaned* document text, as citations point
into it. The index is built by the normal index code with the default settings and cached
under $RAGCOMM_CACHE (default ~/.cache/ragcomm) in squad/<key>, the key a hash of the written
articles, the settings, ragcomm's index and ingest versions and the source of the code that
builds an index, so that a rerun does not rebuild it. Every question is asked with
`Answerer.ask`, retrieving over all the chosen articles. Per question:

    evidence cited   some citation's span lies within the gold paragraph's span and its
                     sentence contains one of the gold answer texts (case-insensitive, white
                     space collapsed, Unicode normalised as ingestion does)
    evidence first   the first citation does
    passage top 5    a retrieved passage (of the k = 5) overlaps the gold paragraph
    answered         not abstained; SQuAD 2.0's `is_impossible` questions should be declined

and the figures of eval/answers.py (`summarise`: balanced accuracy, AUROC of the answer's
confidence, Wilson intervals; paired tests against `--baseline`).

The article split (ragcomm/splits.py, shared with the reader's training): the validation
articles are the 8 SQuAD 2.0 titles with the smallest SHA-256 of the title; every other
article (SQuAD 1.1's extra ones, COVID-QA's papers) is train. COVID-QA comes
split into files already: evaluate its dev file with `articles="all"`.

    >>> squad_split("Prime_number"), squad_split("Normans")
    ('validation', 'train')
    >>> answer_text("  Amazon\\u00a0 Rainforest ")
    'amazon rainforest'
"""
from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..splits import squad_split, squad_validation_articles
from .answers import PAIRED, AnswerRun, answer_row, answers_table, compare, summarise
from .datasets import normalised_with_offsets
from .stats import proportion_interval

# The 25 articles of SQuAD 2.0's dev set in ../shared/qa/squad2_dev_part.json.gz.
SQUAD2_TITLES = (
    "Amazon_rainforest", "Computational_complexity_theory", "Construction", "Ctenophora", "European_Union_law",
    "Force", "French_and_Indian_War", "Fresno,_California", "Geology", "Harvard_University", "Huguenot",
    "Immune_system", "Imperialism", "Intergovernmental_Panel_on_Climate_Change", "Islamism",
    "Jacksonville,_Florida", "Normans", "Prime_number", "Private_school", "Sky_(United_Kingdom)",
    "Southern_California", "Steam_engine", "University_of_Chicago", "Victoria_(Australia)", "Yuan_dynasty")
# The split is ragcomm/splits.py's (one rule for training and evaluation); computed here from
# the hash of the titles, and checked against splits.SQUAD_VALIDATION in tests/eval/test_squad.py.
VALIDATION_ARTICLES = squad_validation_articles(SQUAD2_TITLES)
ARTICLE_SETS = ("validation", "train", "all")
K = 5  # passages retrieved per question, as `ragcomm ask`
# Paired tests against a baseline: those of eval/answers.py and the right passage in the top 5.
SQUAD_PAIRED = {**PAIRED, "passage_top5": "answerable"}


def title_hash(title: str) -> str:
    return hashlib.sha256(title.encode()).hexdigest()


class SquadError(ValueError):
    """A file that is not SQuAD JSON, or articles that are not in it: one line for the user."""


# ---------------------------------------------------------------- the file

@dataclass
class Article:
    name: str  # the SQuAD title (COVID-QA: the paper's document_id)
    title: str  # the title line written at the top of the document (none when '')
    paragraphs: list  # the contexts, in order


@dataclass
class Question:
    qid: str
    question: str
    article: str  # Article.name
    paragraph: int  # position of its context in the article
    answers: tuple  # the gold answer texts, distinct; () for an unanswerable question

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class SquadFile:
    path: str
    version: str
    articles: list  # [Article]
    questions: list  # [Question], in file order


def read_squad(path) -> SquadFile:
    """A SQuAD 1.1/2.0-format JSON file (gzipped or not); SquadError saying what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SquadError(f"SQuAD file not found: {path}") from None
    except OSError as exc:
        raise SquadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SquadError(f"{path}: a damaged gzip file ({exc})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SquadError(f"{path}: not JSON ({exc}); expected a SQuAD 1.1/2.0 file") from None

    def bad(where: str, what: str):
        return SquadError(f"{path}: not a SQuAD file: {where} {what}")

    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise bad("the top level", 'has no "data" list of articles')
    articles, questions, seen = [], [], set()
    for a, item in enumerate(data["data"]):
        where = f"article {a + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("paragraphs"), list):
            raise bad(where, 'has no "paragraphs" list')
        contexts = []
        for p, para in enumerate(item["paragraphs"]):
            at = f"{where}, paragraph {p + 1}"
            if not isinstance(para, dict) or not isinstance(para.get("context"), str) \
                    or not isinstance(para.get("qas"), list):
                raise bad(at, 'lacks a "context" text or a "qas" list')
            contexts.append(para["context"])
        title = item.get("title")
        ids = {str(para["document_id"]) for para in item["paragraphs"] if para.get("document_id") is not None}
        name = str(title) if isinstance(title, str) and title.strip() else (ids.pop() if len(ids) == 1
                                                                             else f"article-{a + 1}")
        while name in seen:
            name += "~"
        seen.add(name)
        articles.append(Article(name, " ".join(name.replace("_", " ").split()) if title else first_line(contexts),
                                contexts))
        for p, para in enumerate(item["paragraphs"]):
            for qa in para["qas"]:
                at = f"{where}, paragraph {p + 1}"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or "id" not in qa \
                        or not isinstance(qa.get("answers", []), list):
                    raise bad(at, 'has a question without "id", "question" text or "answers" list')
                texts = [] if qa.get("is_impossible") else [x.get("text") for x in qa.get("answers", [])
                                                            if isinstance(x, dict)]
                answers = tuple(dict.fromkeys(t for t in texts if isinstance(t, str) and t.strip()))
                if not qa.get("is_impossible") and not answers:
                    raise bad(at, f"has question {qa['id']} with no answer text that is not marked is_impossible")
                questions.append(Question(str(qa["id"]), qa["question"], name, p, answers))
    ids = [q.qid for q in questions]
    if len(set(ids)) != len(ids):
        raise SquadError(f"{path}: question ids repeat (e.g. {next(i for i in ids if ids.count(i) > 1)})")
    if not questions:
        raise SquadError(f"{path}: no questions")
    return SquadFile(str(path), str(data.get("version", "")), articles, questions)


def first_line(contexts: list) -> str:
    """The title of an article without one: its text's first line, when short enough to be one
    (COVID-QA's papers start with their title)."""
    line = next((b for c in contexts for b in paragraph_blocks(c)), "")
    return line if len(line) <= 250 else ""


def select_articles(squad: SquadFile, spec: str | None = "validation") -> list[Article]:
    """The articles to evaluate: 'validation', 'train', 'all', or names separated by commas
    (a name may hold commas itself, "Jacksonville,_Florida"; spaces stand for underscores)."""
    spec = (spec or "validation").strip()
    if spec in ARTICLE_SETS:
        chosen = [a for a in squad.articles if spec == "all" or squad_split(a.name) == spec]
        if not chosen:
            raise SquadError(f"{squad.path} has no {spec} articles (the split is by SQuAD 2.0 title; a file that is "
                             "a split already, such as COVID-QA's dev file, is evaluated with --articles all)")
        return chosen
    by_key = {a.name.replace(" ", "_"): a for a in squad.articles}
    parts, chosen, i = spec.split(","), [], 0
    while i < len(parts):
        j = next((j for j in range(len(parts), i, -1) if ",".join(parts[i:j]).strip().replace(" ", "_") in by_key),
                 None)
        if j is None:
            names = ", ".join(a.name for a in squad.articles[:8]) + (" ..." if len(squad.articles) > 8 else "")
            raise SquadError(f"no article '{parts[i].strip()}' in {squad.path} (articles: {names}; or one of "
                             f"{', '.join(ARTICLE_SETS)})")
        article = by_key[",".join(parts[i:j]).strip().replace(" ", "_")]
        if article not in chosen:
            chosen.append(article)
        i = j
    return chosen


def sample_questions(questions: list, n: int | None, seed: int = 0) -> list:
    """n questions drawn at random (seeded), in file order; all of them when n is None or larger."""
    if n is None or n >= len(questions):
        return list(questions)
    keep = set(random.Random(seed).sample(range(len(questions)), n))
    return [q for i, q in enumerate(questions) if i in keep]


# ---------------------------------------------------------------- documents and paragraphs

def paragraph_blocks(context: str) -> list[str]:
    """A context as written to the document: each line its own block, white space collapsed
    (so that ingestion never reflows, de-hyphenates or merges lines of it); a line that opens
    like a reference entry ("[13] Secondly, ...") carries on the one before, else ingestion
    would move it to the reference list.

    >>> paragraph_blocks("A  b.\\n[13] C d.\\n\\nE.")
    ['A b. [13] C d.', 'E.']
    """
    from ..ingest.clean import REFERENCE

    blocks: list = []
    for line in context.splitlines():
        line = " ".join(line.split())
        if line and blocks and REFERENCE.match(line):
            blocks[-1] += " " + line
        elif line:
            blocks.append(line)
    return blocks


def document_text(article: Article) -> str:
    """The text file of an article: its title line, then its paragraphs' blocks separated by
    blank lines."""
    blocks = ([article.title] if article.title else []) + [b for c in article.paragraphs for b in paragraph_blocks(c)]
    return "\n\n".join(blocks) + "\n"


def file_name(article: Article) -> str:
    """A safe, readable file name for an article, distinct for distinct names.

    >>> file_name(Article("Sky_(United_Kingdom)", "", [])), file_name(Article("AC/DC", "", []))
    ('Sky_(United_Kingdom).txt', 'AC_DC-5a5abe39.txt')
    """
    stem = re.sub(r"[^\w.,()'-]+", "_", article.name).strip("._") or "article"
    return f"{stem}.txt" if stem == article.name and len(stem) <= 100 else \
        f"{stem[:100]}-{title_hash(article.name)[:8]}.txt"


def align_blocks(norm_text: str, norm_blocks: list) -> list:
    """Where each block starts in the text, None for a block that ingestion dropped, both
    compared on letters and digits only. Ingestion only drops whole lines of what is written
    (furniture, page numbers, reference entries), so the text is some of the blocks end to
    end: of the ways to read it so, the one that keeps the most characters. (Looking each block
    up in turn goes wrong once a dropped page number "1" matches far ahead.)

    >>> align_blocks("ab1cd", ["ab", "1", "cd"]), align_blocks("abcd", ["ab", "1", "cd"])
    ([0, 2, 3], [0, None, 2])
    """
    states = {0: (0, None)}  # position reached -> (characters kept, (previous position, kept?))
    steps = []
    for block in norm_blocks:
        reached = {}
        for pos, (kept, _) in states.items():
            options = [(pos, kept, False)]
            if block and norm_text.startswith(block, pos):
                options.append((pos + len(block), kept + len(block), True))
            for new, score, keep in options:
                if new not in reached or score > reached[new][0]:
                    reached[new] = (score, (pos, keep))
        steps.append(reached)
        states = reached
    pos = len(norm_text) if len(norm_text) in states else max(states, key=lambda p: (p, states[p][0]))
    starts = [None] * len(norm_blocks)
    for i in range(len(norm_blocks) - 1, -1, -1):
        previous, keep = steps[i][pos][1]
        starts[i] = previous if keep else None
        pos = previous
    return starts


def locate_paragraphs(text: str, article: Article) -> tuple[list, int]:
    """Where each paragraph of the article lies in the cleaned document text: [(start, end) or
    None], and how many of its blocks (lines) ingestion dropped. Blocks are aligned on letters
    and digits only (datasets.locate's comparison; align_blocks); a paragraph's span runs from
    its first kept block to its last, with the punctuation that opens and closes them.

    >>> locate_paragraphs('T\\n\\n"Hi," she said.\\n\\nBye .', Article("T", "T", ['"Hi," she said.', "1", "Bye ."]))
    ([(3, 18), None, (20, 25)], 1)"""
    norm, offsets = normalised_with_offsets(text)
    blocks = [(None, article.title)] if article.title else []
    blocks += [(p, b) for p, context in enumerate(article.paragraphs) for b in paragraph_blocks(context)]
    normed = [normalised_with_offsets(b) for _, b in blocks]
    starts = align_blocks(norm, [n for n, _ in normed])
    spans: list = [None] * len(article.paragraphs)
    missing = 0
    for (p, block), (target, inner), at in zip(blocks, normed, starts):
        if p is None or not target:
            continue
        if at is None:
            missing += 1
            continue
        block = unicodedata.normalize("NFC", block)
        head, tail = block[:inner[0]], block[inner[-1] + 1:]
        start, end = offsets[at], offsets[at + len(target) - 1] + 1
        start -= len(head) if text[start - len(head):start] == head else 0
        end += len(tail) if text[end:end + len(tail)] == tail else 0
        spans[p] = (spans[p][0] if spans[p] else start, end)
    return spans, missing


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


@dataclass
class SquadCorpus:
    """The articles written as a corpus and indexed: where, the index, and each paragraph's span."""
    folder: Path
    index: object  # index.store.Index
    doc_ids: dict  # article name -> doc_id
    spans: dict  # (article name, paragraph) -> (start, end) in the cleaned text, or None
    missing_blocks: int
    built: bool  # False when the cached index was reused


def cache_key(files: dict, settings, embedder=None) -> str:
    """The cache folder's name: the written articles, the settings, the index and ingest
    versions, and the source of the code that turns files into an index."""
    from .. import chunking
    from ..index import FORMAT_VERSION
    from ..ingest import INGEST_VERSION
    from ..version import __version__

    root = Path(chunking.__file__).parent
    code = hashlib.sha256()
    for p in sorted([root / "chunking.py", *[q for d in ("ingest", "index", "embed", "backends")
                                             for q in (root / d).rglob("*.py")]]):
        code.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    described = {k: v for k, v in settings.as_dict().items() if k not in ("corpus_dir", "index_dir")}
    if embedder is not None:  # an embedder given in place of settings.model (tests)
        described["embedder"] = [embedder.model_id, embedder.backend]
    key = {"files": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in sorted(files.items())},
           "settings": described, "ragcomm": __version__, "index_format": FORMAT_VERSION, "ingest": INGEST_VERSION,
           "code": code.hexdigest()}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def default_cache() -> Path:
    from ..embed.onnx import cache_home

    return cache_home() / "squad"


def build_squad_corpus(articles: list[Article], settings, cache_dir=None, log=None, embedder=None) -> SquadCorpus:
    """Write the articles as a corpus and open (or build) its index with `settings`' index
    settings (and `embedder`, default settings.model), in a cache folder keyed by cache_key;
    locate every paragraph."""
    from ..index import open_index

    log = log or (lambda _m: None)
    if embedder is not None:  # its model is the one the index records
        settings = settings.replace(model=embedder.model_id)
    files = {file_name(a): document_text(a) for a in articles}
    if len(files) != len(articles):
        raise SquadError("two articles would share a file name")
    folder = Path(cache_dir or default_cache()) / cache_key(files, settings, embedder)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = corpus / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_name(f".{name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
    built = not (folder / "index" / "manifest.json").exists()
    log(f"{'building' if built else 'opening'} the index of {len(articles)} articles in {folder}")
    index = open_index(settings.replace(corpus_dir=corpus, index_dir=folder / "index"), log=log, embedder=embedder)
    by_source = {d["source"]: doc_id for doc_id, d in index.documents.items()}
    doc_ids, spans, missing = {}, {}, 0
    for article, name in zip(articles, files):
        doc_id = by_source.get(name)
        if doc_id is None:
            raise SquadError(f"article {article.name} was not indexed (ingestion skipped {name})")
        doc_ids[article.name] = doc_id
        found, lost = locate_paragraphs(index.documents[doc_id]["text"], article)
        missing += lost
        spans.update({(article.name, p): span for p, span in enumerate(found)})
    return SquadCorpus(folder, index, doc_ids, spans, missing, built)


# ---------------------------------------------------------------- evaluation

@dataclass
class SquadEvaluation:
    file: str
    articles: list  # names
    spec: str  # --articles as given
    runs: list  # [AnswerRun] (one)
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
                   reader="default") -> SquadEvaluation:
    """Ask every question of the chosen articles of a SQuAD-format file (or a seeded sample of
    `sample` of them) through the whole pipeline and score the answers. `make_answerer(index)`
    gives the answerer to measure (default: the shipped one, with `calibration` when given);
    `baseline`: per-question records of an earlier run (its --json) for paired tests;
    `embedder`: builds the index in place of settings.model (tests)."""
    from ..config import Settings
    from ..search.retriever import QueryError

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
    rows, latencies, refusals = {}, [], []
    started = last = time.perf_counter()
    for n, q in enumerate(questions, start=1):
        t = time.perf_counter()
        try:
            answer = answerer.ask(q.question, k=K)
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
    run = AnswerRun(name, rows, squad_summary(rows, latencies),
                    {"file": squad.path, "articles": articles, "sample": sample, "seed": seed, "k": K})
    if baseline:
        metrics = {m: v for m, v in SQUAD_PAIRED.items() if m in PAIRED or any(m in r for r in baseline.values())}
        run.significance = {f"{m}_vs_baseline": v for m, v in compare(run, baseline, "baseline",
                                                                      metrics=metrics).items()}
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
        notes.append(f"{len(refusals)} question(s) refused as asked (scored as abstained): {', '.join(refusals[:5])}")
    if baseline and not set(rows) & set(baseline):
        notes.append("the baseline has none of these questions: rerun it with the same --articles, --sample, --seed")
    return SquadEvaluation(squad.path, [a.name for a in chosen], articles or "validation", [run], notes, sample, seed,
                           str(corpus.folder))


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

    for kind, k in s["by_kind"].items():
        lines.append(f"| {kind} | {k['questions']} | {cell(k['answered'])} | {cell(k['abstained'])} | "
                     f"{cell(k['evidence_cited'])} | {cell(k['evidence_first'])} | {cell(k['passage_top5'])} | "
                     f"{cell(k['latency_ms_p50'], 1)} |")
    lines += [f"note: {n}" for n in result.notes]
    lines.append(f"index: {result.index}")
    return "\n".join(lines)
