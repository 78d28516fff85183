"""What the corpus covers, and the signals that say whether it answers a question.

Topical similarity alone is not enough (a question about current NHS policy scores high on
documents that never mention it), so the answerer combines several signals, each cheap:

    dense          highest dense cosine among the retrieved candidates
    similarity     cosine of the sentence closest to the question
    support        the best sentence's support: the highest IDF-weighted share of the question's terms
                   in a sentence that holds the asked-for kind of fact (a number for "how many"...)
    agreement      share of BM25's top 10 passages that dense retrieval also has in its top 10
    unknown_names  1 when it names something (a capitalised word, acronym or number) the corpus never uses
    unknown_titles for its names of several capitalised words ("Long Term Plan", "GP at Hand"), the
                   highest share of a name's adjacent word pairs that never occur in the corpus
    unseen_years   1 when it asks about a year the documents' text never mentions

An `AbstentionModel` (logistic, fitted by `ragcomm eval --calibrate`, calibration.py) turns
them into the probability that the documents answer; the signal that pulled hardest the
way of the decision is reported as the one that decided it.

    >>> question_years("What was the allocation for 2019/20 and 2021?")
    [2019, 2020, 2021]
    >>> question_names("Which CCGs did Healthwatch hold to account in 2019?")
    ['CCGs', 'Healthwatch', '2019']
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..backends import analyze
from .followup import QUESTION_WORDS, WORD

SIGNALS = ("dense", "similarity", "support", "agreement", "unknown_names", "unknown_titles", "unseen_years")
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)(?:\s*[/-]\s*(\d\d))?\b")
NAME = re.compile(r"\b(?:[A-Z][\w'’&-]*|\d[\w,.%/-]*)")
# Words that ask rather than say what about: never content terms of a question.
ASKING = QUESTION_WORDS | {"according", "get", "got", "give", "gave", "happen", "happened", "mean", "means",
                           "use", "used", "role", "play", "plays", "make", "made", "take", "took", "please",
                           "explain", "describe", "list", "kind", "kinds", "type", "types", "main", "key",
                           "exactly", "actually", "really", "there", "here", "any", "some", "much", "long"}


def question_years(text: str) -> list[int]:
    """Years a text names (a financial year 2019/20 names both)."""
    years = []
    for m in YEAR.finditer(text):
        first = int(m.group(1))
        years.append(first)
        if m.group(2) and int(m.group(2)) == (first + 1) % 100:
            years.append(first + 1)
    return sorted(set(years))


# Words that open a question without naming anything ("After the SHA ...", "Will the hub ...").
OPENING = ASKING | {"after", "before", "will", "would", "under", "looking", "beyond", "with", "without", "from", "by",
                    "if", "since", "short", "in", "on", "at", "for", "during", "between", "among", "across", "within",
                    "the", "a", "an", "and", "but", "or", "so"}
TITLE = re.compile(r"(?:[A-Z][\w'’-]*|&)(?:\s+(?:(?:of|and|at|for|the|on|in|&)\s+)*(?:[A-Z][\w'’-]*))+")


def question_titles(text: str) -> list[str]:
    """Runs of two or more capitalised words (small words allowed between): names of
    programmes, bodies and documents. The question's first word starts one only if it
    is capitalised for its own sake (not "What", "How").

    >>> question_titles("What did the NHS Long Term Plan say about the GP at Hand app?")
    ['NHS Long Term Plan', 'GP at Hand']
    """
    titles = []
    for m in TITLE.finditer(text):
        words = m.group(0).split()
        if m.start() == len(text) - len(text.lstrip()) and words[0].lower() in OPENING:
            words = words[1:]
        run: list = []
        for word in words + [""]:  # a possessive ends a name: "Torbay Care Trust's Head of ..."
            if word:
                run.append(word)
            if not word or re.search(r"(?:['’]s|s['’])$", word):
                while run and run[0].lower() in ("of", "and", "at", "for", "the", "on", "in", "&"):
                    run = run[1:]
                if sum(w[:1].isupper() for w in run) >= 2:
                    titles.append(" ".join(run))
                run = []
    return titles


def question_names(text: str) -> list[str]:
    """Capitalised words (other than the first), acronyms and numbers: names, programmes, years."""
    words = [m.group(0).strip(".,/-") for m in NAME.finditer(text)]
    first = WORD.search(text)
    if words and first and words[0] == first.group(0) and not words[0].isupper():
        words = words[1:]
    return [w for w in words if w.lower() not in ASKING and w]


@dataclass
class CorpusProfile:
    """What the corpus covers: the document frequency of every analysed term over the
    passages, the pairs of terms that occur next to each other, the words of the records
    (titles, journals), and the years the text mentions."""
    analyzer: str
    passages: int
    df: Counter
    pairs: set = field(default_factory=set)
    record_terms: set = field(default_factory=set)
    years: set = field(default_factory=set)

    @classmethod
    def of(cls, index) -> "CorpusProfile":
        analyzer = index.lexical.analyzer
        df: Counter = Counter()
        pairs: set = set()
        years: set = set()
        for chunk in index.chunks:
            terms = analyze(chunk.text, analyzer)
            df.update(set(terms))
            pairs.update(zip(terms, terms[1:]))
            years.update(question_years(chunk.text))
        record_terms = set()
        for doc in index.documents.values():
            meta = doc.get("metadata", {})
            record = " ".join(str(x) for x in (doc.get("title"), meta.get("journal"), meta.get("citation")) if x)
            record_terms.update(analyze(record, analyzer))
            record_terms_seq = analyze(record, analyzer)
            pairs.update(zip(record_terms_seq, record_terms_seq[1:]))
        return cls(analyzer, len(index.chunks), df, pairs, record_terms, years)

    def idf(self, term: str) -> float:
        """BM25's IDF (Lucene's, as bm25s): log(1 + (N - df + 0.5) / (df + 0.5))."""
        df = self.df.get(term, 0)
        return math.log(1 + (self.passages - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self.df or term in self.record_terms

    def content_terms(self, text: str) -> list[str]:
        """The question's analysed terms, without the words that only ask."""
        asking = _asking_terms(self.analyzer)
        return list(dict.fromkeys(t for t in analyze(text, self.analyzer) if t not in asking))


