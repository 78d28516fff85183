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


# ---------------------------------------------------------------- score fusions (issue #14)

from ragcomm.search import dbsf, fuse, zscore  # noqa: E402
from ragcomm.search.fusion import combine, confidence, confidence_weights, dbsf_scores, z_scores  # noqa: E402


def test_z_scores_hand_computed():
    # mean 2, population sd sqrt(2/3)
    z = z_scores({"a": 3.0, "b": 2.0, "c": 1.0})
    assert z == pytest.approx({"a": 1.5 ** 0.5, "b": 0.0, "c": -(1.5 ** 0.5)})


def test_zscore_fusion_hand_computed_with_a_missing_item():
    bm25 = {"a": 4.0, "b": 2.0}  # z: a 1, b -1
    dense = {"b": 0.9, "c": 0.5, "d": 0.1}  # mean .5, sd sqrt(.32/3): b +1.2247, c 0, d -1.2247
    fused = zscore([bm25, dense], [0.5, 0.5])
    sd = (0.32 / 3) ** 0.5
    assert fused == pytest.approx({"a": 0.5 * 1 + 0.5 * (-0.4 / sd),  # missing from dense: its lowest z
                                   "b": 0.5 * -1 + 0.5 * (0.4 / sd),
                                   "c": 0.5 * -1 + 0.0,  # missing from bm25: its lowest z (-1)
                                   "d": 0.5 * -1 + 0.5 * (-0.4 / sd)})
    assert ranked(fused) == ["b", "a", "c", "d"]


def test_dbsf_scaling_and_clipping():
    scores = {"a": 10.0, "b": 0.0}  # mean 5, sd 5: [mean - 3sd, mean + 3sd] = [-10, 20]
    assert dbsf_scores(scores) == pytest.approx({"a": 20 / 30, "b": 10 / 30})
    fused = dbsf([scores, {}], [1.0, 0.0])
    assert fused == pytest.approx({"a": 20 / 30, "b": 10 / 30})


def test_ties_keep_a_stable_order():
    fused = zscore([{"x": 1.0, "y": 1.0, "z": 0.0}, {"x": 0.5, "y": 0.5, "z": 0.2}], [0.5, 0.5])
    assert fused["x"] == fused["y"]
    assert ranked(fused) == ["x", "y", "z"]  # equal scores: by key
    assert ranked(rrf([["b", "a"], ["a", "b"]])) == ["a", "b"]  # equal RRF sums: by key


@pytest.mark.parametrize("method", ["rrf", "weighted", "zscore", "dbsf"])
def test_empty_lists_and_one_retriever_returning_nothing(method):
    assert fuse(method, [{}, {}], dense_weight=0.5) == {}
    only_dense = fuse(method, [{}, {"p": 0.8, "q": 0.3}], dense_weight=0.5)
    assert ranked(only_dense) == ["p", "q"]  # the dense order stands
    only_bm25 = fuse(method, [{"p": 1.0, "q": 7.0}, {}], dense_weight=0.5, weighting="confidence")
    assert ranked(only_bm25) == ["q", "p"]


@pytest.mark.parametrize("method, gap", [("weighted", 1.0), ("zscore", 1.0), ("dbsf", 0.5)])
def test_constant_scores_put_returned_items_above_missing_ones(method, gap):
    # BM25 found one passage (a flat list, no spread to scale by); dense scores two alike.
    # The passage BM25 returned gets `gap` more from BM25 than the one it did not.
    fused = fuse(method, [{"b": 3.2}, {"a": 0.6, "b": 0.6}], dense_weight=0.5)
    assert ranked(fused) == ["b", "a"]
    assert fused["b"] - fused["a"] == pytest.approx(0.5 * gap)
    flat = fuse(method, [{"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 2.0}], dense_weight=0.5)
    assert flat["a"] == flat["b"]


def test_missing_item_scores_zero_in_min_max_as_before():
    assert combine([{"a": 2.0, "b": 1.0}, {"c": 0.5}], [0.5, 0.5], min_max) == pytest.approx(
        {"a": 0.5 + 0.0, "b": 0.0 + 0.0, "c": 0.0 + 0.5})


def test_confidence_hand_computed():
    # top ten of 10, 2, 2, 2: mean 4, sd sqrt(12): (10 - 4) / sqrt(12)
    assert confidence({"a": 10.0, "b": 2.0, "c": 2.0, "d": 2.0}) == pytest.approx(6 / 12 ** 0.5)
    assert confidence({"a": 1.0}) == 0.0
    assert confidence({}) == 0.0
    assert confidence({"a": 2.0, "b": 2.0}) == 0.0
    # only the top ten count: a long tail does not change it
    tail = {f"t{i}": 0.0 for i in range(100)}
    assert confidence({"a": 10.0, **{f"b{i}": 2.0 for i in range(9)}, **tail}) == \
        pytest.approx(confidence({"a": 10.0, **{f"b{i}": 2.0 for i in range(9)}}))


def test_confidence_weights_shift_towards_the_list_that_stands_out():
    peaked = {"a": 10.0, "b": 1.0, "c": 1.0, "d": 1.0}  # confidence sqrt(3)
    even = {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}  # confidence 1.5 / sqrt(1.25)
    w = confidence_weights([peaked, even], [0.5, 0.5])
    cp, ce = 3 ** 0.5, 1.5 / 1.25 ** 0.5
    assert w == pytest.approx([cp / (cp + ce), ce / (cp + ce)])
    assert sum(w) == pytest.approx(1.0)
    assert confidence_weights([{}, {}], [0.6, 0.4]) == [0.6, 0.4]


def test_fuse_by_name_and_unknown_names():
    lists = [{"a": 2.0, "b": 1.0}, {"b": 0.9, "c": 0.5}]
    assert fuse("weighted", lists, dense_weight=0.4) == pytest.approx(weighted(lists, [0.6, 0.4]))
    assert fuse("rrf", lists, rrf_k=10) == pytest.approx(rrf([["a", "b"], ["b", "c"]], k=10))
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse("combmnz", lists)
    with pytest.raises(ValueError, match="unknown weighting"):
        fuse("zscore", lists, weighting="oracle")
