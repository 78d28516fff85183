"""Evaluation: metrics on hand-computed runs (trec_eval definitions), evidence location and
passage relevance, TREC run files, significance, abstention, configuration grids, and the
whole evaluation loop on a tiny BEIR folder with the fake embedder."""
import json
import math

import numpy as np
import pytest
from conftest import FakeEmbedder

from ragcomm import eval as ev
from ragcomm.types import Chunk
from ragcomm.config import Settings
from ragcomm.ingest import Document

# q1: relevant d1, d3 (binary); ranked d2, d1, d4, d3.
# q2: graded a=2, b=1, c=0; ranked b, c, a.
# q3: judged but not answered by the run; q4: answered but not judged (ignored).
QRELS = {"q1": {"d1": 1, "d3": 1}, "q2": {"a": 2, "b": 1, "c": 0}, "q3": {"x": 1}}
RUN = {"q1": {"d2": 4.0, "d1": 3.0, "d4": 2.0, "d3": 1.0}, "q2": {"b": 0.9, "c": 0.5, "a": 0.1},
       "q4": {"z": 1.0}}
L2, L3, L4, L5 = math.log2(2), math.log2(3), math.log2(4), math.log2(5)

EXPECTED = {
    "q1": {
        # DCG = 1/log2(3) + 1/log2(5) (d1 at rank 2, d3 at rank 4); ideal: ranks 1 and 2
        "ndcg@10": (1 / L3 + 1 / L5) / (1 / L2 + 1 / L3),
        "map": (1 / 2 + 2 / 4) / 2,
        "mrr": 1 / 2, "mrr@10": 1 / 2, "mrr@1": 0.0,
        "recall@1": 0.0, "recall@2": 1 / 2, "recall@5": 1.0,
        "hit@1": 0.0, "hit@5": 1.0, "p@2": 1 / 2,
    },
    "q2": {
        # trec_eval's gain is the grade itself: DCG = 1/log2(2) + 0 + 2/log2(4); ideal a, b
        "ndcg@10": (1 / L2 + 2 / L4) / (2 / L2 + 1 / L3),
        "map": (1 / 1 + 2 / 3) / 2,
        "mrr": 1.0, "mrr@10": 1.0, "mrr@1": 1.0,
        "recall@1": 1 / 2, "recall@2": 1 / 2, "recall@5": 1.0,
        "hit@1": 1.0, "hit@5": 1.0, "p@2": 1 / 2,
    },
}
NAMES = list(EXPECTED["q1"])


def test_metrics_match_hand_computed_values():
    got = ev.evaluate(RUN, QRELS, NAMES)
    assert set(got) == {"q1", "q2", "q3"}  # judged queries only; q4 has no judgements
    for q, expected in EXPECTED.items():
        for name, value in expected.items():
            assert got[q][name] == pytest.approx(value, abs=1e-12), (q, name)
    assert all(v == 0.0 for v in got["q3"].values())  # judged, nothing retrieved: zero, not skipped


