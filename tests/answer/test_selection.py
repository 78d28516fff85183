"""Sentence choice, one rule at a time, on small hand-made passages: BM25 term weights, the
asked-for kind of fact ("how many"), a sentence that leans on the one before ("This
approach..."), framing and dangling penalties, passage score, best first within a word
budget, near-duplicates, and "more from the sources". Vectors come from the fake embedder
(hashed bag of words), so similarity is lexical too; each test sets the weights it needs."""
import numpy as np
import pytest

from ragcomm.answer import Candidate, Selection, passage_sentences, question_kind, select_sentences
from ragcomm.answer.choice import cite
from ragcomm.answer.sentences import fact_kinds, frames, leans_back
from ragcomm.backends import analyze
from ragcomm.types import Hit

ONLY = dict(similarity=0.0, lexical=0.0, passage=0.0, kind=0.0, dangling=0.0, framing=0.0, context=0,
            max_words=1000, max_sentences=5, relative_floor=0.0, min_gain=0.0)


def hit(text: str, rank: int = 1, score: float = 1.0, doc: str = "d") -> Hit:
    return Hit(rank, score, f"{doc}#{rank}", doc, "T", "", text, f"{doc}.txt", 1000 * rank, 1000 * rank + len(text))


def candidates(fake, *hits: Hit) -> list[Candidate]:
    out = []
    for h in hits:
        for s in passage_sentences(h.text):
            s.vector = fake.encode([s.text])[0]
            out.append(Candidate.of(h, s))
    return out


def choose(fake, question, hits, weights=None, **selection):
    cands = candidates(fake, *hits)
    terms = {t: 1.0 for t in analyze(question)} if weights is None else weights
    q = fake.encode_query(question)
    chosen, more = select_sentences(cands, q, terms, question_kind(question), Selection(**{**ONLY, **selection}),
                                    {w.lower().strip("?") for w in question.split()})
    return chosen, more


def test_bm25_term_weights_prefer_the_rare_term_over_a_plain_share_of_terms(fake_embedder):
    passage = hit("The commissioning of services by the practice was reviewed every year. "
                  "The Smethwick pathfinder covered a population of about 30,000 people.")
    question = "commissioning services practice Smethwick"
    plain, _ = choose(fake_embedder, question, [passage], lexical=1.0)
    assert plain[0].text.startswith("The commissioning")  # three of four terms
    weighted, _ = choose(fake_embedder, question, [passage], lexical=1.0,
                         weights={"commiss": 0.3, "servic": 0.3, "practic": 0.3, "smethwick": 4.0})
    assert weighted[0].text.startswith("The Smethwick")  # the rare term carries the question


def test_how_many_prefers_the_sentence_with_the_count(fake_embedder):
    passage = hit("The survey asked practice managers about non-medical roles and why they employ them. "
                  "In total 1205 practice managers answered.")
    question = "How many practice managers answered the survey about non-medical roles?"
    assert question_kind(question) == "number"
    without, _ = choose(fake_embedder, question, [passage], lexical=1.0)
    assert without[0].text.startswith("The survey")  # more of the question's words, but no count
    chosen, _ = choose(fake_embedder, question, [passage], lexical=1.0, kind=1.0)
    assert chosen[0].text.startswith("In total 1205") and chosen[0].kind_match


def test_a_number_the_question_already_names_is_not_the_answer(fake_embedder):
    passage = hit("The review covered schemes from 1991 to 2010 across England and Wales. "
                  "Five hundred and fourteen abstracts were screened by the reviewers.")
    chosen, _ = choose(fake_embedder, "How many abstracts were screened between 1991 and 2010?", [passage],
                       kind=1.0)
    assert chosen[0].text.startswith("Five hundred")


@pytest.mark.parametrize("question,kind", [
    ("How many GPs were interviewed?", "number"), ("What percentage of practices got funding?", "number"),
    ("When did Hounslow PCT split off its provider services?", "date"), ("In which year was it set up?", "date"),
    ("Who leads the hub?", "name"), ("Whose theory was applied?", "name"), ("Which PCT hosts NORCOM?", "name"),
    ("When GPs are excluded, what do lay members need?", ""), ("Why were locality groups useful?", ""),
])
def test_question_kinds(question, kind):
    assert question_kind(question) == kind


def test_this_approach_is_quoted_with_the_sentence_before_it(fake_embedder):
    passage = hit("Some managers adopted a mode we have called being an animateur. "
                  "This approach involved the active management of groups over whom the manager had no authority.")
    question = "active management of groups without authority"
    alone, _ = choose(fake_embedder, question, [passage], lexical=1.0, context=0)
    assert alone[0].text.startswith("This approach")
    chosen, _ = choose(fake_embedder, question, [passage], lexical=1.0, context=1)
    quote = chosen[0]
    assert quote.text.startswith("Some managers") and quote.text.endswith("no authority.")
    assert passage.text[quote.a:quote.b] == quote.text  # still verbatim, one contiguous quote
    text, citations, _ = cite(chosen)
    assert citations[0].sentence == passage.text[citations[0].passage_start:citations[0].passage_end]
    assert len(chosen) == 1  # the sentence before is in the quote, not repeated after it


