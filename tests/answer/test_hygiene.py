"""Sentence hygiene (issue 22, item 4): citation fragments, contact lines, contents lines, table
cells run together and letter-spaced text are never quoted; a structured-abstract label is left
out of the quote with its offsets verbatim. Each rule on hand-made sentences, then on real
ones: the gold evidence of eval/gold.jsonl and eval/realdocs.jsonl and ordinary prose with
numbers from the corpus must stay quotable."""
import json
from pathlib import Path

import pytest

from ragcomm.answer.sentences import is_answer_sentence, passage_sentences
from ragcomm.answer.hygiene import (is_citation, is_contact, is_contents, is_letter_spaced, is_spliced, label_end,
                                    unquotable)
from ragcomm.chunking import sentence_spans

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"

CITATIONS = [
    "2012 Jan;17(1):11-7. doi: 10.1258/jhsrp.2011.011010.",
    "J Health Serv Res Policy. 2023 Jan;28(1):5-13. doi: 10.1177/13558196221117647. Epub 2022 Aug 18.",
    "J Public Health (Oxf) ; 45(Suppl 1): i54-i62, 2023 12 21.",
    "BMJ Open. 2019 Apr 1;9(3):e024052.",
    "Epub 2011 Oct 3.",
    "PMID: 38127564 PMCID: PMC1234567 doi: 10.1093/pubmed/fdad203",
    "Smith J, Jones K, Patel A. Commissioning in England: a study of twenty-one primary care trusts. BMJ 2012;345:e1234.",
    "ISBN: 978-1-4731-3902-2",
]
CONTACTS = [
    "Contact: Martin McShane, Chief Executive, NE Derbyshire PCT martin.mcshane@nederbypct.nhs.uk",
    "Contact: Steve Allen, 0121 695 2424 or steve.allen@bbcha.nhs.uk this approach).",
    "Jane Doe, Head of Commissioning, NHS Leeds: jane.doe@nhs.net",
    "Tel: 0121 695 2424",
    "Email: enquiries@example.nhs.uk",
    "For further information please telephone 07767-758353 or +44 (0)20 7972 2000.",
    "Phone: (0113) 825 0000, Fax: (0113) 825 0001",
]
CONTENTS = [
    "3.2 Commissioning ......... 14",
    "4. Findings . . . . . . 22",
    "Appendix A – interviewees … 31",
    "3.2 Commissioning and contracting arrangements 14",
    "9.14 Information and advice given 9.15 Plan and requested actions 9.16 Legal information 9.17 Distribution list",
]
SPLICED = [
    "C1.1 | Have you undertaken Clinical Risk Management activities for this product? | Yes | No",
    "The opportunities The opportunities available if all providers available if all providers currently below",
    "The lowest and highest levels In this case, the average in the data. percentage of surgeries that providers cancel.",
    "C4.2 Do you use NHS number to Yes No identify patient record data? because product does not identify it",
    "Achieving lung cancer resection rates Achieving lung cancer resection rates Oxford University Hospitals Oxford "
    "University Hospitals",
]
SPACED = [
    "F o r m o r e i n f o r m a t i o n a b o u t G I R F T, v i s i t o u r w e b s i t e : www.",
    "19% s 18% y a d 17% 0 3 16% in s n 15% io s s i 14% m d a e 13% r % 12%",
]
# Prose that must stay quotable: numbers, years, decimals, abbreviations, URLs, a lone address.
PROSE = [
    "41 in-depth interviews were conducted (n = 41).",
    "Both formal and informal observation were undertaken (150 hours), and 41 in-depth interviews conducted with "
    "managers and general practitioners (GPs).",
    "We observed 74 primary care commissioning committee meetings and their subgroups (approx. 111 hours).",
    "The programme recruited 35 PTPTs to 2-year training posts which involved a minimum of 12 weeks' work-based training.",
    "Typically, a provider would serve a population of 1-3 million, but networks should ensure complete coverage.",
    "The CVA rate following aortovascular surgery (other than on the aortic arch) is 1.03%, whereas the rate "
    "following surgery on the aortic arch is 4.03%.",
    "From 1 January 2021, the UK GDPR applies in the UK in place of the EU GDPR.",
    "Commentators observed that success would depend on robust commissioning systems (James et al, 2002, p.5).",
    "In March 2005, the NHS Alliance and HSMC published a briefing paper (Peck and Freeman, 2005).",
    "Offer fibrinolysis to people with acute STEMI presenting within 12 hours of onset of symptoms if primary PCI "
    "cannot be delivered within 120 minutes.",
    "Any enquiries regarding the use and re-use of this information resource should be sent to: "
    "enquiries@nhsdigital.nhs.uk.",
    "More information regarding virtual wards can be found on the NHS England website: "
    "https://www.england.nhs.uk/virtual-wards/",
    "Region: Midlands; Region Code: Y60; ICB code: QHL; Name: NHS Birmingham and Solihull Integrated Care Board; "
    "Virtual Ward Capacity (see note 1): 170; Occupancy % (see note 5): 0.817647.",
    "A calculation where: Occupancy = Patients in a Virtual Ward / Virtual Ward Capacity (%)",
    "GPs have been involved in commissioning in many ways since fundholding in the 1990s, and claims such as these "
    "are not new.",
    "My greatest hope is that GIRFT will help all those involved to work together, shoulder to shoulder, to create "
    "solutions.",
    "iii) Supply chain management Supply chain management is a common element of procurement within manufacturing.",
    "Prices rose by 2.5% in 2010 and 3.1% in 2011, i.e. about 0.6 points more, e.g. in London.",
]