_ASKING_CACHE: dict = {}


def _asking_terms(analyzer: str) -> frozenset:
    if analyzer not in _ASKING_CACHE:
        _ASKING_CACHE[analyzer] = frozenset(analyze(" ".join(sorted(ASKING)), analyzer))
    return _ASKING_CACHE[analyzer]


def corpus_signals(question: str, profile: CorpusProfile) -> tuple[dict, dict]:
    """The signals that need only the question and the corpus, and what they found (the
    names and years the corpus never mentions) for the reason shown to the user."""
    names = [(n, analyze(n, profile.analyzer)) for n in question_names(question)]
    unknown_names = [n for n, parts in names if parts and not any(profile.known(t) for t in parts)]
    unseen = [y for y in question_years(question) if y not in profile.years]
    novel = {}  # title -> share of its adjacent word pairs the corpus never has
    for title in question_titles(question):
        parts = analyze(title, profile.analyzer)
        if len(parts) >= 2:
            novel[title] = sum(p not in profile.pairs for p in zip(parts, parts[1:])) / (len(parts) - 1)
    unknown_titles = [t for t, share in novel.items() if share > 0 and share == max(novel.values())]
    values = {"unknown_names": 1.0 if unknown_names else 0.0, "unknown_titles": max(novel.values(), default=0.0),
              "unseen_years": 1.0 if unseen else 0.0}
    return values, {"unknown_names": unknown_names, "unknown_titles": unknown_titles, "unseen_years": unseen}


def agreement(lexical: list, dense: list, n: int = 10) -> float:
    """Share of BM25's top n candidates that are also in the dense top n (0 without BM25 hits)."""
    top = [i for i, _ in lexical[:n]]
    return len(set(top) & {i for i, _ in dense[:n]}) / len(top) if top else 0.0


# ---------------------------------------------------------------- the model

@dataclass
class AbstentionModel:
    """P(the documents answer) = sigmoid(intercept + sum coef * (signal - mean) / scale);
    below `threshold` the answerer abstains."""
    features: list
    mean: list
    scale: list
    coef: list
    intercept: float
    threshold: float
    source: str = "built-in"

    @classmethod
    def single(cls, feature: str, cut: float, source: str = "built-in") -> "AbstentionModel":
        """One signal against a threshold (the rule before the model: best dense cosine >= cut)."""
        return cls([feature], [cut], [0.05], [1.0], 0.0, 0.5, source)

    def contributions(self, signals: dict) -> dict:
        return {f: c * (signals.get(f, m) - m) / s
                for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef)}

    def probability(self, signals: dict) -> float:
        z = self.intercept + sum(self.contributions(signals).values())
        return float(1 / (1 + math.exp(-max(-50.0, min(50.0, z)))))

    def decided_by(self, signals: dict, abstained: bool) -> str:
        """The signal that pulled hardest towards the decision taken."""
        parts = self.contributions(signals)
        if not parts:
            return ""
        return min(parts, key=parts.get) if abstained else max(parts, key=parts.get)

    def to_dict(self) -> dict:
        return {"features": self.features, "mean": self.mean, "scale": self.scale, "coef": self.coef,
                "intercept": self.intercept, "threshold": self.threshold}


REASONS = {
    "dense": "the closest passages are only loosely related to the question",
    "similarity": "no sentence of the closest passages is close to the question",
    "support": "no sentence of the closest passages has the question's key terms beside what it asks for",
    "agreement": "keyword and meaning search disagree about the closest passages",
}


def reason(decided: str, found: dict) -> str:
    """A sentence for the user: why the answerer abstained."""
    if decided == "unknown_names" and found.get("unknown_names"):
        return "the documents never mention " + ", ".join(f"'{w}'" for w in found["unknown_names"][:5])
    if decided == "unknown_titles" and found.get("unknown_titles"):
        return "the documents never name " + ", ".join(f"'{t}'" for t in found["unknown_titles"][:3])
    if decided == "unseen_years" and found.get("unseen_years"):
        return "the documents never mention " + ", ".join(str(y) for y in found["unseen_years"])
    return REASONS.get(decided, "the evidence is weak")


def standardise(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)
