"""What a slip costs, and what spelling correction (search/spelling.py) wins back, on the gold
questions with typos put in by a seeded random generator.

Each answerable gold question gets `per_question` slips in its words of 5 or more letters (a
letter dropped, doubled, swapped with the next, replaced by a neighbour on the keyboard, or one
added), and a leading question word becomes a casual spelling ("wat", "hw") one time in three.
A slip that makes another English or corpus word ("form" for "from") is drawn again: a
dictionary cannot see those, and they are not what this measures. Per question, as typed clean,
with typos searched as typed, and with typos corrected:

    top5     a passage holding the evidence is among the 5 retrieved (the gold qrels)
    cited    the answer cites the evidence (eval/answers.py's rule)
    first    its first citation does

and, over every gold question (answerable or not) as written, how many the correction changed
(it should change none).

    >>> import random
    >>> from collections import Counter
    >>> from ragcomm.search.spelling import Speller
    >>> speller = Speller(Counter({"commissioning": 5, "managers": 3}))
    >>> q = with_typos("What do commissioning managers do?", random.Random(3), speller, per_question=1)
    >>> q != "What do commissioning managers do?" and len(q.split()) == 5
    True
"""
from __future__ import annotations

import random
import re

from ..search.spelling import Speller

KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
CASUAL = {"what": "wat", "how": "hw", "which": "wich", "why": "wy", "does": "dose", "who": "hwo", "when": "wen"}
WORD = re.compile(r"[A-Za-z]+")


def neighbours(ch: str) -> str:
    """Letters next to `ch` on a QWERTY keyboard (same row)."""
    for row in KEYBOARD:
        i = row.find(ch.lower())
        if i >= 0:
            return row[max(0, i - 1):i] + row[i + 1:i + 2]
    return ""


def slip(word: str, rng: random.Random) -> str:
    """One typing slip in a word, never in its first letter."""
    i = rng.randrange(1, len(word))
    kind = rng.choice(["drop", "double", "swap", "neighbour", "add"])
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "neighbour" and neighbours(word[i]):
        return word[:i] + rng.choice(neighbours(word[i])) + word[i + 1:]
    return word[:i] + rng.choice("aeioulnrst") + word[i:]


def with_typos(question: str, rng: random.Random, speller: Speller, per_question: int = 2) -> str:
    """The question with up to `per_question` slips in its longer words (and perhaps a casual
    question word); each slip makes a word that neither English nor the corpus has."""
    words = [m for m in WORD.finditer(question) if len(m.group(0)) >= 5 and not m.group(0).isupper()]
    chosen = sorted(rng.sample(words, min(per_question, len(words))), key=lambda m: m.start())
    out, at = [], 0
    for m in chosen:
        word = m.group(0)
        for _ in range(20):
            typo = slip(word, rng)
            if typo.lower() != word.lower() and not speller.known(typo):
                break
        else:
            continue
        out.append(question[at:m.start()] + typo)
        at = m.end()
    typed = "".join(out) + question[at:]
    first = WORD.match(typed)
    if first and first.group(0).lower() in CASUAL and rng.random() < 1 / 3:
        typed = CASUAL[first.group(0).lower()] + typed[first.end():]
    return typed