@pytest.mark.parametrize("text", CITATIONS)
def test_citation_fragments(text):
    assert is_citation(text) and unquotable(text) == "citation"


@pytest.mark.parametrize("text", CONTACTS)
def test_contact_lines(text):
    assert is_contact(text) and unquotable(text) == "contact"


@pytest.mark.parametrize("text", CONTENTS)
def test_contents_lines(text):
    assert is_contents(text) and unquotable(text) == "contents"


@pytest.mark.parametrize("text", SPLICED)
def test_table_cells_run_together(text):
    assert is_spliced(text) and unquotable(text) == "spliced"


@pytest.mark.parametrize("text", SPACED)
def test_letter_spaced_text(text):
    assert is_letter_spaced(text)


@pytest.mark.parametrize("text", PROSE)
def test_prose_with_numbers_stays_quotable(text):
    assert unquotable(text) == "", text


@pytest.mark.parametrize("text,label", [
    ("RESULTS: Many CCGs were reluctant to outsource.", "RESULTS: "),
    ("DESIGN AND SETTING: In-depth interviews with clinicians.", "DESIGN AND SETTING: "),
    ("SETTING/PARTICIPANTS: We conducted 96 interviews.", "SETTING/PARTICIPANTS: "),
    ("Methods: Qualitative case studies were undertaken.", "Methods: "),
    ("Main outcome measures: Collaborative relationships.", "Main outcome measures: "),
    ("CONCLUSION: GPs have been involved since the 1990s.", "CONCLUSION: "),
    ("Region: Midlands; Region Code: Y60", ""),  # a record's field, not a label
    ("Contact: Steve Allen", ""),
    ("NHS: a history of reform.", ""),
    ("Note: the figures are provisional.", ""),
    ("methods: lower case is prose", ""),
    # a web page's heading run into its paragraph, with no colon (ccg-network-leadership-study)
    ("Results The complexity of CCG structures means CCGs differ.", "Results "),
    ("Setting Six clinical commissioning groups in the East of England.", "Setting "),
    ("Main outcome measures Collaborative relationships between board members.", "Main outcome measures "),
    ("Conclusions With the new arrangements, leaders should build networks.", "Conclusions "),
    ("Results from the survey were mixed.", ""),  # prose that starts with a label's word
    ("Settings differ between CCGs.", ""),
    ("Practice Managers were surveyed in 2019.", ""),  # not a whole heading
    ("Design Mixed-method, multisite and case study research.", "Design "),
    # a list item's marker (commissioners-use-of-information-findings: 53 quotes began "• ")
    ("• Local data often trumped research based information.", "• "),
    ("ii) through using their influence and purchasing power", "ii) "),
    ("(a) New PCTs will be held to account.", "(a) "),
    ("3. Commissioners used local data.", "3. "),
    ("- first outpatient appointments, and follow up ratios;", "- "),
    ("2.5% of the budget was held back.", ""),
    ("-5 percent was the change.", ""),
])
def test_section_labels(text, label):
    assert text[:label_end(text)] == label


def test_a_leaning_sentence_takes_no_context_from_a_contact_line_or_heading():
    """"This approach..." is quoted with the sentence before it, but not when that is a contact
    line or a heading (an answer quoted "Contact: Kirstie McLachlan, SPMS Project Director,
    kirstie.mclachlan@hounslowpct.nhs.uk" as the context of the next paragraph)."""
    for before in ("Contact: Jane Smith, Project Director, jane.smith@nhs.net",
                   "5. Conclusion: what needs to be done to put policy into practice?"):
        [s] = passage_sentences(before + "\n\nThis approach cut waiting times by a third in two years.")
        assert s.leans and s.before == ()
    [s] = passage_sentences("Managers adopted a new mode of working in four PCTs.\n\n"
                            "This approach cut waiting times by a third in two years.")[1:]
    assert s.leans and len(s.before) == 1  # prose before it: quoted with it, as before


