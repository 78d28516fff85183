"""Issue 24's cases, asked of the real answerer over the real index with the shipped
abstention model (eval/calibration.json) and the shipped reader: questions the documents answer
are not refused, a retrieval signal of a switched-off mode refuses nothing, and questions about
things the documents never give (today's office-holders and targets) are declined or cautioned."""
from __future__ import annotations

import pytest

ANSWERED = [
    # the top passage says "case studies were undertaken in four PCTs"; was refused because
    # "keyword and meaning search disagree"
    ("How many PCTs were studied in the animateurs research?", None, "four PCTs"),
    # the PDF report spells out chronic obstructive pulmonary disease; was refused for 'COPD'
    ("Which COPD services did the report look at?", None, None),
    # four records are from 2023 (in their citation lines only); was refused for '2023'
    ("What did studies published in 2023 find about the primary care workforce?", None, None),
    # keyword search switched off: agreement between the two searches cannot be a reason
    ("Why did CCGs set up networks with each other?", "dense", None),
]

NOT_GIVEN = [
    "Who is the current chief executive of NHS England?",
    "What is the current 18 week referral to treatment target?",
    "What is the capital of France?",
]


@pytest.mark.parametrize("question, mode, quoted", ANSWERED)
def test_answerable_questions_are_not_declined(real_answerer, question, mode, quoted):
    answer = real_answerer.ask(question, mode=mode)
    assert answer.outcome != "decline", (question, answer.reason)
    assert not answer.abstained and answer.citations
    assert answer.decided_by != "agreement"  # retrieval disagreeing never refuses alone
    if quoted:
        assert any(quoted in c.sentence for c in answer.citations), [c.sentence for c in answer.citations]


@pytest.mark.parametrize("question", NOT_GIVEN)
def test_what_the_documents_never_give_is_declined_or_cautioned(real_answerer, question):
    answer = real_answerer.ask(question)
    assert answer.outcome in ("decline", "caution"), (question, answer.outcome, answer.signals)
    assert answer.reason  # in plain words, why
    data = answer.to_dict()
    assert data["outcome"] == answer.outcome and (data["caution"] or data["abstained"])
