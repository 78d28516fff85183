"""Measuring the support check (answer/support.py) on the gold set.

    python -m ragcomm.eval.support rules      # the rule's thresholds against hand-made sentences

Each answerable gold question gets passages [1] (the chunk holding its evidence) and [2] (the
best retrieved chunk of another part of the corpus that does not overlap the evidence), and
sentences that cite them:

    supported    the evidence verbatim [1]; a hand-written paraphrase [1] (eval/support.jsonl)
    unsupported  hand-written: a number changed, a negation added or dropped, the claim
                 reversed, a name swapped, a claim invented (eval/support.jsonl); and, made
                 here: the evidence and the paraphrase citing [2] (wrong marker), another
                 question's evidence citing [1] (copied from no cited source)

Each sentence is measured once (similarity, coverage, numbers, negation); every rule of the
grid is then applied to the measurements.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ..answer.support import RULE, Claim, Rule, make_passage, measure, verdict
from ..config import Settings, home
from .datasets import gold_set, load_gold

SIMILARITIES = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
COVERAGES = (0.0, 0.5, 0.6, 0.67, 0.75, 0.8, 0.9, 1.0)


@dataclass
class Item:
    qid: str
    kind: str
    supported: bool
    support: object  # SentenceSupport, measured
    facts: object  # Facts, or None when the claim fails before measuring


def support_items(settings: Settings, gold_path: Path, sentences_path: Path, log=print) -> list[Item]:
    """Every sentence of the measurement, measured against its passages."""
    from ..index import open_index
    from ..ingest import load_corpus
    from ..search import Retriever

    index = open_index(settings, log=log)
    retriever = Retriever(index, settings=settings)
    docs, _ = load_corpus(settings.corpus_dir)
    rows = load_gold(gold_path)
    gold = gold_set(rows, docs)
    evidence = {r["id"]: " ".join(r["evidence"].split()) for r in rows if r.get("answerable")}
    written = [json.loads(line) for line in Path(sentences_path).read_text(encoding="utf-8").splitlines()
               if line.strip()]
    chunks_of: dict = {}
    for c in index.chunks:
        chunks_of.setdefault(c.doc_id, []).append(c)
    encode = retriever.embedder.encode
    analyzer = index.lexical.analyzer

    qids = [q for q in evidence if q in gold.spans]
    items = []
    for n, qid in enumerate(qids):
        doc_id, spans = gold.spans[qid]
        start, end = spans[0]
        covering = sorted(chunks_of[doc_id], key=lambda c: -(min(end, c.end) - max(start, c.start)))
        own = covering[0]
        hits = retriever.search(gold.questions[qid], k=10)
        other = next(h for h in hits if not (h.doc_id == doc_id and h.start < end and h.end > start))
        passages = {1: make_passage(1, own.chunk_id, own.text, encode, analyzer),
                    2: make_passage(2, other.chunk_id, other.text, encode, analyzer)}
        # Another question's evidence from another document: copied from no cited source.
        stranger = next(evidence[q] for q in qids[n + 1:] + qids[:n] if gold.spans[q][0] != doc_id)
        cases = [("verbatim", True, evidence[qid], [1]), ("wrong-marker", False, evidence[qid], [2]),
                 ("other-source", False, stranger, [1])]
        for row in (r for r in written if r["qid"] == qid):
            cases.append((row["kind"], row["supported"], row["sentence"], [1]))
            if row["kind"] == "paraphrase":
                cases.append(("wrong-marker", False, row["sentence"], [2]))
        vectors = encode([text for _, _, text, _ in cases])
        for (kind, supported, text, markers), vector in zip(cases, vectors):
            support, facts = measure(Claim(text, markers), vector, passages, analyzer)
            items.append(Item(qid, kind, supported, support, facts))
    return items


def accepted(item: Item, rule: Rule) -> bool:
    return item.facts is not None and not item.support.reason and not verdict(item.support, item.facts, rule)


def rates(items: list[Item], rule: Rule) -> dict:
    """Share accepted of the supported sentences, of the unsupported ones, and by kind."""
    out = {}
    for label, group in (("supported", [i for i in items if i.supported]),
                         ("unsupported", [i for i in items if not i.supported])):
        out[label] = sum(accepted(i, rule) for i in group) / max(1, len(group))
    for kind in dict.fromkeys(i.kind for i in items):
        group = [i for i in items if i.kind == kind]
        out[kind] = sum(accepted(i, rule) for i in group) / len(group)
    return out


def grid(items: list[Item]) -> list[tuple[Rule, dict]]:
    rules = [Rule(s, c, numbers, negation) for s in SIMILARITIES for c in COVERAGES
             for numbers in (True, False) for negation in (True, False)]
    return [(r, rates(items, r)) for r in rules]


def choose(results: list[tuple[Rule, dict]], max_unsupported: float = 0.05) -> tuple[Rule, dict]:
    """The rule that accepts most supported sentences while accepting at most
    `max_unsupported` of the unsupported ones (ties: the stricter rule)."""
    allowed = [(r, m) for r, m in results if m["unsupported"] <= max_unsupported] or results
    return max(allowed, key=lambda rm: (rm[1]["supported"], -rm[1]["unsupported"], rm[0].min_similarity,
                                        rm[0].min_coverage, rm[0].numbers, rm[0].negation))


def rules_report(items: list[Item], max_unsupported: float = 0.05) -> str:
    results = grid(items)
    kinds = list(dict.fromkeys(i.kind for i in items))
    counts = {k: sum(i.kind == k for i in items) for k in kinds}
    head = "| rule | supported accepted | unsupported accepted | " + " | ".join(
        f"{k} ({counts[k]})" for k in kinds) + " |"
    lines = [f"{len(items)} sentences on {len({i.qid for i in items})} gold questions: "
             f"{sum(i.supported for i in items)} supported, {sum(not i.supported for i in items)} unsupported", "",
             head, "|" + "---|" * (3 + len(kinds))]

    def row(name, rule, m):
        return (f"| {name} | {m['supported']:.2f} | {m['unsupported']:.2f} | "
                + " | ".join(f"{m[k]:.2f}" for k in kinds) + " |")

    chosen, chosen_rates = choose(results, max_unsupported)
    shown = [("in use (answer/support.py RULE)", RULE), ("best with <= "
             f"{max_unsupported:.0%} unsupported accepted", chosen)]
    for s in SIMILARITIES:
        shown.append((f"similarity >= {s}, all checks", Rule(s, RULE.min_coverage)))
    for c in COVERAGES:
        shown.append((f"coverage >= {c}, all checks", Rule(RULE.min_similarity, c)))
    shown += [("without the number check", Rule(RULE.min_similarity, RULE.min_coverage, numbers=False)),
              ("without the negation check", Rule(RULE.min_similarity, RULE.min_coverage, negation=False)),
              ("similarity only", Rule(RULE.min_similarity, 0.0, numbers=False, negation=False)),
              ("coverage only", Rule(0.0, RULE.min_coverage, numbers=False, negation=False))]
    for name, rule in shown:
        desc = f"{name}: sim {rule.min_similarity}, cov {rule.min_coverage}" + \
            ("" if rule.numbers else ", no numbers") + ("" if rule.negation else ", no negation")
        lines.append(row(desc, rule, rates(items, rule)))
    lines += ["", "Two-fold check (thresholds chosen on one half of the questions, scored on the other):"]
    qids = sorted({i.qid for i in items})
    for fold in (0, 1):
        train = {q for n, q in enumerate(qids) if n % 2 == fold}
        rule, _ = choose(grid([i for i in items if i.qid in train]), max_unsupported)
        m = rates([i for i in items if i.qid not in train], rule)
        lines.append(f"  chosen on half {fold + 1}: sim {rule.min_similarity}, cov {rule.min_coverage}; on the "
                     f"other half: supported accepted {m['supported']:.2f}, unsupported accepted {m['unsupported']:.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ragcomm.eval.support", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rules", help="measure the support rule on hand-made sentences")
    r.add_argument("--gold", type=Path, default=home() / "eval" / "gold.jsonl")
    r.add_argument("--sentences", type=Path, default=home() / "eval" / "support.jsonl")
    r.add_argument("--max-unsupported", type=float, default=0.05,
                   help="largest share of unsupported sentences a rule may accept (default 0.05)")
    r.add_argument("--json", dest="json_out", type=Path, help="write every sentence's measurement as JSON")
    args = p.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    if args.command == "rules":
        items = support_items(Settings(), args.gold, args.sentences, log=log)
        print(rules_report(items, args.max_unsupported))
        if args.json_out:
            from dataclasses import asdict

            args.json_out.parent.mkdir(parents=True, exist_ok=True)
            args.json_out.write_text(json.dumps([{**asdict(i.support), "qid": i.qid, "kind": i.kind,
                                                  "expected": i.supported, "accepted": accepted(i, RULE),
                                                  "facts": asdict(i.facts) if i.facts else None} for i in items],
                                                indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
