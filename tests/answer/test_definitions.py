"""Definition questions (answer/definitions.py): which questions ask what a term is, which
sentences say it, and the answers to the chat's built-in example, whose defining passage
retrieval ranks eighth."""
import pytest

from ragcomm.answer.definitions import definition_question, definition_term, defines


@pytest.mark.parametrize("question,term", [
    ("What is practice based commissioning?", "practice based commissioning"),
    ("what is PBC", "PBC"),
    ("what are CSUs", "CSUs"),
    ("What is an animateur?", "animateur"),
    ("what is the 'art of commissioning'", "art of commissioning"),
    ("what does commissioning actually mean in the nhs", "commissioning"),
    ("What does QOF stand for?", "QOF"),
    ("define commissioning", "commissioning"),
    ("so what's a CCG?", "CCG"),
    ("What is the risk for a CCG if its local GPs aren't on board?", ""),  # asks for a fact, not a term
    ("What is the minimum CCG contribution to the Better Care Fund?", ""),
    ("What does it mean for a CCG to be a membership organisation?", ""),
    ("How many PCTs were studied?", ""),
    ("Why did GPs leave?", ""),
])
def test_definition_term(question, term):
    assert definition_term(question) == term


DEFINING = [  # (sentence of the seed corpus, term)
    ("Practice based commissioning (PBC) is the second major plank of the government’s policy focused on "
     "developing more effective commissioning in the NHS.", "practice based commissioning"),
    ("Practice based commissioning (PBC) is the second major plank of the government’s policy focused on "
     "developing more effective commissioning in the NHS.", "PBC"),
    ("In this way, practice based commissioning is a system of devolved micro-purchasers, nested within the overall "
     "responsibility and accountability of the PCT.", "practice based commissioning"),
    ("Commissioning is the set of linked activities required to assess the health care needs of a population.",
     "commissioning"),
    ("In addition, some managers with responsibility for facilitating practice-based commissioning (PbC) adopted a "
     "managerial mode that we have called being an 'animateur'.", "animateur"),
    ("Defining commissioning ‘Commissioning’ is a function that applies to the role of ‘third party payers’.",
     "commissioning"),
    # ../shared/realdocs, the GIRFT cardiothoracic report
    ("Getting It Right First Time (GIRFT) is a national programme designed to improve medical care within the NHS.",
     "GIRFT"),
]
NOT_DEFINING = [
    ("In combination, Patient Choice, Payment by Results, and Practice-Based Commissioning (PBC) are intended to "
     "provide new ‘stronger’ PCTs with the tools required.", "practice based commissioning"),
    ("The degree of attention that has been attached to the accountability framework for practice based "
     "commissioning is in contrast to the experience.", "practice based commissioning"),
    ("In attempting to resolve this conflation, it could be suggested that ‘practice based commissioning’ is not an "
     "accurate term for what is actually being expected of practices.", "practice based commissioning"),
    ("The establishment of clinical commissioning groups (CCGs) was intended to be 'bottom up'.", "CCG"),
    ("Until this market develops, however, commissioning support units (CSUs) have been created.", "CSUs"),
    ("Practice based commissioning calls for a more sophisticated approach to conflicts of interest.",
     "practice based commissioning"),
    ("GIRFT is delivered in partnership with the Royal National Orthopaedic Hospital NHS Trust.", "GIRFT"),
]


@pytest.mark.parametrize("question,reading", [
    ("define PBC", "What is PBC?"),
    ("what does skill mix mean in the GPFV", "What is skill mix in the GPFV?"),
    ("What is an animateur?", "What is an animateur?"),  # asked that way already: as typed
    ("How many PCTs were studied?", "How many PCTs were studied?"),
])
def test_the_reader_reads_a_definition_question_as_what_is(question, reading):
    assert definition_question(question)[1] == reading


@pytest.mark.parametrize("sentence,term", DEFINING)
def test_sentences_that_define(sentence, term):
    assert defines(sentence, term)


@pytest.mark.parametrize("sentence,term", NOT_DEFINING)
def test_sentences_that_do_not(sentence, term):
    assert not defines(sentence, term)


@pytest.mark.slow
def test_the_built_in_example_leads_with_a_definition(real_answerer):
    """"What is practice based commissioning?" (a chat example) led with "Indeed, anecdotal evidence
    suggests..."; its defining passage is eighth in the fused ranking, beyond the five read."""
    question = "What is practice based commissioning?"
    retrieved = real_answerer.retriever.search(question, k=5)
    answer = real_answerer.ask(question)
    first = answer.citations[0]
    assert defines(first.sentence, "practice based commissioning"), first.sentence
    documents = real_answerer.retriever.index.documents
    assert documents[first.doc_id]["text"][first.start:first.end] == first.sentence  # verbatim
    # the defining passage came from further down: it joins the answer's passages at its own rank
    added = [h for h in answer.hits if h.chunk_id not in {r.chunk_id for r in retrieved}]
    assert len(answer.hits) == 6 and len(added) == 1 and added[0].rank == 8
    assert answer.sources[0].chunk_id == added[0].chunk_id
    for question in ("what is PBC", "define PBC", "What does PbC stand for?"):  # read as "What is PBC?"
        lead = real_answerer.ask(question).citations[0].sentence
        assert lead.startswith("Practice based commissioning (PBC) is"), (question, lead)


@pytest.mark.slow
def test_a_question_with_no_defining_sentence_is_answered_as_before(real_answerer):
    """No sentence of the corpus defines the Mental Health Investment Standard: nothing is added."""
    answer = real_answerer.ask("What is the Mental Health Investment Standard?")
    assert len(answer.hits) == 5
