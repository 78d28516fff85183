"""SQuAD-format files as a corpus: read (SQuAD 1.1/2.0 JSON, gzipped or not; COVID-QA has the
same shape), choose articles, write each article as one text file, index them, and locate each
paragraph in the cleaned text (eval/squad.py scores answers over it).

Each article becomes one text file: its title line, then its paragraphs separated by blank
lines, written so that ingestion keeps the text (each line of a paragraph its own block, white
space collapsed). The index is built by the normal index code with the default settings and
cached under $RAGCOMM_CACHE (default ~/.cache/ragcomm) in squad/<key>, the key a hash of the
written articles, the settings, ragcomm's index and ingest versions and the source of the code
that builds an index, so that a rerun does not rebuild it.

The article split (ragcomm/splits.py, shared with the reader's training): the validation
articles are the 8 SQuAD 2.0 titles with the smallest SHA-256 of the title; every other
article (SQuAD 1.1's extra ones, COVID-QA's papers) is train. COVID-QA comes split into files
already: evaluate its dev and test files with `articles="all"`.

    >>> squad_split("Prime_number"), squad_split("Normans")
    ('validation', 'train')
"""
from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..splits import squad_split, squad_validation_articles
from .datasets import normalised_with_offsets

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
