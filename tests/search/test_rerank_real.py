"""`search --rerank N` with the shipped reader over the real index (search/rerank.py): the top N
fused passages are reordered by their min-max fused score + weight x the reader's probability
that one of their sentences answers; the rest follow, in their order."""
import json

import pytest

from ragcomm.answer.reading import sigmoid
from ragcomm.cli import main

QUESTION = "What added value do GPs bring to commissioning?"


def search(real_index, capsys, *args) -> list[dict]:
    assert main(["search", QUESTION, "--json", "--index", str(real_index.index_dir),
                 "--corpus", str(real_index.corpus_dir), *args]) == 0
    return json.loads(capsys.readouterr().out)["results"]


def test_rerank_reorders_the_top_passages_by_what_the_reader_reads(real_index, capsys):
    plain = search(real_index, capsys, "-k", "20")
    reranked = search(real_index, capsys, "-k", "20", "--rerank", "20", "--rerank-weight", "0.5")
    assert {h["chunk_id"] for h in reranked} == {h["chunk_id"] for h in plain}  # the same 20, reordered
    assert all(isinstance(h["reader"], float) for h in reranked)
    assert [h["rank"] for h in reranked] == list(range(1, 21))
    scores = [h["score"] for h in reranked]
    assert scores == sorted(scores, reverse=True)
    # each score is its passage's fused score, min-max over the 20, + 0.5 x the reader's probability
    fused = {h["chunk_id"]: h["score"] for h in plain}
    lo, hi = min(fused.values()), max(fused.values())
    for h in reranked:
        expected = (fused[h["chunk_id"]] - lo) / (hi - lo) + 0.5 * sigmoid(h["reader"])
        assert h["score"] == pytest.approx(expected, abs=1e-3)
    # the reader changes the order here: a passage whose sentence reads as the answer moves up
    assert [h["chunk_id"] for h in reranked] != [h["chunk_id"] for h in plain]
    assert reranked[0]["reader"] > 0


def test_a_heavy_weight_orders_by_the_reader_and_the_rest_keep_their_order(real_index, capsys):
    plain = search(real_index, capsys, "-k", "12")
    heavy = search(real_index, capsys, "-k", "12", "--rerank", "6", "--rerank-weight", "1000")
    logits = [h["reader"] for h in heavy[:6]]
    assert logits == sorted(logits, reverse=True)
    assert {h["chunk_id"] for h in heavy[:6]} == {h["chunk_id"] for h in plain[:6]}
    assert [h["chunk_id"] for h in heavy[6:]] == [h["chunk_id"] for h in plain[6:]]
