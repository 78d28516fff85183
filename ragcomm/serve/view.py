"""Answers as a commissioner reads them: one numbered reference per source document (with
all its cited sentences), links to the original at the cited place, and the conversation as
HTML, plain text or Markdown. Works on the JSON of `Answer.to_dict()` (extra fields are
ignored), so stored conversations render the same after a restart. No Gradio here.

A turn is {"question", "answer": Answer.to_dict(), "titles": {doc_id: title}, "filters": str,
"note": str, "asked": ISO time}; a conversation is {"id", "title", "updated", "turns": [...]}.
"""
from __future__ import annotations

import html
import re
from urllib.parse import quote

from ..answer.generate import fallback_note

MARKER = re.compile(r"\[(\d+)\]")


# ---------------------------------------------------------------- references

def references(answer: dict, titles: dict | None = None) -> tuple[list[dict], dict]:
    """One reference per source document, numbered in order of first citation, and
    {passage marker: reference number}. Each reference: n, doc_id, title, source, record,
    metadata, quotes [{marker, sentence, start, end, page}], passages [source hits], cited."""
    titles = titles or {}
    refs: dict[str, dict] = {}
    numbers: dict[int, int] = {}
    sources = {s.get("marker"): s for s in answer.get("sources", []) if s.get("marker") is not None}
    for c in answer.get("citations", []):
        hit = sources.get(c["marker"], {})
        ref = refs.get(c["doc_id"])
        if ref is None:
            ref = refs[c["doc_id"]] = new_reference(len(refs) + 1, hit or c, titles, cited=True)
        numbers[c["marker"]] = ref["n"]
        if hit and hit not in ref["passages"]:
            ref["passages"].append(hit)
        if any((q["start"], q["end"]) == (c["start"], c["end"]) for q in ref["quotes"]):
            continue  # the same sentence cited again: quoted once
        ref["quotes"].append({"marker": c["marker"], "sentence": c["sentence"], "start": c["start"],
                              "end": c["end"], "page": c.get("page") or (hit or {}).get("page_start")})
    if not refs:  # an abstention: the closest passages, one reference per document too
        for hit in answer.get("sources", []):
            ref = refs.get(hit["doc_id"])
            if ref is None:
                ref = refs[hit["doc_id"]] = new_reference(len(refs) + 1, hit, titles, cited=False)
            ref["passages"].append(hit)
            ref["quotes"].extend(marked_quotes(hit))
    return list(refs.values()), numbers


def marked_quotes(hit: dict) -> list[dict]:
    """The sentences marked in a closest passage (its `highlights`), as quotes with document offsets.

    >>> marked_quotes({"text": "Not this. But this one.", "start": 100, "highlights": [[10, 23]], "page_start": 4,
    ...                "page_end": 4})
    [{'marker': None, 'sentence': 'But this one.', 'start': 110, 'end': 123, 'page': 4}]
    """
    page = hit.get("page_start") if hit.get("page_end") in (None, hit.get("page_start")) else None
    return [{"marker": None, "sentence": hit["text"][a:b], "start": hit["start"] + a, "end": hit["start"] + b,
             "page": page} for a, b in hit.get("highlights") or [] if 0 <= a < b <= len(hit.get("text", ""))]


def new_reference(n: int, hit: dict, titles: dict, cited: bool) -> dict:
    meta = hit.get("metadata") or {}
    return {"n": n, "doc_id": hit["doc_id"], "title": titles.get(hit["doc_id"]) or hit.get("title") or hit["doc_id"],
            "source": hit.get("source", ""), "metadata": meta, "record": record_line(meta), "quotes": [],
            "passages": [], "cited": cited}


def record_line(meta: dict) -> str:
    """Kind, journal, year and identifiers, in words.

    >>> record_line({"kind": "abstract", "journal": "BMJ Open", "year": 2014, "pmid": "25320000"})
    'Abstract · BMJ Open · 2014 · PMID 25320000'
    """
    kind = meta.get("kind")
    parts = [kind[:1].upper() + kind[1:] if kind else None, meta.get("journal"),
             str(meta["year"]) if meta.get("year") else None,
             f"PMID {meta['pmid']}" if meta.get("pmid") else None, f"doi:{meta['doi']}" if meta.get("doi") else None]
    return " · ".join(p for p in parts if p)