def evaluate(answerer, gold, k: int = 5, seed: int = 25, per_question: int = 2, limit: int | None = None,
             log=None) -> dict:
    """The figures above for one answerer over the gold set (`eval.datasets.GoldSet`), or its
    first `limit` answerable questions."""
    from .answers import covers

    log = log or (lambda _m: None)
    retriever = answerer.retriever
    qrels = gold.qrels(retriever.index.chunks)
    rng = random.Random(seed)
    rows = []
    for qid in sorted(gold.spans):
        if qid not in qrels:
            continue
        if limit is not None and len(rows) >= limit:
            break
        clean = gold.questions[qid]
        typed = with_typos(clean, rng, retriever.speller, per_question)
        doc_id, spans = gold.spans[qid]
        row = {"id": qid, "question": clean, "typed": typed, "searched": retriever.correct(typed).query}
        for name, question, spelling in (("clean", clean, True), ("typos", typed, False),
                                         ("corrected", typed, True)):
            answer = answerer.ask(question, k=k, spelling=spelling)
            cited = [covers(c, doc_id, spans) for c in answer.citations] if not answer.abstained else []
            row[name] = {"top5": any(h.chunk_id in qrels[qid] for h in answer.hits[:5]),
                         "cited": any(cited), "first": bool(cited) and cited[0], "answered": not answer.abstained}
        rows.append(row)
        log(f"{qid}: {typed!r} -> {row['searched']!r}")
    changed = [q for q in gold.questions.values() if retriever.correct(q).changes]
    figures = {name: {m: round(sum(r[name][m] for r in rows) / len(rows), 4) for m in ("top5", "cited", "first",
                                                                                        "answered")}
               for name in ("clean", "typos", "corrected")} if rows else {}
    return {"seed": seed, "per_question": per_question, "questions": len(rows), "figures": figures,
            "clean_questions": len(gold.questions), "clean_changed": changed, "rows": rows}


def markdown(report: dict) -> str:
    """The figures as a Markdown table."""
    slips = f"{report['per_question']} slip{'s' if report['per_question'] != 1 else ''}"
    lines = [f"{report['questions']} answerable gold questions, {slips} each (seed "
             f"{report['seed']}); {len(report['clean_changed'])} of {report['clean_questions']} gold questions "
             "as written changed by the correction.", "",
             "| questions | right passage in top 5 | evidence cited | evidence first | answered |",
             "| --- | --- | --- | --- | --- |"]
    names = {"clean": "as written", "typos": "with typos, searched as typed", "corrected": "with typos, corrected"}
    for name, label in names.items():
        f = report["figures"][name]
        lines.append(f"| {label} | {f['top5']:.3f} | {f['cited']:.3f} | {f['first']:.3f} | {f['answered']:.3f} |")
    return "\n".join(lines)


def word_slips(speller: Speller, words: int = 300, min_length: int = 6) -> dict:
    """Every slip of one letter dropped, doubled or swapped with the next (never the first) in
    the corpus's `words` most used words of `min_length` letters or more, that is itself no word
    (of English or the corpus, whatever the speller thinks): how many the speller puts back (the
    word, or a word of its stem), leaves as typed, or turns into another word.

    >>> from collections import Counter
    >>> r = word_slips(Speller(Counter({"commissioning": 9, "managers": 5, "practice": 5})), words=1)
    >>> r["words"], r["slips"] == r["restored"] + r["left"] + r["wrong"], r["restored"] > 0
    (1, True, True)
    """
    from ..search.spelling import american, english, stems

    common = english()

    def real(w: str) -> bool:
        return w in common or w in speller.counts or any(v in common for v in american(w))

    chosen = [w for w, _ in speller.counts.most_common() if len(w) >= min_length and w.isalpha()][:words]
    slips = {}
    for word in chosen:
        for i in range(1, len(word)):
            variants = [word[:i] + word[i + 1:], word[:i] + word[i] + word[i:]]
            if i < len(word) - 1 and word[i] != word[i + 1]:
                variants.append(word[:i] + word[i + 1] + word[i] + word[i + 2:])
            for typo in variants:
                if typo != word and not real(typo):
                    slips.setdefault(typo, word)
    counts = {"restored": 0, "left": 0, "wrong": 0}
    wrong = []
    for typo, word in slips.items():
        fixed = (speller.suggest(typo) or typo).lower()
        kind = "left" if fixed == typo else "restored" if stems([fixed]) == stems([word]) else "wrong"
        counts[kind] += 1
        if kind == "wrong" and len(wrong) < 20:
            wrong.append((typo, word, fixed))
    return {"words": len(chosen), "slips": len(slips), **counts, "wrong_examples": wrong}
