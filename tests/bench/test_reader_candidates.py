"""bench/reader_candidates.py (eval/README.md, fourteenth round): every candidate of an answer
with the answerer's score and the reader's logit, the ones the reader reads marked."""
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_lists_the_candidates_in_score_order_with_their_logits(real_index, capsys):
    spec = importlib.util.spec_from_file_location("reader_candidates", ROOT / "bench" / "reader_candidates.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from ragcomm.answer.choice import Selection

    question = "What added value do GPs bring?"
    assert bench.main(["--index", str(real_index.index_dir), "--top", "8", question]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 8 and [int(r[0][2:]) for r in rows] == list(range(1, 9))
    scores = [float(r[1]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(re.fullmatch(r"[+-]\d+\.\d\d", r[2]) for r in rows) and len({r[2] for r in rows}) > 1
    assert [r[3] for r in rows] == ["yes"] * Selection().read + [""] * (8 - Selection().read)
    assert any("Claims to GP 'added value' centred on their intimate knowledge" in r[4] for r in rows)