def test_a_document_title_standing_as_a_line_is_not_quoted():
    """The title line of ccg-network-leadership-study led an answer ("Which theoretical lens did
    the ... study draw on?"); a record known by its opening sentence keeps that sentence."""
    text = (CORPUS / "ccg-network-leadership-study.txt").read_text()[:1200]
    title = text.split("\n", 1)[0]
    assert len(title.split()) >= 12 and is_answer_sentence(title)  # long enough to pass as prose
    quoted = [s.text for s in passage_sentences(text, headings=(title,))]
    assert title not in quoted and quoted[0].startswith("To explore the relational challenges")
    assert title in [s.text for s in passage_sentences(text)]
    opening = "Health policy and funding initiatives have addressed increasing workloads in general practice."
    kept = passage_sentences(opening + " GPs were interviewed in 2019 about it.", headings=(opening,))
    assert [s.text for s in kept][0] == opening


def test_a_label_alone_is_not_a_sentence():
    assert not is_answer_sentence("RESULTS: Yes.") and label_end("RESULTS:") == 0


def test_is_answer_sentence_applies_the_rules():
    assert not is_answer_sentence(CITATIONS[0]) and not is_answer_sentence(CONTACTS[0])
    assert is_answer_sentence("RESULTS: Claims to GP 'added value' centred on their intimate knowledge of patients.")
    assert all(is_answer_sentence(text) for text in PROSE if len(text.split()) >= 12 or text.endswith("."))


def test_passage_quotes_leave_out_the_label_and_the_citation():
    text = (CORPUS / "animateurs-commissioning-managers-2012.txt").read_text()
    sentences = passage_sentences(text)
    quoted = [s.text for s in sentences]
    assert all(text[s.a:s.b] == s.text for s in sentences)  # verbatim at their offsets
    assert not any("doi" in q or "Jan;17" in q for q in quoted)
    assert "To examine the managerial behaviours adopted by commissioning managers in English primary care trusts " \
           "(PCTs), and to explore the impact of these behaviours." in quoted
    assert not any(label_end(q) for q in quoted)
    # the sentence leaning on the one before is quoted with it, from after that one's label
    leaning = next(s for s in sentences if s.text.startswith("Multiple organizational layers"))
    assert not leaning.leans
    framing = next(s for s in sentences if s.text.startswith("To examine"))
    assert framing.framing  # judged with its label ("Objectives:")


def gold_quotes(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["gold.jsonl", "realdocs.jsonl", "realdocs-outside.jsonl"])
def test_no_gold_evidence_is_kept_out(name):
    """The evidence the answer should quote (real sentences of the corpus and the real documents)
    passes every rule, sentence by sentence."""
    rows = [r for r in gold_quotes(ROOT / "eval" / name) if r.get("answerable", True) and r.get("evidence")]
    assert len(rows) > 20
    for row in rows:
        evidence = row["evidence"]
        for a, b in sentence_spans(evidence):
            sentence = evidence[a:b]
            assert unquotable(sentence[label_end(sentence):]) == "", (row["id"], sentence)


def test_corpus_prose_with_numbers_stays_quotable():
    """Every sentence of the seed corpus that holds a number and reads as prose (ends with a full
    stop, 12 words or more) is quotable, but for contact lines spliced into prose and the
    animateur paper's citation line."""
    kept_out = []
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text()
        for a, b in sentence_spans(text):
            sentence = text[a:b]
            body = sentence[label_end(sentence):]
            if any(ch.isdigit() for ch in body) and body.endswith(".") and len(body.split()) >= 12:
                if unquotable(body):
                    kept_out.append(body)
    known = ("Contact:", "J Health Serv Res Policy. 2012 Jan;17(1):11-7.")
    assert kept_out and all(s.startswith(known) for s in kept_out), kept_out


@pytest.mark.slow
def test_the_animateur_answer_quotes_no_citation(real_answerer):
    """The chat's known case: "What is an animateur?" quoted "2012 Jan;17(1):11-7. doi: ..."."""
    answer = real_answerer.ask("What is an animateur?")
    assert answer.citations
    documents = real_answerer.retriever.index.documents
    for c in answer.citations + answer.more:
        assert unquotable(c.sentence) == "" and not label_end(c.sentence)
        assert documents[c.doc_id]["text"][c.start:c.end] == c.sentence