def links(ref: dict) -> list[tuple[str, str]]:
    """(label, url) to open the original at the cited place: the text at the cited sentences,
    the PDF at its page, the file, and the DOI and PubMed records.

    >>> [label for label, _ in links({"doc_id": "a/pmid-1", "source": "a.txt", "metadata": {"pmid": "1"},
    ...     "quotes": [{"start": 5, "end": 9, "page": None}]})]
    ['Open at the cited sentence', 'PubMed record']
    """
    out = []
    doc = quote(ref["doc_id"], safe="/")
    cites = "&".join(f"cite={q['start']}-{q['end']}" for q in ref["quotes"])
    label = ("Open the document" if not ref["quotes"] else "Open at the cited sentence" if ref.get("cited", True)
             else "Open at the marked sentences")
    out.append((label, f"view/{doc}" + (f"?{cites}" if cites else "")))
    source = ref.get("source") or ""
    if source.lower().endswith(".pdf"):
        pages = [q["page"] for q in ref["quotes"] if q.get("page")] or \
                [p.get("page_start") for p in ref.get("passages", []) if p.get("page_start")]
        url = f"files/{quote(source)}"
        out.append((f"PDF at page {pages[0]}", f"{url}#page={pages[0]}") if pages else ("PDF", url))
    elif source and not source.lower().endswith((".txt", ".md")) and "/" not in ref["doc_id"]:
        out.append(("Original file", f"files/{quote(source)}"))
    meta = ref.get("metadata") or {}
    if meta.get("doi"):
        out.append(("DOI", f"https://doi.org/{quote(meta['doi'], safe='/:;()')}"))
    if meta.get("pmid"):
        out.append(("PubMed record", f"https://pubmed.ncbi.nlm.nih.gov/{quote(str(meta['pmid']))}/"))
    return out


def segments(answer: dict) -> list[tuple[str, int | None]]:
    """The answer text as (text, passage marker or None) pieces. Extractive answers are rebuilt
    from their citations (a quoted sentence may itself contain '[3]'); other text is split at
    the markers of its citations."""
    g = answer.get("generated")
    if g and not g.get("fallback"):  # a generated answer: its supported sentences, each with its evidence
        return [(s["sentence"], s["marker"]) for s in g.get("sentences", []) if s.get("supported")]
    text = answer.get("answer", "")
    cites = answer.get("citations", [])
    pieces, at = [], 0
    for c in cites:
        tail = f" [{c['marker']}]"
        if text.startswith(c["sentence"] + tail, at):
            pieces.append((c["sentence"], c["marker"]))
            at += len(c["sentence"]) + len(tail)
            if text.startswith(" ", at):
                at += 1
        else:
            break
    else:
        if at >= len(text.rstrip()):
            return pieces
    known = {c["marker"] for c in cites}
    pieces, at = [], 0
    for m in MARKER.finditer(text):
        if int(m.group(1)) in known:
            pieces.append((text[at:m.start()].rstrip(), int(m.group(1))))
            at = m.end()
    if text[at:].strip():
        pieces.append((text[at:].strip(), None))
    return pieces


# ---------------------------------------------------------------- plain text and Markdown

def answer_text(answer: dict, numbers: dict) -> str:
    """The answer with reference numbers ([n] per document) instead of passage markers."""
    return " ".join(f"{text} [{numbers[m]}]" if m is not None else text for text, m in segments(answer)).strip()


def reference_line(ref: dict, record: str | None = None) -> str:
    """Title, record, file and pages, each a sentence (`record`: the record as the caller
    writes it, e.g. with links).

    >>> reference_line({"title": "What makes a good manager?", "record": "Abstract · 2012", "source": "a.txt",
    ...                 "quotes": [{"page": 4}]})
    'What makes a good manager? Abstract · 2012. a.txt. p. 4.'
    """
    pages = sorted({q["page"] for q in ref["quotes"] if q.get("page")})
    return sentences([ref["title"], ref["record"] if record is None else record, ref["source"],
                      "p. " + ", ".join(map(str, pages)) if pages else ""])


