"""When the answerer declines, the closest passages still help: each is shown with its best
sentences marked, in the answer's JSON as `sources[i].highlights` and in the page, and its
"Open" link lands on them. The best sentences are the candidates the answerer ranked
(answer/extractive.py); a passage with none (a list of names, a table) gets the lines that hold
most of the question's term weight."""
from __future__ import annotations

from ..backends import analyze
from ..chunking import sentence_spans

PER_PASSAGE = 2  # sentences marked in each closest passage


def marked_sentences(hits: list, ranked: list, per_passage: int = PER_PASSAGE, weights: dict | None = None,
                     analyzer: str = "english") -> dict:
    """chunk_id -> [(start, end)] offsets in the passage of its best sentences, in passage order,
    for each of `hits`: from `ranked` (candidate sentences, best first: anything with `hit`, `a`,
    `b` and `text`; one not verbatim at its offsets is skipped), else the sentences that hold most
    of `weights` (the question's terms -> IDF).

    >>> from types import SimpleNamespace as S
    >>> hit = S(chunk_id="c1", text="One thing. Two things here. Three.")
    >>> ranked = [S(hit=hit, a=11, b=27, text="Two things here."), S(hit=hit, a=0, b=10, text="One thing."),
    ...           S(hit=hit, a=28, b=34, text="Three.")]
    >>> marked_sentences([hit], ranked)
    {'c1': [(0, 10), (11, 27)]}
    >>> names = S(chunk_id="c2", text="Appendix B\\n\\nJohn James - Chief Executive, Brighton PCT\\n\\nSue Cornick - Head of Planning")
    >>> marked_sentences([names], [], weights={"chief": 2.0, "execut": 2.0})
    {'c2': [(12, 54)]}
    """
    wanted = {h.chunk_id: h for h in hits}
    marks: dict = {h.chunk_id: [] for h in hits}
    for c in ranked:
        hit = wanted.get(c.hit.chunk_id)
        if hit is None or len(marks[hit.chunk_id]) >= per_passage or hit.text[c.a:c.b] != c.text:
            continue
        if not any(a < c.b and c.a < b for a, b in marks[hit.chunk_id]):
            marks[hit.chunk_id].append((c.a, c.b))
    for hit in hits:
        if not marks[hit.chunk_id] and weights:
            scored = [(sum(w for t, w in weights.items() if t in set(analyze(hit.text[a:b], analyzer))), a, b)
                      for a, b in sentence_spans(hit.text)]
            marks[hit.chunk_id] = [(a, b) for score, a, b in sorted(scored, key=lambda s: (-s[0], s[1]))[:per_passage]
                                   if score > 0]
    return {chunk_id: sorted(spans) for chunk_id, spans in marks.items() if spans}
