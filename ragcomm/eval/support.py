"""Measuring the support check (answer/support.py) on the gold set.

    python -m ragcomm.eval.support rules      # the rule's thresholds against hand-made sentences
    python -m ragcomm.eval.support answers --local          # answer-level figures, extractive vs
    python -m ragcomm.eval.support answers --llm-url URL --llm-model NAME   # a language model's

`answers` is a stop-gap until `ragcomm eval --answers` (issue #13) takes a generator: it asks
every gold question with the extractive answerer and with the generator, and reports, side by
side, how often the answer cites the gold evidence (anywhere, and first), its length, how
often it abstains, and for the generator how many of its sentences passed the support check
and how often the extractive fallback was shown.

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
import re
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


# ---------------------------------------------------------------- answer-level figures

def answer_figures(answers: dict, gold, gold_rows: list[dict]) -> dict:
    """Figures over {qid: Answer} for the gold set (abstaining answers cite nothing)."""
    import statistics

    from ..answer.support import MARKER

    answerable = [r["id"] for r in gold_rows if r.get("answerable") and r["id"] in gold.spans]
    unanswerable = [r["id"] for r in gold_rows if not r.get("answerable")]

    def cites_evidence(citation, qid):
        doc_id, spans = gold.spans[qid]
        return citation.doc_id == doc_id and any(citation.start < e and citation.end > s for s, e in spans)

    answered = [q for q in answerable if not answers[q].abstained]
    out = {
        "answerable": len(answerable), "unanswerable": len(unanswerable),
        "answered": len(answered) / max(1, len(answerable)),
        "abstained_unanswerable": sum(answers[q].abstained for q in unanswerable) / max(1, len(unanswerable)),
        "evidence_cited": sum(any(cites_evidence(c, q) for c in answers[q].citations) for q in answerable)
        / max(1, len(answerable)),
        "evidence_first": sum(bool(answers[q].citations) and cites_evidence(answers[q].citations[0], q)
                              for q in answerable) / max(1, len(answerable)),
    }
    shown = [a for a in answers.values() if not a.abstained]
    words = [len(MARKER.sub(" ", a.text).split()) for a in shown]
    out["words"] = statistics.mean(words) if words else 0.0
    out["sentences"] = statistics.mean(len(a.citations) for a in shown) if shown else 0.0
    generated = [a.generated for a in answers.values() if a.generated is not None and not a.abstained]
    if generated:
        checked = [s for g in generated for s in g.sentences]
        reasons: dict = {}
        for s in checked:
            if not s.supported:
                key = re.sub(r"[:(].*", "", s.reason).strip()
                reasons[key] = reasons.get(key, 0) + 1
        out.update({
            "asked": len(generated),
            "generated_shown": sum(not g.fallback for g in generated) / len(generated),
            "fallback": sum(g.fallback for g in generated) / len(generated),
            "model_failed": sum(g.fallback and not g.sentences for g in generated),
            "sentences_checked": len(checked),
            "sentences_passed": sum(s.supported for s in checked) / max(1, len(checked)),
            "rejections": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            "seconds_median": statistics.median(g.seconds for g in generated),
        })
    return out


def answers_report(figures: dict) -> str:
    rows = [("answerable questions answered", "answered", "{:.2f}"),
            ("unanswerable questions abstained", "abstained_unanswerable", "{:.2f}"),
            ("gold evidence cited (answerable)", "evidence_cited", "{:.2f}"),
            ("gold evidence cited first", "evidence_first", "{:.2f}"),
            ("words per answer", "words", "{:.1f}"), ("cited sentences per answer", "sentences", "{:.1f}"),
            ("questions the model was asked", "asked", "{}"),
            ("generated answer shown (not the fallback)", "generated_shown", "{:.2f}"),
            ("extractive fallback shown", "fallback", "{:.2f}"),
            ("... of which the model failed (down, slow)", "model_failed", "{}"),
            ("generated sentences checked", "sentences_checked", "{}"),
            ("generated sentences that passed the check", "sentences_passed", "{:.2f}"),
            ("median seconds per generated answer", "seconds_median", "{:.1f}")]
    names = list(figures)
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, key, fmt in rows:
        cells = [fmt.format(figures[n][key]) if key in figures[n] else "" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for n in names:
        if figures[n].get("rejections"):
            lines.append(f"\nWhy {n} sentences were rejected: "
                         + ", ".join(f"{k} ({v})" for k, v in figures[n]["rejections"].items()))
    return "\n".join(lines)


def run_answers(args, log) -> int:
    from ..answer import Answerer
    from ..answer.generate import LLMConfig
    from ..answer.generators import get_generator
    from ..index import open_index
    from ..ingest import load_corpus
    from ..search import Retriever

    settings = Settings()
    rows = load_gold(args.gold)[::args.every][:args.limit or None]
    index = open_index(settings, log=log)
    answerer = Answerer(Retriever(index, settings=settings))
    docs, _ = load_corpus(settings.corpus_dir)
    gold = gold_set(rows, docs)
    server = None
    if args.local:
        from ..answer.llamacpp import LocalServer

        server = LocalServer(threads=args.threads, log=sys.stderr if args.verbose else None, timeout=300).start()
        args.llm_url, args.llm_model = server.url, server.model
    try:
        generators = {"extractive": get_generator("extractive", answerer)}
        if args.llm_url:
            config = LLMConfig(args.llm_url, args.llm_model, timeout=args.llm_timeout, max_tokens=args.max_tokens)
            generators[f"generated ({args.llm_model})"] = get_generator("openai", answerer, config)
        figures, saved = {}, {}
        for name, generator in generators.items():
            answers = {}
            for n, row in enumerate(rows, start=1):
                answers[row["id"]] = generator.ask(row["question"], k=args.k)
                if name != "extractive":
                    g = answers[row["id"]].generated
                    log(f"[{n}/{len(rows)}] {row['id']}: " + ("abstained" if answers[row["id"]].abstained else
                        f"{g.kept}/{len(g.sentences)} sentences supported" + (f", fallback ({g.reason})"
                                                                               if g.fallback else "")))
            figures[name] = answer_figures(answers, gold, rows)
            saved[name] = {q: a.to_dict() for q, a in answers.items()}
    finally:
        if server is not None:
            server.stop()
    print(answers_report(figures))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"figures": figures, "answers": saved}, indent=1, default=str))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ragcomm.eval.support", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rules", help="measure the support rule on hand-made sentences")
    r.add_argument("--gold", type=Path, default=home() / "eval" / "gold.jsonl")
    r.add_argument("--sentences", type=Path, default=home() / "eval" / "support.jsonl")
    r.add_argument("--max-unsupported", type=float, default=0.05,
                   help="largest share of unsupported sentences a rule may accept (default 0.05)")
    r.add_argument("--json", dest="json_out", type=Path, help="write every sentence's measurement as JSON")
    a = sub.add_parser("answers", help="answer-level figures on the gold set, extractive vs a language model")
    a.add_argument("--gold", type=Path, default=home() / "eval" / "gold.jsonl")
    a.add_argument("--local", action="store_true", help="start the bundled SmolLM2-135M server (answer/llamacpp.py)")
    a.add_argument("--threads", type=int, default=1, help="threads of the local server (default 1)")
    a.add_argument("--llm-url", help="an OpenAI-compatible endpoint (key: RAGCOMM_LLM_API_KEY)")
    a.add_argument("--llm-model", help="its model name")
    a.add_argument("--llm-timeout", type=float, default=300.0, help="seconds per answer (default 300)")
    a.add_argument("--max-tokens", type=int, default=300)
    a.add_argument("-k", type=int, default=5, help="passages per question (default 5)")
    a.add_argument("--every", type=int, default=1, help="only every N-th gold question (default 1: all)")
    a.add_argument("--limit", type=int, help="only the first N of those")
    a.add_argument("--verbose", action="store_true", help="show the local server's log")
    a.add_argument("--json", dest="json_out", type=Path, help="write the figures and every answer as JSON")
    args = p.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    if args.command == "answers":
        if bool(args.llm_url) != bool(args.llm_model) or (args.local and args.llm_url):
            p.error("give --local, or --llm-url with --llm-model (or neither, for the extractive figures only)")
        return run_answers(args, log)
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