def test_this_approach_is_scored_with_what_it_refers_to_and_follows_it(fake_embedder):
    passage = hit("Some managers adopted a mode we have called being an animateur. "
                  "This approach involved the active management of groups over whom the manager had no authority. "
                  "Managers were interviewed in four primary care trusts across England.")
    question = "animateur"
    chosen, _ = choose(fake_embedder, question, [passage], lexical=1.0, context=1, max_sentences=2)
    assert chosen[1].text.startswith("This approach") and chosen[1].overlap == 1.0  # "animateur" is its referent's
    assert chosen[0].text.startswith("Some managers") and chosen[0].b < chosen[1].a  # quoted once, then continued
    alone, more = choose(fake_embedder, question, [passage], lexical=1.0, context=0, max_sentences=2)
    assert [c.overlap for c in alone + more if c.text.startswith("This approach")] == [0.0]  # read alone


def test_a_continuation_from_the_next_passage_follows_the_sentence_it_leans_on(fake_embedder):
    first = "Some managers adopted a mode we have called being an animateur."
    second = "This approach involved the active management of groups over whom the manager had no authority."
    a = Hit(1, 1.0, "d#1", "d", "T", "", first, "d.txt", 0, len(first))
    b = Hit(2, 0.9, "d#2", "d", "T", "", second, "d.txt", len(first) + 1, len(first) + 1 + len(second))
    other = hit("Managers were interviewed in four primary care trusts across the animateur region.", rank=3, doc="o")
    weights = {t: 1.0 for t in analyze("animateur mode region")} | {t: 0.2 for t in analyze("groups")}
    chosen, _ = choose(fake_embedder, "animateur mode region groups", [a, other, b], weights, lexical=1.0,
                       context=1, max_sentences=3)
    assert [c.hit.rank for c in chosen] == [1, 2, 3]  # the continuation before the better-scored other passage
    assert chosen[1].score < chosen[2].score


def test_a_connective_or_the_study_naming_itself_is_quoted_alone(fake_embedder):
    passage = hit("Patients were offered four providers for elective care. "
                  "However, patients often chose a different hospital from the one their GP suggested.")
    chosen, _ = choose(fake_embedder, "patients chose different hospital GP suggested", [passage], lexical=1.0,
                       context=1, max_sentences=1)
    assert chosen[0].text.startswith("However") and not chosen[0].dangling


def test_a_sentence_leaning_on_one_outside_the_passage_is_marked_down(fake_embedder):
    passage = hit("They were paid by results and reported every quarter to the board. "
                  "Practices were paid by results and reported every quarter to the primary care trust.")
    question = "paid by results reported every quarter"
    plain, _ = choose(fake_embedder, question, [passage], lexical=1.0)
    assert plain[0].text.startswith("They were")  # first in the text, same terms
    assert plain[0].dangling and not plain[1].dangling
    chosen, _ = choose(fake_embedder, question, [passage], lexical=1.0, dangling=0.5)
    assert chosen[0].text.startswith("Practices were")


def test_framing_sentences_give_way_to_findings(fake_embedder):
    passage = hit("OBJECTIVES: To examine why CCGs were reluctant to outsource commissioning support. "
                  "RESULTS: Many CCGs were reluctant to outsource commissioning support for fear of losing "
                  "local knowledge.")
    question = "Why were CCGs reluctant to outsource commissioning support?"
    assert frames(passage.text.split(". ")[0]) and not frames("RESULTS: Many CCGs were reluctant.")
    chosen, _ = choose(fake_embedder, question, [passage], similarity=1.0, framing=1.0)
    assert chosen[0].text.startswith("Many CCGs")  # the findings, quoted without their label (hygiene.py)
    assert passage.text[chosen[0].a:chosen[0].b] == chosen[0].text


def test_the_better_passage_breaks_a_tie(fake_embedder):
    text = "Locality groups linked commissioning decisions with patient needs in every area."
    low, high = hit(text, rank=2, score=0.4, doc="a"), hit(text.replace("every", "each"), rank=1, score=1.0, doc="b")
    chosen, _ = choose(fake_embedder, "locality groups commissioning decisions", [low, high], lexical=1.0,
                       passage=0.5)
    assert chosen[0].hit is high


def test_best_first_within_the_word_budget_and_the_rest_in_more(fake_embedder):
    passage = hit("Pharmacists legitimise clinical work through a national learning programme. "
                  "The Pharmacy Integration Fund gave pharmacists the language to justify clinical work. "
                  "Clinical work by pharmacists has grown since the 1950s in the English NHS. "
                  "Pharmacists engage in identity work and boundary work as their clinical work grows.")
    question = "Which programme gave pharmacists the language to justify clinical work?"
    chosen, more = choose(fake_embedder, question, [passage], lexical=1.0, max_words=25, max_sentences=3)
    assert chosen[0].text.startswith("The Pharmacy Integration Fund")  # best first, not text order
    assert sum(c.words for c in chosen) <= 25 and 1 <= len(chosen) < 4
    assert more and not any(m.a == c.a for m in more for c in chosen)
    one, _ = choose(fake_embedder, question, [passage], lexical=1.0, max_words=3)
    assert len(one) == 1  # the best sentence always goes in, even over the budget


