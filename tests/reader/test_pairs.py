"""Training pairs for the reader (reader/pairs.py): positives hold the answer, negatives never
do, unanswerable questions have none, and whole articles stay on one side of the split."""
from __future__ import annotations

from pathlib import Path

import pytest

from ragcomm.reader.pairs import (Group, dropped, medquad_groups, normal, pubmedqa_groups, read_json, read_jsonl,
                                  squad_groups)
from ragcomm.splits import SQUAD_VALIDATION, hashed_split, split_of, squad_split, squad_validation_articles

QA = Path(__file__).resolve().parents[2] / "train" / "qa"

TINY = {"data": [
    {"title": "Cats", "paragraphs": [
        {"context": "Cats sleep for sixteen hours a day. They hunt at dawn and dusk. Lions are big cats of Africa.",
         "qas": [{"id": "c1", "question": "How long do cats sleep?", "is_impossible": False,
                  "answers": [{"text": "sixteen hours", "answer_start": 16}]},
                 {"id": "c2", "question": "How long do dogs sleep?", "is_impossible": True, "answers": []}]},
        {"context": "House cats purr when content. A cat may sleep sixteen hours in winter too.",
         "qas": []}]},
    {"title": "Prime_number", "paragraphs": [
        {"context": "A prime has exactly two divisors. Two is the only even prime number here.",
         "qas": [{"id": "p1", "question": "Which prime is even?", "is_impossible": False,
                  "answers": [{"text": "Two", "answer_start": 34}]}]}]}]}


def test_the_answer_sentence_is_positive_and_no_negative_holds_the_answer():
    groups = {g.qid: g for g in squad_groups(TINY, "squad")}
    g = groups["c1"]
    # "They hunt ..." leans on the answer's sentence: it is quoted, and read, with it
    assert [s for s, y in zip(g.sentences, g.labels) if y] == [
        "Cats sleep for sixteen hours a day.", "Cats sleep for sixteen hours a day. They hunt at dawn and dusk."]
    negatives = [s for s, y in zip(g.sentences, g.labels) if not y]
    assert negatives and not any("sixteen hours" in normal(s) for s in negatives)  # the other paragraph's twin is out
    assert "Lions are big cats of Africa." in negatives  # its own paragraph
    assert "House cats purr when content." in negatives  # retrieved from another paragraph of the article


def test_an_unanswerable_question_has_only_negatives():
    g = {g.qid: g for g in squad_groups(TINY, "squad")}["c2"]
    assert not g.answerable and g.sentences and set(g.labels) == {0}


def test_validation_articles_follow_the_rule_and_stay_whole():
    titles = [a["title"] for a in read_json(QA / "squad2_dev_part.json.gz")["data"]]
    assert squad_validation_articles(titles) == SQUAD_VALIDATION
    assert len(set(SQUAD_VALIDATION) & set(titles)) == 8
    groups = squad_groups(TINY, "squad")
    assert {g.split for g in groups if g.article == "Prime_number"} == {"validation"}
    assert {g.split for g in groups if g.article == "Cats"} == {"train"}
    assert squad_split("Normans") == "train" and split_of("q01") in ("tune", "heldout")


@pytest.fixture(scope="module")
def real_squad():
    return squad_groups(read_json(QA / "squad2_dev_part.json.gz"), "squad2")


def test_no_question_is_on_both_sides_and_no_article_is_split(real_squad):
    by_article = {}
    for g in real_squad:
        by_article.setdefault(g.article, set()).add(g.split)
    assert all(len(sides) == 1 for sides in by_article.values())
    assert {a for a, sides in by_article.items() if "validation" in sides} == set(SQUAD_VALIDATION)
    # the same words may be asked of two articles (the population of Los Angeles, in Southern California
    # and in Fresno): never of the same article on both sides
    train_q = {(g.question, g.article) for g in real_squad if g.split == "train"}
    assert not train_q & {(g.question, g.article) for g in real_squad if g.split == "validation"}


def test_real_positives_hold_a_gold_answer_and_negatives_do_not(real_squad):
    data = read_json(QA / "squad2_dev_part.json.gz")
    answers = {qa["id"]: [normal(a["text"]) for a in qa["answers"]]
               for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]}
    answerable = [g for g in real_squad if g.answerable]
    assert len(answerable) > 3000 and sum(not g.answerable for g in real_squad) > 3000
    for g in answerable[:500]:
        gold = answers[g.qid]
        for s, y in zip(g.sentences, g.labels):
            holds = any(a and f" {a} " in f" {normal(s)} " for a in gold)
            assert holds if y else not holds, (g.question, s, y)


