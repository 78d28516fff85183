"""What the corpus covers: the names, years and terms a question uses that the documents never
do. A decline that says "the documents never mention 'X'" must be true, so everything a user
can see of a document counts: its text, its title, its record line and citation, and its
metadata (journal, year, subjects, references). An acronym counts as known when the corpus
spells out words whose initials make it ("chronic obstructive pulmonary disease" for COPD),
and a capitalised name when the corpus uses its acronym ("Primary Care Trust" for PCT).

    >>> question_years("What was the allocation for 2019/20 and 2021?")
    [2019, 2020, 2021]
    >>> question_names("Which CCGs did Healthwatch hold to account in 2019?")
    ['CCGs', 'Healthwatch', '2019']
    >>> initials_of("Chronic Obstructive Pulmonary Disease"), initials_of("Department of Health and Social Care")
    ('copd', 'dhsc')
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ..backends import analyze
from .followup import QUESTION_WORDS, WORD

YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)(?:\s*[/-]\s*(\d\d))?\b")
NAME = re.compile(r"\b(?:[A-Z][\w'’&-]*|\d[\w,.%/-]*)")
# Words that ask rather than say what about: never content terms of a question.
ASKING = QUESTION_WORDS | {"according", "get", "got", "give", "gave", "happen", "happened", "mean", "means",
                           "use", "used", "role", "play", "plays", "make", "made", "take", "took", "please",
                           "explain", "describe", "list", "kind", "kinds", "type", "types", "main", "key",
                           "exactly", "actually", "really", "there", "here", "any", "some", "much", "long"}
# Small words an acronym skips ("Department of Health and Social Care" -> DHSC).
SKIPPED = {"of", "and", "the", "for", "in", "on", "to", "&", "at", "a", "an", "with", "by"}
MAX_ACRONYM = 7


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
ACRONYM_WORD = re.compile(r"[A-Z][A-Z0-9]+s?")  # "PCI", "SHAs", "R0"
TITLE = re.compile(r"(?:[A-Z][\w'’-]*|&)(?:\s+(?:(?:of|and|at|for|the|on|in|&)\s+)*(?:[A-Z][\w'’-]*))+")


def acronyms_joined(words: list[str]) -> bool:
    """Whether a run of words is acronyms with small words between them: "PCI for STEMI"."""
    small = [w for w in words if not w[:1].isupper()]
    return bool(small) and all(ACRONYM_WORD.fullmatch(w) for w in words if w[:1].isupper())


def question_titles(text: str) -> list[str]:
    """Runs of two or more capitalised words (small words allowed between): names of
    programmes, bodies and documents. The question's first word starts one only if it
    is capitalised for its own sake (not "What", "How").

    Acronyms joined by a small word ("PCI for STEMI", "SARS and MERS") name two things, not
    one: each is a name (question_names), the run is not a title.

    >>> question_titles("What did the NHS Long Term Plan say about the GP at Hand app?")
    ['NHS Long Term Plan', 'GP at Hand']
    >>> question_titles("Which stent in primary PCI for STEMI? And the NHS LTP?")
    ['NHS LTP']
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
                if sum(w[:1].isupper() for w in run) >= 2 and not acronyms_joined(run):
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


def initials_of(name: str) -> str:
    """The lower-cased initials of a name's words, small words skipped."""
    return "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’-]*", name.lower()) if w not in SKIPPED)


def acronym_form(word: str) -> str:
    """'copd' for COPD, COPDs or COPD's; '' for a word that is not an acronym."""
    core = re.sub(r"(?:['’]?s)$", "", word)
    return core.lower() if 2 <= len(core) <= MAX_ACRONYM and core.isalpha() and core.isupper() else ""


def spelled_initials(text: str) -> set:
    """The initials of every run of 2 to MAX_ACRONYM words (small words skipped) in a text:
    what acronyms its spelled-out names would make."""
    words = [w for w in re.findall(r"[a-z][\w'’-]*", text.lower()) if w not in SKIPPED]
    out = set()
    for i in range(len(words)):
        letters = ""
        for w in words[i:i + MAX_ACRONYM]:
            letters += w[0]
            if len(letters) >= 2:
                out.add(letters)
    return out


def visible_text(doc: dict) -> str:
    """What a user can see of a document beside its text: the title and every metadata value
    (record line, journal, citation, year, subjects, references ...)."""
    parts = [str(doc.get("title") or "")]

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif value is not None:
            parts.append(str(value))

    walk(doc.get("metadata") or {})
    return "\n".join(p for p in parts if p)


@dataclass
class CorpusProfile:
    """What the corpus covers: the document frequency of every analysed term over the
    passages, the pairs of terms that occur next to each other, the words of the records
    (titles, metadata), the years anything mentions, and the initials of its spelled-out names."""
    analyzer: str
    passages: int
    df: Counter
    pairs: set = field(default_factory=set)
    record_terms: set = field(default_factory=set)
    years: set = field(default_factory=set)
    initials: set = field(default_factory=set)

    @classmethod
    def of(cls, index) -> "CorpusProfile":
        analyzer = index.lexical.analyzer
        df: Counter = Counter()
        pairs: set = set()
        years: set = set()
        initials: set = set()
        for chunk in index.chunks:
            terms = analyze(chunk.text, analyzer)
            df.update(set(terms))
            pairs.update(zip(terms, terms[1:]))
            years.update(question_years(chunk.text))
            initials |= spelled_initials(chunk.text)
        record_terms = set()
        for doc in index.documents.values():
            record = visible_text(doc)
            sequence = analyze(record, analyzer)
            record_terms.update(sequence)
            pairs.update(zip(sequence, sequence[1:]))
            years.update(question_years(record))
            year = (doc.get("metadata") or {}).get("year")
            if isinstance(year, int) or (isinstance(year, str) and year.isdigit()):
                years.add(int(year))
            initials |= spelled_initials(record)
        return cls(analyzer, len(index.chunks), df, pairs, record_terms, years, initials)

    def idf(self, term: str) -> float:
        """BM25's IDF (Lucene's, as bm25s): log(1 + (N - df + 0.5) / (df + 0.5))."""
        df = self.df.get(term, 0)
        return math.log(1 + (self.passages - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self.df or term in self.record_terms

    def knows_name(self, name: str) -> bool:
        """Whether the corpus uses a name: any of its terms, or, for an acronym, words whose
        initials spell it."""
        parts = analyze(name, self.analyzer)
        if not parts or any(self.known(t) for t in parts):
            return True
        form = acronym_form(name)
        return bool(form) and form in self.initials

    def knows_title(self, title: str) -> bool:
        """Whether a capitalised name of several words is one the corpus uses by its acronym."""
        letters = initials_of(title)
        return len(letters) >= 2 and self.known(letters)

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
    unknown_names = [n for n in question_names(question) if not profile.knows_name(n)]
    unseen = [y for y in question_years(question) if y not in profile.years]
    novel = {}  # title -> share of its adjacent word pairs the corpus never has
    for title in question_titles(question):
        parts = analyze(title, profile.analyzer)
        if len(parts) >= 2 and not profile.knows_title(title):
            novel[title] = sum(p not in profile.pairs for p in zip(parts, parts[1:])) / (len(parts) - 1)
    unknown_titles = [t for t, share in novel.items() if share > 0 and share == max(novel.values())]
    values = {"unknown_names": 1.0 if unknown_names else 0.0, "unknown_titles": max(novel.values(), default=0.0),
              "unseen_years": 1.0 if unseen else 0.0}
    return values, {"unknown_names": unknown_names, "unknown_titles": unknown_titles, "unseen_years": unseen}