def test_a_further_sentence_must_add_something(fake_embedder):
    passage = hit("CCG leaders managed knowledge flows across their networks. "
                  "CCG leaders managed knowledge flows across the local networks. "
                  "Network stability depended on collaboration among GPs in each locality.")
    question = "How did CCG leaders manage knowledge flows and network stability?"
    chosen, _ = choose(fake_embedder, question, [passage], lexical=1.0, min_gain=0.1, max_sentences=3)
    texts = [c.text for c in chosen]
    assert texts[0].startswith("CCG leaders") and texts[1].startswith("Network stability")
    assert len(chosen) == 2  # the near-copy adds nothing


def test_near_duplicates_count_once_and_at_most_max_sentences(fake_embedder):
    same = [hit(f"Alpha beta gamma delta epsilon zeta eta {i}.", rank=1 + i, doc=f"d{i}") for i in range(6)]
    other = hit("One two three four five six seven.", rank=9, doc="o")
    chosen, _ = choose(fake_embedder, "alpha beta gamma", same + [other], lexical=1.0, similarity=1.0,
                       max_sentences=5)
    assert sum(c.text.startswith("Alpha") for c in chosen) == 1 and len(chosen) <= 5


def test_facts_and_leaning_detection():
    facts = fact_kinds("In March 2005 the NHS Alliance and 41 managers met in Birmingham.", lambda w: w == "NHS")
    assert facts["date"] == {"2005", "march"} and facts["number"] == {"41"}
    assert {"alliance", "birmingham"} <= facts["name"] and "nhs" not in facts["name"]
    assert leans_back("These roles were new.") and leans_back("RESULTS: They were paid.")
    assert not leans_back("Thematic analysis was used.")
    # a connective or the document naming itself reads alone: no sentence before is needed
    assert not leans_back("However, GPs disagreed.") and not leans_back("CONCLUSIONS: This study drew out elements.")


def test_every_quote_is_verbatim_and_more_continues_the_markers(fake_embedder):
    first, second = hit("Commissioners used local data to persuade others. They trusted stories.", rank=1, doc="a"), \
        hit("Local service evaluations often trumped national research for commissioners.", rank=2, doc="b")
    chosen, more = choose(fake_embedder, "local data commissioners", [first, second], lexical=1.0, max_sentences=1)
    markers: dict = {}
    _, citations, sources = cite(chosen, markers)
    _, extra, extra_sources = cite(more, markers)
    for c in citations + extra:
        source = first if c.chunk_id == first.chunk_id else second
        assert source.text[c.passage_start:c.passage_end] == c.sentence
        assert c.start == source.start + c.passage_start
    assert [c.marker for c in citations] == [1] and all(c.marker in (1, 2) for c in extra)
    assert np.all([h.chunk_id not in {s.chunk_id for s in sources} for h in extra_sources])


class CountingReader:
    """A reader that reads "answer" as an answer (logit 3) and anything else as not (-3),
    and records each batch it is given."""

    def __init__(self):
        self.batches = []

    def score(self, question, sentences):
        self.batches.append(list(sentences))
        return np.array([3.0 if "answer" in s else -3.0 for s in sentences], dtype=np.float32)


def test_the_reader_takes_a_second_look_only_when_the_first_finds_no_answer(fake_embedder):
    from ragcomm.answer.reading import read_candidates, sigmoid

    def ranked(*texts):  # candidates scored in the order given
        cands = candidates(fake_embedder, hit(" ".join(texts)))
        for i, c in enumerate(cands):
            c.score = 10.0 - i
        return cands

    texts = ("The first sentence is about budgets in practice.", "The second sentence talks about commissioning.",
             "The third one holds the answer to it.", "The fourth sentence is about the data.")
    reader = CountingReader()
    cands = ranked(*texts)
    assert read_candidates(reader, "q", cands, 2, 1.0, more=2, until=0.0) == 3.0
    assert [len(b) for b in reader.batches] == [2, 2]  # nothing in the first 2: the next 2 read
    assert cands[2].reader == 3.0 and cands[2].score == pytest.approx(8.0 + sigmoid(3.0))

    reader = CountingReader()
    cands = ranked("The answer comes first in this one.", *texts[1:])
    assert read_candidates(reader, "q", cands, 2, 1.0, more=2, until=0.0) == 3.0
    assert [len(b) for b in reader.batches] == [2]  # found at once: no second look
    assert cands[2].reader is None

    reader = CountingReader()
    assert read_candidates(reader, "q", ranked(*texts), 2, 1.0) == -3.0  # more=0: as before
    assert [len(b) for b in reader.batches] == [2]
