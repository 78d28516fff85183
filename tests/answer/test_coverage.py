"""What the corpus covers (answer/coverage.py) and the truth of every reason a decline gives:
a name, year or title the answer says the documents never mention must really be absent from
everything a user can see of them (text, title, record line, citation, metadata)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ragcomm import Settings, load_corpus
from ragcomm.answer import CorpusProfile
from ragcomm.answer.coverage import corpus_signals, spelled_initials, visible_text
from ragcomm.index import build_from_documents

ROOT = Path(__file__).resolve().parents[2]


def profile_of(tmp_path, fake_embedder, files: dict) -> CorpusProfile:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text)
    docs, _ = load_corpus(corpus)
    index = build_from_documents(docs, Settings(corpus_dir=corpus), embedder=fake_embedder, log=lambda *_: None)
    return CorpusProfile.of(index)


def test_an_acronym_is_known_when_the_corpus_spells_it_out_and_the_other_way_round(tmp_path, fake_embedder):
    profile = profile_of(tmp_path, fake_embedder, {
        "a.txt": "Patients with chronic obstructive pulmonary disease were seen at home by community teams.\n\n"
                 "The PCT commissioned the service from the acute trust for two years."})
    values, found = corpus_signals("How many COPD patients were seen at home?", profile)
    assert values["unknown_names"] == 0.0 and found["unknown_names"] == []
    values, found = corpus_signals("What did the Primary Care Trust commission?", profile)
    assert values["unknown_titles"] == 0.0  # the corpus says PCT
    values, found = corpus_signals("How many CHD patients were seen?", profile)
    assert found["unknown_names"] == ["CHD"]  # no coronary heart disease in it


def test_acronyms_joined_by_a_small_word_are_names_not_a_title(tmp_path, fake_embedder):
    """"primary PCI for STEMI" asks about two things the guideline names apart; it was declined
    as a title the documents never use (eval/realdocs-outside.jsonl xa-004)."""
    profile = profile_of(tmp_path, fake_embedder, {
        "a.txt": "Offer unfractionated heparin to people with acute STEMI undergoing primary PCI with radial "
                 "access.\n\nThe NHS Long Term Plan is not in this corpus."})
    values, found = corpus_signals("What anticoagulant is given during primary PCI for STEMI?", profile)
    assert values["unknown_titles"] == 0.0 and found["unknown_names"] == []
    values, found = corpus_signals("What does the NHS LTP say?", profile)
    assert found["unknown_titles"] == ["NHS LTP"]  # acronyms side by side still make a title


def test_a_year_in_a_record_line_counts_as_mentioned(real_answerer):
    profile = real_answerer.profile
    years_in_text = {int(y) for c in real_answerer.retriever.index.chunks for y in re.findall(r"\b20[0-2]\d\b", c.text)}
    assert 2023 not in years_in_text  # no passage says 2023 ...
    assert 2023 in profile.years  # ... four abstracts' citation lines do
    values, found = corpus_signals("What did the 2023 studies of the primary care workforce find?", profile)
    assert values["unseen_years"] == 0.0 and found["unseen_years"] == []


def test_visible_text_holds_title_and_every_metadata_value():
    doc = {"title": "A title", "metadata": {"citation": "J X. 2023;1:2.", "subjects": ["Humans", "England"],
                                            "nested": {"doi": "10.1/x"}}}
    text = visible_text(doc)
    assert all(s in text for s in ("A title", "2023", "Humans", "England", "10.1/x"))
    assert {"copd", "cop", "op"} <= spelled_initials("chronic obstructive pulmonary disease")


QUESTIONS = [json.loads(line) for name in ("gold.jsonl", "outside.jsonl")
             for line in (ROOT / "eval" / name).read_text().splitlines() if line.strip()]
ASKED = [r["question"] for r in QUESTIONS if not r["answerable"]] + [
    "Who is the current chief executive of NHS England?",
    "What is the current 18 week referral to treatment target?",
    "What did NICE say about COPD in 2024?",
    "What did the Francis Inquiry into Mid Staffordshire recommend for commissioners?",
    "How did the Health and Care Act 2022 change integrated care boards?",
]


@pytest.fixture(scope="module")
def everything(real_answerer):
    """Every word a user can see of the indexed documents, lower-cased."""
    docs = real_answerer.retriever.index.documents.values()
    return "\n".join(d["text"] + "\n" + visible_text(d) for d in docs).lower()


def test_every_stated_reason_is_true_of_the_corpus(real_answerer, everything):
    """Each decline or caution that says the documents never mention or name something is checked
    against all the documents' visible text; the reasons from measured signals must name a signal
    that pulled the answerability down."""
    kinds = set()
    for question in ASKED:
        answer = real_answerer.ask(question)
        if not answer.reason:
            continue
        kinds.add(answer.decided_by)
        named = re.findall(r"'([^']+)'|\b((?:19|20)\d\d)\b", answer.reason)
        if answer.reason.startswith("the documents never"):
            assert named, answer.reason
            for quoted, year in named:
                thing = (quoted or year).lower()
                assert not re.search(rf"(?<!\w){re.escape(thing)}(?!\w)", everything), (question, answer.reason)
        else:
            parts = real_answerer.model.contributions(answer.signals)
            assert parts.get(answer.decided_by, 0.0) < 0, (question, answer.decided_by, parts)
    assert {"unknown_names", "unseen_years"} & kinds  # the corpus-coverage reasons were exercised