def sentences(parts: list[str]) -> str:
    """Parts joined as sentences: a full stop after each, unless it already ends in one (a
    title that asks a question, a headline cut with an ellipsis).

    >>> sentences(["Who pays?", "GPs said…", "BMJ Open", "", "p. 3"])
    'Who pays? GPs said… BMJ Open. p. 3.'
    """
    out = []
    for part in (" ".join(str(p).split()) for p in parts if p):
        out.append(part if part.endswith((".", "?", "!", "…")) else part + ".")
    return " ".join(out)


def plain_text(turn: dict) -> str:
    """One answer with its numbered references, as plain text (the Copy button)."""
    refs, numbers = references(turn["answer"], turn.get("titles"))
    caution = turn["answer"].get("caution") if not turn["answer"].get("abstained") else ""
    lines = ([f"Check the sources: {caution}", ""] if caution else []) + [answer_text(turn["answer"], numbers), ""]
    for ref in refs:
        label = f"[{ref['n']}]" if ref["cited"] else f"(closest {ref['n']})"
        lines.append(f"{label} {reference_line(ref)}")
        for q in ref["quotes"]:
            lines.append(f'    "{q["sentence"]}"')
    return "\n".join(lines).strip()


# ---------------------------------------------------------------- HTML

def e(value) -> str:
    return html.escape(str(value), quote=True)


