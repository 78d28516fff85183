"""Fusion maths on hand-computed score lists."""
import pytest

from ragcomm.search import min_max, ranked, rrf, weighted


def test_rrf_hand_computed():
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert ranked(fused) == ["b", "a", "d", "c"]


def test_rrf_k_changes_the_balance():
    fused = rrf([["x", "y"], ["y", "z"]], k=1)
    assert fused == pytest.approx({"x": 1 / 2, "y": 1 / 3 + 1 / 2, "z": 1 / 3})


def test_weighted_fusion_hand_computed():
    bm25 = {"a": 10.0, "b": 5.0, "c": 0.0}  # normalised: 1, .5, 0
    dense = {"b": 0.9, "c": 0.5, "d": 0.7}  # normalised: 1, 0, .5
    fused = weighted([bm25, dense], [0.4, 0.6])
    assert fused == pytest.approx({"a": 0.4, "b": 0.2 + 0.6, "c": 0.0, "d": 0.3})
    assert ranked(fused) == ["b", "a", "d", "c"]
    assert min_max({"x": 3.0, "y": 3.0}) == {"x": 1.0, "y": 1.0}
