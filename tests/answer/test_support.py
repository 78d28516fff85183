"""The support check on hand-made sentences: parsing markers, and the rule on sentences that
are supported (verbatim, paraphrased) or not (a number changed, a negation, a wrong or
invented marker, no marker, copied from another document). Uses the real embedding model."""
import pytest

from ragcomm.answer.support import (RULE, Claim, check_claims, evidence_spans, make_passage, negated, numbers,
                                    split_claims)

# Two real passages (corpus/animateurs-commissioning-managers-2012.txt and
# corpus/commissioners-use-of-information-findings.txt).
ANIMATEURS = (
    "The study aimed to explore what commissioning managers in primary care trusts do. Both formal and informal "
    "observation were undertaken (150 hours), and 41 in-depth interviews conducted with managers and general "
    "practitioners (GPs). Multiple organizational layers and unclear decision-making processes hindered this "
    "activity. This approach involved the active management of disparate groups of people over whom the manager "
    "had no authority, and appeared to be a factor in determining success.")
INFORMATION = (
    "Local data, such as service evaluations, often trumped national or research based information in persuading "
    "commissioners on a course of action. Negative research evidence did not trigger discussions of "
    "disinvestment opportunities.")


@pytest.fixture(scope="module")
def encode(real_answerer):
    return real_answerer.embedder.encode


@pytest.fixture(scope="module")
def passages(encode):
    return [make_passage(1, "a#0", ANIMATEURS, encode), make_passage(2, "b#0", INFORMATION, encode)]


def check(text, markers, passages, encode):
    return check_claims([Claim(text, markers)], passages, encode)[0]


@pytest.mark.parametrize("output,expected", [
    ("GPs led it. [1] Nurses helped [2][3].", [("GPs led it.", [1]), ("Nurses helped.", [2, 3])]),
    ("Answer:\n1. Managers were hindered [1].\n2. They had no authority [1, 2].",
     [("Managers were hindered.", [1]), ("They had no authority.", [1, 2])]),
    ("- one claim here [Passage 2]\n- another claim [1-3]", [("one claim here", [2]), ("another claim", [1, 2, 3])]),
    ("A claim without a marker. Another one.\n[4]", [("A claim without a marker.", []), ("Another one.", [4])]),
    ("**Bold** words [1].", [("Bold words.", [1])]),
    ("", []),
])
def test_split_claims_reads_sentences_and_markers(output, expected):
    assert [(c.text, c.markers) for c in split_claims(output)] == expected


def test_numbers_and_negation():
    assert numbers("41 interviews, 150 hours, Sixty-six per cent, 1\u2005662\u2005000 people") == \
        {"41", "150", "66", "1662000"}
    assert negated("did not trigger") and negated("had no authority") and negated("didn't") and not negated("noted")


def test_evidence_spans_include_clauses_of_long_sentences():
    spans = [ANIMATEURS[a:b] for a, b in evidence_spans(ANIMATEURS)]
    assert "and 41 in-depth interviews conducted with managers and general practitioners (GPs)." in spans
    assert all(ANIMATEURS.find(s) >= 0 for s in spans)


@pytest.mark.parametrize("sentence,markers", [
    ("Both formal and informal observation were undertaken (150 hours), and 41 in-depth interviews conducted with "
     "managers and general practitioners (GPs).", [1]),
    ("The study observed managers for 150 hours and conducted 41 in-depth interviews with managers and GPs.", [1]),
    ("Multiple organizational layers and unclear decision-making processes hindered this activity.", [1]),
    ("Negative research evidence did not trigger discussions of disinvestment opportunities.", [2]),
    ("Local data such as service evaluations often trumped national or research based information.", [1, 2]),
])
def test_supported_sentences_pass(sentence, markers, passages, encode):
    s = check(sentence, markers, passages, encode)
    assert s.supported, s.reason
    assert s.similarity >= RULE.min_similarity and s.coverage >= RULE.min_coverage
    source = {p.number: p for p in passages}[s.marker]
    assert source.text[s.passage_start:s.passage_end] == s.evidence and s.marker in markers


@pytest.mark.parametrize("sentence,markers,reason", [
    ("The study observed managers for 150 hours and conducted 14 in-depth interviews with managers and GPs.", [1],
     "numbers not in the cited passage: 14"),
    ("Multiple organizational layers and unclear decision-making processes did not hinder this activity.", [1],
     "negated where its evidence is not"),
    ("Negative research evidence triggered discussions of disinvestment opportunities.", [2],
     "its evidence is negated and it is not"),
    ("Multiple organizational layers and unclear decision-making processes hindered this activity.", [2],
     "words not in the cited passage"),  # the right sentence, the wrong marker
    ("Multiple organizational layers and unclear decision-making processes hindered this activity.", [3],
     "cites a passage that does not exist: [3]"),
    ("Multiple organizational layers and unclear decision-making processes hindered this activity.", [],
     "cites no passage"),
    ("Many CCGs were reluctant to outsource core commissioning support functions.", [1],
     "words not in the cited passage"),  # copied from another document
    # the passage's own words, put together into claims it does not make
    ("Success was determined by the authority of general practitioners.", [1],
     "no sentence of the cited passage says this"),
    ("Informal groups of managers determined the decision-making processes.", [1],
     "no sentence of the cited passage says this"),
])
def test_unsupported_sentences_are_rejected(sentence, markers, reason, passages, encode):
    s = check(sentence, markers, passages, encode)
    assert not s.supported and s.reason.startswith(reason), s.reason


def test_the_extractive_generator_is_the_extractive_answer_unchanged(real_answerer):
    from ragcomm.answer.generators import get_generator

    question = "Why were CCGs reluctant to outsource commissioning support?"
    answer = real_answerer.ask(question)
    assert answer.generated is None and "generated" not in answer.to_dict()
    extractive = get_generator("extractive", real_answerer)
    assert extractive.ask(question).to_dict() == answer.to_dict()
    streamed = list(extractive.stream(question))
    assert len(streamed) == 1 and streamed[0].to_dict() == answer.to_dict()
    with pytest.raises(ValueError, match="--llm-url and --llm-model"):
        get_generator("openai", real_answerer)
    with pytest.raises(ValueError, match="unknown generator"):
        get_generator("gpt", real_answerer)