def ordinal(n: int) -> str:
    """1 -> '1st', 12 -> '12th'.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 22)]
    ['1st', '2nd', '3rd', '4th', '11th', '22nd']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def highlighted(text: str, spans: list, anchors: bool = False) -> str:
    """`text` escaped, each span (start, end) in a <mark>, overlapping ones skipped; with
    `anchors`, the span given n-th is `id="cited-n"` and can take the focus: cited-1 is the
    first cited (the sentence the answer quotes first), wherever it lies in the text.

    >>> highlighted("A b. C d.", [(5, 9), (0, 4)], anchors=True)
    '<mark id="cited-2" tabindex=-1>A b.</mark> <mark id="cited-1" tabindex=-1>C d.</mark>'
    """
    out, at = [], 0
    given = {s: n for n, s in enumerate(dict.fromkeys(tuple(s) for s in spans), start=1)}
    for a, b in sorted(given):
        if a < at:
            continue
        anchor = f' id="cited-{given[(a, b)]}" tabindex=-1' if anchors else ""
        out.append(e(text[at:a]))
        out.append(f"<mark{anchor}>{e(text[a:b])}</mark>")
        at = b
    out.append(e(text[at:]))
    return "".join(out)


def why_html(hit: dict, passage: bool = True) -> str:
    """Retrieval evidence in words: each method's rank and score for this passage (and the
    passage itself, unless the card shows it already)."""
    rows = []
    if hit.get("bm25_rank") is not None:
        rows.append(f"Exact words (BM25): {ordinal(hit['bm25_rank'])}, score {hit['bm25_score']:.2f}")
    if hit.get("dense_rank") is not None:
        rows.append(f"Meaning (embeddings): {ordinal(hit['dense_rank'])}, similarity {hit['dense_score']:.3f}")
    if hit.get("rank") is not None:
        rows.append(f"Overall: {ordinal(hit['rank'])} of the passages retrieved")
    where = hit.get("section") if hit.get("section") and hit.get("section") != hit.get("title") else ""
    pages = (f" · page {hit['page_start']}" + (f"-{hit['page_end']}" if hit.get("page_end") not in
                                                (None, hit["page_start"]) else "")) if hit.get("page_start") else ""
    text = f'<p class="rc-passage">{highlighted(hit.get("text", ""), hit.get("highlights") or [])}</p>' if passage else ""
    return (f'<div class="rc-passage-head">{e(where or "Passage")} · characters {hit["start"]}-{hit["end"]}{pages}</div>'
            f'{text}<ul class="rc-evidence">{"".join(f"<li>{e(r)}</li>" for r in rows)}</ul>')


def card_html(ref: dict, turn: int) -> str:
    n = ref["n"]
    ident = f"card-{turn}-{n}"
    label = f"[{n}]" if ref["cited"] else f"Closest {n}"
    quotes = "".join(
        f'<blockquote class="rc-quote">{e(q["sentence"])}'
        + (f' <span class="rc-page">(page {q["page"]})</span>' if q.get("page") else "") + "</blockquote>"
        for q in ref["quotes"])
    if not ref["cited"]:  # a declined answer: the closest passages themselves, their best sentences marked (#24)
        quotes = ('<p class="rc-note">Not cited: the closest passage found, its sentences nearest the question '
                  'marked for you to check.</p>' + "".join(
                      f'<p class="rc-passage rc-closest">{highlighted(p.get("text", ""), p.get("highlights") or [])}'
                      '</p>' for p in ref["passages"]))
    link_html = " ".join(
        f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer">{e(label_)}'
        f'<span class="rc-sr"> ({e(ref["title"][:60])})</span></a>' for label_, url in links(ref))
    why = "".join(why_html(p, passage=ref["cited"]) for p in ref["passages"])
    return (f'<article class="rc-card" id="{ident}" data-turn="{turn}" data-ref="{n}" tabindex="-1" '
            f'aria-labelledby="{ident}-title">'
            f'<h4 id="{ident}-title"><span class="rc-marker">{e(label)}</span> {e(ref["title"])}</h4>'
            + (f'<p class="rc-meta">{e(ref["record"])}</p>' if ref["record"] else "")
            + f'{quotes}<p class="rc-links">{link_html}</p>'
            f'<details class="rc-why"><summary>Why this source</summary>{why}</details></article>')


def more_html(answer: dict, titles: dict | None = None) -> str:
    """"More from the sources": the further sentences a short answer left out (Answer.more),
    one click away, each with its document."""
    more = answer.get("more") if isinstance(answer.get("more"), dict) else {}
    citations = more.get("citations") or []
    if answer.get("abstained") or not citations:
        return ""
    hits = {h.get("marker"): h for h in answer.get("sources", []) + (more.get("sources") or [])}
    items = "".join(
        f'<li><q>{e(c["sentence"])}</q> <span class="rc-more-source">— '
        f'{e((titles or {}).get(c["doc_id"]) or hits.get(c["marker"], {}).get("title") or c["doc_id"])}</span></li>'
        for c in citations)
    return (f'<details class="rc-more"><summary>More from the sources ({len(citations)})</summary>'
            f'<ul>{items}</ul></details>')


def searched_as(answer: dict, question: str) -> str:
    """What was searched instead of the question as typed: a follow-up made standalone, slips corrected.

    >>> searched_as({"query": "what is practice", "corrected": [{"from": "wat", "to": "what"}]}, "wat is practice")
    'Searched as: what is practice (spelling corrected: wat → what)'
    """
    fixes = ", ".join(f"{c['from']} → {c['to']}" for c in answer.get("corrected") or [])
    follow_up = len(answer["query"].split()) > len(question.split())
    return (f"{'Follow-up searched' if follow_up else 'Searched'} as: {answer['query']}"
            + (f" (spelling corrected: {fixes})" if fixes else ""))


def turn_html(turn: dict, number: int, active: bool) -> str:
    """One question and its answer, each [n] a button that opens the source card."""
    answer = turn["answer"]
    refs, numbers = references(answer, turn.get("titles"))
    titles = {r["n"]: r["title"] for r in refs}
    parts = []
    for text, marker in segments(answer):
        parts.append(e(text))
        if marker is not None:
            n = numbers[marker]
            parts.append(f' <button type="button" class="rc-cite" data-turn="{number}" data-ref="{n}" '
                         f'aria-controls="card-{number}-{n}" aria-label="Source {n}: {e(titles[n][:100])}">'
                         f'[{n}]</button>')
    body = " ".join(parts) if not answer.get("abstained") else e(answer.get("answer", ""))
    if answer.get("caution") and not answer.get("abstained"):  # weak evidence: answered, with a caution (#24)
        body = caution_html(answer["caution"]) + body
    g = answer.get("generated")
    answer_note = answer.get("note") or ""
    if g:  # how the language model's answer was checked, and the fallback said first (#17)
        body = generated_head(g) + body
        answer_note = answer_note.removeprefix(fallback_note(g.get("reason", ""))).strip()
    notes = []
    if answer.get("query") and answer["query"] != turn["question"]:
        notes.append(searched_as(answer, turn["question"]))
    for note in (answer_note, turn.get("note"), turn.get("filters")):
        if note:
            notes.append(note)
    meta = "".join(f'<p class="rc-turn-note">{e(n)}</p>' for n in notes) + (check_html(g) if g else "")
    count = len([r for r in refs if r["cited"]])
    show = (f"Show its {count} source{'s' if count != 1 else ''}" if count else "Show the closest passages")
    return (f'<article class="rc-turn{" rc-active" if active else ""}" id="turn-{number}" data-turn="{number}" '
            f'aria-labelledby="turn-{number}-q">'
            f'<h2 class="rc-q" id="turn-{number}-q"><span class="rc-sr">Question {number}: </span>{e(turn["question"])}</h2>'
            f'<div class="rc-answer{" rc-abstain" if answer.get("abstained") else ""}">{body}</div>'
            f'{more_html(answer, turn.get("titles"))}{meta}'
            f'<div class="rc-actions"><button type="button" class="rc-show" data-turn="{number}" '
            f'aria-pressed="{"true" if active else "false"}">{e(show)}</button>'
            f'<button type="button" class="rc-copy" data-turn="{number}" data-copy="{e(plain_text(turn))}">'
            f'Copy answer</button><span class="rc-copied" role="status" aria-live="polite"></span></div></article>')


def caution_html(caution: str) -> str:
    """The caution above an answer whose evidence is weak.

    >>> caution_html("The closest passages may not answer this: check them.")
    '<p class="rc-caution" role="note"><strong>Check the sources:</strong> The closest passages may not answer this: check them.</p>'
    """
    return f'<p class="rc-caution" role="note"><strong>Check the sources:</strong> {e(caution)}</p>'


# ---------------------------------------------------------------- generated answers (#17)

def generated_head(g: dict) -> str:
    """Above a generated answer: who wrote it and how it was checked; or, when the extractive
    answer is shown instead, that and why."""
    n, kept = len(g.get("sentences", [])), sum(bool(s.get("supported")) for s in g.get("sentences", []))
    if g.get("fallback"):
        return (f'<p class="rc-fallback" role="note"><strong>The language model\'s answer was not used:</strong> '
                f'{e(g.get("reason", ""))}. This is the extractive answer, quoted word for word from the '
                f'documents.</p>')
    dropped = n - kept
    return (f'<p class="rc-generated-label" role="note">Written by a language model ({e(g.get("model", ""))}). '
            f'Each sentence was checked against the passage it cites: {kept} of {n} supported'
            + (f"; {dropped} not supported and left out" if dropped else "") + ".</p>")


def support_line(s: dict) -> str:
    """One generated sentence's verdict, in words.

    >>> support_line({"supported": True, "similarity": 0.912, "coverage": 1.0, "reason": ""})
    'supported: similarity 0.91 with its source sentence, 100% of its words in the cited passage'
    >>> support_line({"supported": False, "reason": "cites no passage"})
    'not supported, left out: cites no passage'
    """
    if s.get("supported"):
        return (f"supported: similarity {s.get('similarity', 0):.2f} with its source sentence, "
                f"{s.get('coverage', 0):.0%} of its words in the cited passage")
    return f"not supported, left out: {s.get('reason') or 'no cited passage says it'}"


def check_html(g: dict) -> str:
    """Every sentence the model wrote, marked supported (with the passage sentence that supports
    it) or not (and why)."""
    sentences = g.get("sentences", [])
    if not sentences:
        return ""
    kept = sum(bool(s.get("supported")) for s in sentences)
    items = []
    for s in sentences:
        ok = bool(s.get("supported"))
        markers = s.get("markers") or []
        cited = (f"cites passage{'s' if len(markers) > 1 else ''} {''.join(f'[{m}]' for m in markers)}" if markers
                 else "cites no passage")
        evidence = (f'<blockquote class="rc-quote">{e(s["evidence"])}</blockquote>' if ok and s.get("evidence")
                    else "")
        items.append(f'<li class="{"rc-supported" if ok else "rc-unsupported"}"><span class="rc-verdict">'
                     f'{"✓" if ok else "✗"}</span> <q>{e(s.get("sentence", ""))}</q> <small>({e(cited)})</small><br><small class="rc-why-line">{e(support_line(s))}</small>{evidence}</li>')
    return (f'<details class="rc-check"><summary>How each sentence the '
            f'language model wrote was checked ({kept} of {len(sentences)} supported)</summary>'
            f'<ol>{"".join(items)}</ol></details>')


def draft_html(text: str, checked: list[dict], model: str = "") -> str:
    """A generated answer as it is written: the words so far and each finished sentence's verdict."""
    marks = "".join(f'<li class="{"rc-supported" if s.get("supported") else "rc-unsupported"}">'
                    f'<span class="rc-verdict">{"✓" if s.get("supported") else "✗"}</span> '
                    f'<q>{e(s.get("sentence", ""))}</q> <small>{e(support_line(s))}</small></li>' for s in checked)
    return (f'<div class="rc-draft" aria-busy="true"><p class="rc-busy" role="status"><span class="rc-spinner" '
            f'aria-hidden="true"></span>The language model{f" ({e(model)})" if model else ""} is writing; each '
            f'sentence is checked against its source as it is finished…</p>'
            f'<p class="rc-draft-text">{e(text)}</p>' + (f'<ol class="rc-draft-checks">{marks}</ol>' if marks else "")
            + "</div>")