def test_pubmedqa_conclusions_answer_and_results_are_left_out():
    data = read_json(QA / "pubmedqa_pqal.json.gz")
    groups = pubmedqa_groups(data)
    pubid, item = next(iter(data.items()))
    g = next(x for x in groups if x.qid == pubid)
    positives = [s for s, y in zip(g.sentences, g.labels) if y]
    assert positives and all(p in item["LONG_ANSWER"] for p in positives)
    results = " ".join(c for c, label in zip(item["CONTEXTS"], item["LABELS"]) if label == "RESULTS")
    assert not any(s in results for s, y in zip(g.sentences, g.labels) if not y)
    assert {x.split for x in groups} == {"train", "validation"}
    assert all(x.split == hashed_split(f"pubmedqa:{x.qid}") for x in groups)


def test_medquad_topics_stay_whole():
    groups = medquad_groups(read_jsonl(QA / "medquad_with_answers.jsonl.gz"), limit=800)
    sides = {}
    for g in groups:
        sides.setdefault(g.article, set()).add(g.split)
        assert g.labels[0] == 1 and set(g.labels[1:]) <= {0}
    assert all(len(s) == 1 for s in sides.values()) and len(groups) > 700


def test_dropped_copies_have_no_positive_and_keep_the_side():
    g = Group("s", "a", "q?", ["answer here.", "other one.", "third one."], [1, 0, 0], "train", "x")
    copies = dropped([g], share=1.0)
    assert copies[0].labels == [0, 0] and "answer here." not in copies[0].sentences
    assert copies[0].split == "train" and not copies[0].answerable


def test_every_training_seed_is_validated_on_the_seed_0_groups_none_of_which_it_trained_on():
    """`train-reader --seed 1` draws other negatives and another MedQuAD sample; its validation
    figures still come from the groups seed 0 draws, and none of those questions is among the
    groups it trains on (the split is by article, topic and paper, not by seed)."""
    from ragcomm.eval.reader import validation_groups
    from ragcomm.reader.pairs import public_groups

    one = public_groups(QA, seed=1)
    valid = validation_groups(QA, one, seed=1, log=lambda _m: None)
    zero = public_groups(QA, seed=0)
    want = [g for g in zero if g.split == "validation"]
    assert [(g.source, g.qid, g.sentences) for g in valid] == [(g.source, g.qid, g.sentences) for g in want]
    assert [(g.qid, g.sentences) for g in one if g.split == "validation"] != [(g.qid, g.sentences) for g in want]
    trained = {(g.source.removesuffix("-dropped"), g.article) for g in one if g.split == "train"}
    assert not trained & {(g.source, g.article) for g in valid}
    assert {g.source for g in valid} == {"covid", "medquad", "pubmedqa", "squad2"}
    assert validation_groups(QA, zero, seed=0) == want  # seed 0: its own groups, not drawn again


def test_a_wh_question_restated_is_a_statement_that_answers_nothing():
    from ragcomm.reader.pairs import restated

    assert restated("What added value do GPs bring?") == "The added value GPs bring."
    assert restated("How many clinicians were interviewed about the added value of GPs?") == \
        "The clinicians were interviewed about the added value of GPs."
    assert restated("When was the CBS meant to go live?") == "The CBS meant to go live."
    assert restated("Does practice based commissioning save money?") is None  # yes/no: may be its own answer
    assert restated("What is PBC?") is None  # too short to be a sentence
    assert restated("The budget, what is it?") is None


def test_restatements_join_the_training_groups_after_their_positives_and_survive_trimming():
    from ragcomm.reader.pairs import with_restatements
    from ragcomm.reader.train import trimmed

    groups = [Group("s", "a", "What added value do GPs bring?", ["p1", "n1", "n2"], [1, 0, 0]),
              Group("s", "b", "Which budget did the PCT hold back?", ["n1", "n2"], [0, 0]),
              Group("s", "c", "Do GPs add value?", ["p1", "n1"], [1, 0]),
              Group("s", "d", "What added value do GPs bring?", ["p1", "n1"], [1, 0], "validation")]
    out = with_restatements(groups)
    assert out[0].sentences == ["p1", "The added value GPs bring.", "n1", "n2"] and out[0].labels == [1, 0, 0, 0]
    assert out[1].sentences == ["The budget the PCT hold back.", "n1", "n2"] and out[1].labels == [0, 0, 0]
    assert out[2] is groups[2] and out[3] is groups[3]  # a yes/no question; a validation group
    assert trimmed(out[0], 2).sentences == ["p1", "The added value GPs bring."]
    assert [g.question for g in out] == [g.question for g in groups]