def test_mean_scores_average_over_judged_queries():
    means = ev.mean_scores(ev.evaluate(RUN, QRELS, ["mrr", "map"]))
    assert means["mrr"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert means["map"] == pytest.approx((0.5 + 5 / 6 + 0.0) / 3)


def test_ties_follow_trec_eval_and_ranks_to_run_keeps_our_order():
    qrels = {"q": {"x": 1}}
    tied = {"q": {"x": 1.0, "y": 1.0}}
    # trec_eval breaks score ties by doc id, descending: y before x
    assert ev.evaluate(tied, qrels, ["mrr"])["q"]["mrr"] == 0.5
    ours = ev.ranks_to_run({"q": [("x", 1.0), ("y", 1.0)]})
    assert ev.evaluate(ours, qrels, ["mrr"])["q"]["mrr"] == 1.0


def test_recall_curve_and_unknown_metric():
    curve = ev.recall_curve({"q1": RUN["q1"]}, {"q1": QRELS["q1"]}, ks=(1, 2, 3, 4))
    assert curve == [0.0, 0.5, 0.5, 1.0]
    for bad in ("ndcg@x", "foo", "recall@0"):
        with pytest.raises(ValueError):
            ev.check_metric(bad)


def test_trec_run_file_format(tmp_path):
    ranked = {"q1": [("docA#0", 0.91), ("dir/docB#3", 0.5)], "q2": [("d", 1.0)]}
    path = tmp_path / "x.run"
    ev.write_trec_run(ranked, path, "hybrid rrf60")
    lines = path.read_text().splitlines()
    assert lines == ["q1 Q0 docA#0 1 0.910000 hybrid_rrf60", "q1 Q0 dir/docB#3 2 0.500000 hybrid_rrf60",
                     "q2 Q0 d 1 1.000000 hybrid_rrf60"]  # ranks restart at 1 for each query
    assert ev.read_trec_run(path) == {"q1": {"docA#0": 0.91, "dir/docB#3": 0.5}, "q2": {"d": 1.0}}
    with pytest.raises(ValueError):
        ev.write_trec_run({"q": [("doc B", 1.0)]}, tmp_path / "bad.run", "t")


def test_qrels_tsv_reader(tmp_path):
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\n1\t10\t2\n1\t11\t1\n2\t5\t1\n")
    assert ev.read_qrels_tsv(path) == {"1": {"10": 2, "11": 1}, "2": {"5": 1}}


def test_randomisation_and_t_test():
    a, b = [1.0] * 20, [0.0] * 20
    assert ev.randomisation_test(a, a) == 1.0
    assert ev.randomisation_test(a, b, trials=2000) < 0.001
    assert ev.paired_t_test(a, a) == 1.0
    mixed = [0.5, 0.6, 0.4, 0.5, 0.55, 0.45]
    assert ev.randomisation_test(mixed, list(reversed(mixed))) > 0.5


def test_evidence_is_found_across_line_breaks_hyphenation_and_case():
    text = "The PCT's practice-\nbased Commissioning was, in   short, slow. Then it sped up."
    spans = ev.locate(text, "practice-based commissioning was in short")
    assert len(spans) == 1
    start, end = spans[0]
    assert text[start:end] == "practice-\nbased Commissioning was, in   short"
    assert ev.locate(text, "practicebased commissioning was, in short,") == spans
    assert ev.locate(text, "not in the text") == []
    assert ev.locate("a b. a b.", "A B") == [(0, 3), (5, 8)]  # every occurrence


def chunk(cid, start, end):
    return Chunk(cid, "doc", "", start, end, "", 0)


def test_relevant_chunks_cover_or_hold_at_least_half():
    span = (50, 80)
    assert ev.relevant_chunks(span, [chunk("a", 0, 60), chunk("b", 40, 100)]) == ["b"]
    # overlapping chunks that both cover the span: both count
    assert ev.relevant_chunks(span, [chunk("a", 0, 90), chunk("b", 40, 100)]) == ["a", "b"]
    # nobody covers it: a holds 20 of 30 characters (>= half), b only 10
    assert ev.relevant_chunks(span, [chunk("a", 0, 70), chunk("b", 70, 140)]) == ["a"]
    # split in three, none holds half: the largest share counts
    assert ev.relevant_chunks((0, 30), [chunk("a", 0, 8), chunk("b", 8, 20), chunk("c", 20, 30)]) == ["b"]
    assert ev.relevant_chunks(span, [chunk("a", 0, 10)]) == []


def test_gold_set_qrels_over_chunks_and_documents():
    text = "First sentence here. The evidence sits in the second sentence. A third one."
    doc = Document("d1", "T", text, "d1.txt")
    rows = [{"id": "q1", "question": "where?", "doc_id": "d1", "evidence": "evidence sits in the second",
             "answerable": True},
            {"id": "q2", "question": "gone?", "doc_id": "d1", "evidence": "absent words", "answerable": True},
            {"id": "u1", "question": "no answer", "doc_id": None, "evidence": None, "answerable": False}]
    gold = ev.gold_set(rows, [doc])
    assert gold.answerable == {"q1", "q2"} and gold.missing == ["q2"]
    assert set(gold.questions) == {"q1", "q2", "u1"}
    cut = text.index("A third")
    chunks = [Chunk("d1#0", "d1", text[:cut], 0, cut, "", 0), Chunk("d1#1", "d1", text[cut:], cut, len(text), "", 0)]
    assert gold.qrels(chunks) == {"q1": {"d1#0": 1}}
    assert gold.doc_qrels() == {"q1": {"d1": 1}}


def test_abstention_threshold_and_auroc():
    signals = {"a1": 0.9, "a2": 0.8, "a3": 0.4, "u1": 0.5, "u2": 0.3}
    report = ev.choose_threshold(signals, {"a1", "a2", "a3"})
    assert report["auroc"] == pytest.approx(5 / 6, abs=1e-4)
    assert report["threshold"] == pytest.approx(0.65)
    assert report["answerable_answered"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["unanswerable_abstained"] == 1.0
    assert ev.choose_threshold({"a1": 0.9}, {"a1"}) is None  # no unanswerable questions: nothing to separate


def test_configuration_grid_has_no_duplicates():
    plain = Settings().replace(weighting="fixed", dense_sentences="off")  # names without the #14 options
    configs = ev.configurations(plain, modes=["bm25", "dense", "hybrid"], fusions=["rrf", "weighted"],
                                dense_weights=[0.3, 0.5], bm25=["bm25s", "rank-bm25:plain"],
                                chunk_sizes=["whole", "128"], chunk_overlaps=["0", "32", "200"])
    names = [c.name for c in configs]
    assert len(names) == len(set(names))
    # per chunking (whole, 128/0, 128/32; overlap 200 >= size is dropped):
    # bm25 x 2 backends, dense x 1, hybrid x 2 backends x (rrf + 2 weights)
    assert len(configs) == 3 * (2 + 1 + 6)
    assert "hybrid-weighted0.3 rank-bm25:plain whole" in names
    hybrid = next(c for c in configs if c.name == "hybrid-rrf60 bm25s c128o32")
    assert (hybrid.settings.chunk_size, hybrid.settings.chunk_overlap, hybrid.settings.fusion) == (128, 32, "rrf")
    with pytest.raises(ValueError):
        ev.configurations(Settings(), modes=["sparse"])
    # every score fusion takes the dense weights; the options multiply the hybrids
    names = [c.name for c in ev.configurations(plain, modes=["hybrid"], fusions=["zscore", "dbsf"],
                                               dense_weights=[0.4, 0.6], weightings=["fixed", "confidence"],
                                               sentences=["off", "max"], chunk_sizes=["whole"])]
    assert len(names) == 2 * 2 * 2 * 2 and "hybrid-dbsf0.6-confidence bm25s dense+sent-max whole" in names


def tiny_beir(tmp_path, docs=None):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = docs or [("1", "Cats", "cats purr and sleep all day"), ("2", "Dogs", "dogs bark at the postman"),
                    ("3", "Birds", "birds sing in the morning"), ("4", "Fish", "fish swim in cold water")]
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n"
                                                 for i, t, x in docs))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "a", "text": "which animal barks"}) + "\n"
                                          + json.dumps({"_id": "b", "text": "singing in the morning"}) + "\n"
                                          + json.dumps({"_id": "c", "text": "unjudged"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\na\t2\t1\nb\t3\t1\n")
    return folder


def test_beir_evaluation_loop_with_fake_embedder(tmp_path, fake_embedder):
    folder = tiny_beir(tmp_path)
    configs = ev.configurations(Settings(), modes=["bm25", "dense", "hybrid"], chunk_sizes=["whole"])
    result = ev.evaluate_beir(folder, configs, embedder=fake_embedder)
    assert result.queries == 2
    by_name = {r.config.name: r for r in result.results}
    assert by_name["bm25 bm25s whole"].metrics["mrr"] == 1.0  # 'bark' / 'morning' match exactly one doc
    assert by_name["bm25 bm25s whole"].doc_ranked["a"][0][0] == "2"
    assert result.best.significance["p_randomisation"] == 1.0
    data = result.to_json()
    entry = data["configurations"][0]
    assert {"name", "config", "ndcg@10", "map", "mrr@10", "latency_ms", "per_query"} <= set(entry)
    assert set(entry["per_query"]) == {"a", "b"} and len(entry["recall_curve"]) == 100
    assert "ndcg@10" in ev.table(result) and ev.markdown(result).startswith("## ")
    paths = ev.save_runs(result, tmp_path / "runs")
    assert len(paths) == 3 and paths[0].read_text().startswith("a Q0 2 1 ")
    ev.plot_recall([result], tmp_path / "recall.png")
    assert (tmp_path / "recall.png").read_bytes()[:4] == b"\x89PNG"


class BatchSensitive(FakeEmbedder):
    """Like an int8 model, which quantises each batch with one scale: a text's vector depends
    on the batch it is embedded in (here, on the batch's size)."""

    def encode(self, texts, batch_size=32, progress=False):
        out = super().encode(texts, batch_size, progress)
        out[:, 1] += 0.05 * len(texts)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_a_grid_row_does_not_depend_on_the_rows_before_it(tmp_path):
    """A bm25 row without sentence vectors used to leave its index to the hybrid row after it,
    which then embedded sentences passage by passage instead of reading them as a built index
    stores them: with the int8 model, ADI's default hybrid scored 0.5630 after a bm25 row and
    0.5608 alone. Now each row reads the index its own settings build."""
    docs = [("1", "Cats", "Cats purr. They sleep all day. Dogs bark at them."),
            ("2", "Dogs", "Dogs bark at the postman. The postman runs. Birds watch."),
            ("3", "Birds", "Birds sing in the morning. Cats listen. Fish do not."),
            ("4", "Fish", "Fish swim in cold water. Birds fly over. Dogs swim too.")]
    folder = tiny_beir(tmp_path, docs)
    base = Settings()
    hybrid = ev.configurations(base, modes=["hybrid"], chunk_sizes=["whole"])
    bm25 = ev.configurations(base.replace(dense_sentences="off"), modes=["bm25"], chunk_sizes=["whole"])
    assert hybrid[0].settings.dense_sentences != "off"
    alone = ev.evaluate_beir(folder, hybrid, embedder=BatchSensitive()).results[0]
    after = ev.evaluate_beir(folder, bm25 + hybrid, embedder=BatchSensitive()).results[1]
    assert after.config.name == alone.config.name
    assert after.ranked == alone.ranked
