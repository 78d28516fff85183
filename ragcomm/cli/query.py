"""`ragcomm search` and `ask`: passages and answers on the terminal or as JSON."""
from __future__ import annotations

import textwrap

from .common import UsageError, filters_from, llm_config, open_retriever, questions_from, run_batch


def cmd_search(args) -> int:
    queries = questions_from(args)
    retriever = open_retriever(args)
    filters = filters_from(args)
    return run_batch(args, queries, lambda q: (retriever.correct(q), retriever.search(q, k=args.k, mode=args.mode,
                                                                                       filters=filters)),
                     lambda q, found: {"question": q, **found[0].to_dict(), "results": [h.to_dict() for h in found[1]]},
                     lambda found: print_hits(found[1], found[0]), {"results": []})


def evidence(h) -> list[str]:
    """Each retriever's rank and score for a hit, where it found it."""
    parts = []
    if h.bm25_rank is not None:
        parts.append(f"BM25 #{h.bm25_rank} ({h.bm25_score:.2f})")
    if h.dense_rank is not None:
        parts.append(f"dense #{h.dense_rank} ({h.dense_score:.3f})")
    return parts


def pages_label(h) -> str:
    """' p. 4' or ' pp. 4-5' for a passage of a paged file, else ''."""
    if h.page_start is None:
        return ""
    return f" p. {h.page_start}" if h.page_end in (None, h.page_start) else f" pp. {h.page_start}-{h.page_end}"


def print_hits(hits, correction=None) -> None:
    if correction is not None and correction.changes:
        print(f"Searched as: {correction.query} (spelling corrected: "
              + ", ".join(f"{a} -> {b}" for a, b in correction.changes) + ")\n")
    if not hits:
        print("no passages found")
    for h in hits:
        place = f"{h.title}" + (f" — {h.section}" if h.section else "")
        print(f"{h.rank}. {place}")
        print(f"   {h.doc_id} [{h.start}:{h.end}]{pages_label(h)} · " + " · ".join([f"score {h.score:.4f}", *evidence(h)]))
        print(textwrap.fill(" ".join(h.text.split()), width=100, initial_indent="   ", subsequent_indent="   "))
        print()


def cmd_ask(args) -> int:
    if args.history and args.queries:
        raise UsageError("--history goes with a single question, not --queries")
    queries = questions_from(args)
    llm = llm_config(args)
    if args.stream and (args.json or args.queries or llm is None):
        raise UsageError("--stream goes with --generator openai, a single question and no --json")
    from ..answer import Answerer
    from ..answer.generators import get_generator

    answerer = Answerer(open_retriever(args), threshold=args.threshold, reader=args.reader)
    generator = get_generator(args.generator, answerer, llm)
    filters = filters_from(args)
    options = dict(k=args.k, mode=args.mode, fusion=args.fusion, filters=filters, history=args.history)
    if args.stream:
        return stream_answer(generator.stream(queries[0]["question"], **options))
    return run_batch(args, queries, lambda q: generator.ask(q, **options),
                     lambda q, answer: {**answer.to_dict(), "index": answerer.retriever.index.info},
                     lambda answer: print_answer(answer, more=args.more), {})


def stream_answer(events) -> int:
    """The model's words as they come, then the checked answer."""
    from ..answer.generate import Checked, Token

    for event in events:
        if isinstance(event, Token):
            print(event.text, end="", flush=True)
        elif isinstance(event, Checked):
            continue
        else:
            print("\n" + "-" * 40)
            print_answer(event)
    return 0


def print_answer(answer, more: bool = False) -> None:
    print(f"Question: {answer.question}")
    if answer.query != answer.question:
        print(f"Searched: {answer.query}")
    if answer.corrected:
        print("Spelling corrected: " + ", ".join(f"{a} -> {b}" for a, b in answer.corrected))
    print()
    print(textwrap.fill(answer.text, width=100))
    if answer.note:
        print(answer.note)
    if answer.generated is not None:
        print_generation(answer.generated)
    if more and answer.more:
        print("\nMore from the sources:")
        print(textwrap.fill(" ".join(f"{c.sentence} [{c.marker}]" for c in answer.more), width=100))
    score = f"answerability {answer.confidence:.2f}" if answer.confidence is not None else \
        f"best dense score {answer.evidence:.3f}"
    print(f"\n{'Closest passages' if answer.abstained else 'Sources'} ({score}, threshold {answer.threshold:.2f}"
          + (f"; decided by {answer.decided_by}" if answer.decided_by else "") + "):")
    markers = {**answer.markers(), **({c.chunk_id: c.marker for c in answer.more} if more else {})}
    for n, h in enumerate(answer.sources + (answer.more_sources if more else []), start=1):
        record = h.record_line(", ")
        label = f"[{markers[h.chunk_id]}]" if h.chunk_id in markers else f"({n})"
        print(f"{label} {h.title}" + (f" — {h.section}" if h.section and h.section != h.title else ""))
        if record:
            print(f"    {record}")
        print(f"    {h.source} [{h.start}:{h.end}]{pages_label(h)} · " + " · ".join([f"fused #{h.rank}", *evidence(h)]))
        cited = [c for c in answer.citations + (answer.more if more else []) if c.chunk_id == h.chunk_id]
        for c in cited:
            where = f"p. {c.page} " if c.page is not None else ""
            print(textwrap.fill(" ".join(c.sentence.split()), width=100, initial_indent=f"    > {where}[{c.start}:{c.end}] ",
                                subsequent_indent="      "))
        if not cited:
            print(textwrap.fill(" ".join(h.text.split()), width=100, initial_indent="    ", subsequent_indent="    "))


def print_generation(g) -> None:
    """How the language model's sentences fared in the support check."""
    if not g.sentences:
        print(f"\nLanguage model {g.model}: not used ({g.reason})")
        return
    print(f"\nGenerated by {g.model} in {g.seconds:.1f} s: {g.kept} of {len(g.sentences)} sentences supported"
          + (f"; fallback: {g.reason}" if g.fallback else ""))
    for s in g.sentences:
        markers = "".join(f"[{n}]" for n in s.markers) or "(no marker)"
        verdict = (f"supported by [{s.marker}] (similarity {s.similarity:.2f}, words {s.coverage:.0%})" if s.supported
                   else f"REJECTED: {s.reason}")
        print(textwrap.fill(f"{s.sentence} {markers}", width=100, initial_indent="  ", subsequent_indent="    "))
        print(f"    -> {verdict}")