EMPTY_CONVERSATION = ('<div class="rc-empty"><p>Ask a question about the documents, or pick an example. '
                      'Each answer quotes the documents word for word; click a number like [1] to see where '
                      'it comes from.</p></div>')
EMPTY_SOURCES = '<p class="rc-empty">The sources of an answer appear here: click a number like [1] in an answer.</p>'


def conversation_html(conversation: dict | None) -> str:
    turns = (conversation or {}).get("turns") or []
    if not turns:
        return EMPTY_CONVERSATION
    last = len(turns)
    return '<div class="rc-conversation">' + "".join(
        turn_html(t, i, i == last) for i, t in enumerate(turns, start=1)) + "</div>"


def sources_html(conversation: dict | None) -> str:
    """The source cards of every turn; only the active (latest) turn's are shown until
    another answer is chosen in the page."""
    turns = (conversation or {}).get("turns") or []
    if not turns:
        return EMPTY_SOURCES
    out = []
    for i, turn in enumerate(turns, start=1):
        refs, _ = references(turn["answer"], turn.get("titles"))
        heading = ("Sources of answer" if any(r["cited"] for r in refs) else "Closest passages for question")
        out.append(f'<section class="rc-sources" data-turn="{i}"{"" if i == len(turns) else " hidden"} '
                   f'aria-labelledby="sources-{i}"><h3 id="sources-{i}" class="rc-sources-head">{heading} {i}: '
                   f'<span>{e(shorten(turn["question"], 90))}</span></h3>'
                   + "".join(card_html(r, i) for r in refs) + "</section>")
    return "".join(out)


def shorten(text: str, n: int) -> str:
    """At most n characters, cut at a word, with an ellipsis.

    >>> shorten("What makes a good commissioning manager?", 20)
    'What makes a good…'
    """
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
