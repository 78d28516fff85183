"""Sentence hygiene: what is never quoted as an answer sentence, and the label a quote leaves out.

Answers quote sentences of the retrieved passages verbatim (extractive.py). Documents also hold
pieces that the splitter returns as sentences but that answer nothing; `unquotable(text)` names
the first rule that applies, or '' for a sentence that may be quoted:

    citation   a bibliographic fragment: "2012 Jan;17(1):11-7. doi: 10.1258/...", a journal
               line ("J Health Serv Res Policy. 2023 Jan;28(1):5-13."), "Epub 2011 Oct 3."
    contact    an e-mail address, a phone number, or a "Tel:", "Email:", "Contact:" label
    contents   a contents-list line: dot leaders before a page number, or numbered headings
               each followed by a page number
    spliced    table cells run together: a cell separator " | ", the same run of words twice
               (two columns read across, line by line), or a sentence end followed by a
               lower-case word ("the data. percentage of ...")
    spaced     letter-spaced text ("F o r m o r e i n f o r m a t i o n")

`label_end(text)` is the length of a leading section label of a structured abstract
("RESULTS: ", "DESIGN AND SETTING: ", "Methods: ", or with no colon, a whole heading run into
its paragraph: "Results The ...") or of a list item's marker ("• ", "ii) "): the quote starts
after it, so that its offsets stay verbatim (the quote is still document[start:end]).

    >>> unquotable("2012 Jan;17(1):11-7. doi: 10.1258/jhsrp.2011.011010.")
    'citation'
    >>> unquotable("41 in-depth interviews were conducted with managers and GPs (n = 41).")
    ''
    >>> text = "RESULTS: Claims to GP 'added value' centred on their knowledge of patients."
    >>> text[label_end(text):]
    "Claims to GP 'added value' centred on their knowledge of patients."
"""
from __future__ import annotations

import re

WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*"

# ---------------------------------------------------------------- citations

# Pieces of a reference that prose does not hold: a DOI, volume(issue):pages, year;volume,
# an Epub or PMID note, an ISBN.
CITATION_PIECE = re.compile(
    r"\bdoi:?\s*10\.\d{4,}/\S+|\b10\.\d{4,}/\S+"
    r"|\b(?:19|20)\d{2}(?:\s+" + MONTH + r"(?:\s+\d{1,2})?)?\s*;\s*\d+(?:\s*\([^)]{1,12}\))?"
    r"(?:\s*:\s*[a-z]?\d+(?:-[a-z]?\d+)?)?"
    r"|\b\d+\s*\([^)]{1,12}\)\s*:\s*[a-z]?\d+(?:\s*-\s*[a-z]?\d+)?"
    r"|\bEpub\b(?:\s+(?:ahead of print|(?:19|20)\d{2}(?:\s+" + MONTH + r")?(?:\s+\d{1,2})?))?"
    r"|\bPMID:?\s*\d+|\bPMCID:?\s*PMC\d+|\bISBN:?\s*[\d-]{10,17}", re.I)
CITATION_PROSE = 8  # fewer words than this beside the reference's pieces: nothing but a reference


def is_citation(text: str) -> bool:
    """A reference or a piece of one: it holds a DOI, volume(issue):pages and the like, and
    either little else or ends with such a piece (a reference's journal line).

    >>> is_citation("J Health Serv Res Policy. 2023 Jan;28(1):5-13."), is_citation("Epub 2011 Oct 3.")
    (True, True)
    >>> is_citation("Smith J, Jones K. Commissioning in England: a study of twenty-one trusts. BMJ 2012;345:e1234.")
    True
    >>> is_citation("In 2012, 17 of 41 CCGs (41%) had merged: 11 in the North and 6 in London.")
    False
    """
    pieces = list(CITATION_PIECE.finditer(text))
    if not pieces:
        return False
    rest = CITATION_PIECE.sub(" ", text)
    if len(WORDS.findall(rest)) < CITATION_PROSE:
        return True
    return not text[pieces[-1].end():].strip(" .;,)]")  # the sentence ends with the reference


# ---------------------------------------------------------------- contact details

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.\s?[\w-]+)+")
PHONE = re.compile(r"(?<![\d.,])(?:\+44\s?\(?0?\)?\s?\d|\(?0\d)[\d\s()-]{8,14}\d(?![\d.,]\d)")
CONTACT_LABEL = re.compile(r"\b(?:Tel|Telephone|Phone|Mob|Mobile|Fax|E-?mail|Contact)\s*(?:no\.?\s*)?:", re.I)


CONTACT_PROSE = 12  # an address or number with fewer other words than this is a contact line


def is_contact(text: str) -> bool:
    """A contact line: a contact label ("Tel:", "Email:", "Contact:"), or an e-mail address or
    UK phone number with little else (a name and a job title).

    >>> is_contact("Contact: Mike Asher, Project Director - mike.asher@trafford.nhs.uk or 07767-758353")
    True
    >>> is_contact("Tel: 0121 695 2424"), is_contact("The 2012 Act replaced 152 PCTs with 211 CCGs in 2013.")
    (True, False)
    >>> is_contact("Enquiries about the re-use of this information should be sent to: enquiries@nhsdigital.nhs.uk.")
    False
    """
    if CONTACT_LABEL.search(text):
        return True
    found = [m for m in EMAIL.finditer(text)]
    found += [m for m in PHONE.finditer(text) if 10 <= len(re.sub(r"\D", "", m.group(0))) <= 13]
    if not found:
        return False
    rest = text
    for m in found:
        rest = rest.replace(m.group(0), " ")
    return len(WORDS.findall(rest)) < CONTACT_PROSE


# ---------------------------------------------------------------- contents lists

LEADER = re.compile(r"(?:\.\s?){4,}\s*\d{1,3}\b|\s…\s*\d{1,3}\s*$")
CONTENTS_ENTRY = re.compile(r"\b\d+(?:\.\d+)*\.?\s+[A-Z][^.!?\d]{2,80}?\s+\d{1,3}\b")
NUMBERED_HEADING_AND_PAGE = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z][^.!?]{2,100}?\s+\d{1,3}$")


def is_contents(text: str) -> bool:
    """A line of a contents list: dot leaders before a page number, a numbered heading ending
    with a page number, or several numbered headings each followed by one.

    >>> is_contents("3.2 Commissioning ......... 14"), is_contents("3.2 Commissioning and contracting 14")
    (True, True)
    >>> is_contents("1 Introduction 4 2 Background 7 3 Methods 12")
    True
    >>> is_contents("3.2 Commissioning must cover at least 65 procedures a year.")
    False
    """
    text = text.strip()
    return bool(LEADER.search(text) or NUMBERED_HEADING_AND_PAGE.match(text)
                or len(CONTENTS_ENTRY.findall(text)) >= 3)


# ---------------------------------------------------------------- table cells run together

CELL = re.compile(r"\s\|\s")
# A run of two to seven words said twice over with only a space between ("The opportunities The
# opportunities available if all providers available if all providers"): two columns read across.
REPEATED_RUN = re.compile(r"\b([^\W\d_]+(?:\s+[^\W\d_]+){1,6})\s+\1\b", re.I)
NOT_AN_END = {"e", "g", "i", "etc", "al", "vs", "cf", "p", "pp", "no", "fig", "approx", "st", "dr", "mr", "mrs", "ms",
              "prof", "ca", "viz", "ed", "eds", "vol", "www", "co"}
END_THEN_LOWER = re.compile(r"\b([^\W\d_]+)[.?!]\s+[a-z]{3,}\b")


def is_spliced(text: str) -> bool:
    """Table cells run together: a cell separator, a run of words said twice over, or a
    sentence end followed by a lower-case word (not after an abbreviation).

    >>> is_spliced("The opportunities The opportunities available if all providers available if all providers")
    True
    >>> is_spliced("The lowest and highest levels In this case, the average in the data. percentage of surgeries")
    True
    >>> is_spliced("GPs lead, e.g. in Leeds, and nurses support them, i.e. the practice team.")
    False
    >>> is_spliced("iii) Supply chain management Supply chain management is common in manufacturing.")
    False
    """
    if CELL.search(text):
        return True
    for m in END_THEN_LOWER.finditer(text):
        if m.group(1).lower() not in NOT_AN_END and len(m.group(1)) > 1:
            return True
    repeats = list(REPEATED_RUN.finditer(text))
    # One repeat among the first words is a heading run into its paragraph ("Supply chain
    # management Supply chain management is a common element..."): the sentence reads on.
    heading = len(repeats) == 1 and len(WORDS.findall(text[:repeats[0].start(1) + len(repeats[0].group(1))])) <= 8
    return bool(repeats) and not heading


def is_letter_spaced(text: str) -> bool:
    """Text set with a space between letters ("F o r m o r e"): half its words single letters.

    >>> is_letter_spaced("F o r m o r e i n f o r m a t i o n"), is_letter_spaced("A to Z of a B road.")
    (True, False)
    """
    words = WORDS.findall(text)
    return len(words) >= 8 and sum(len(w) == 1 for w in words) >= len(words) / 2


RULES = (("citation", is_citation), ("contact", is_contact), ("contents", is_contents), ("spliced", is_spliced),
         ("spaced", is_letter_spaced))


def unquotable(text: str) -> str:
    """The first rule that keeps a sentence out of answers ('' when it may be quoted)."""
    for name, rule in RULES:
        if rule(text):
            return name
    return ""


# ---------------------------------------------------------------- section labels

LABEL_WORDS = ("background|objectives?|aims?|purpose|introduction|context|design|settings?|participants|methods?|"
               "methodology|interventions?|measurements|main|primary|secondary|outcomes?|measures?|results|findings|"
               "conclusions?|discussion|interpretation|limitations|implications|practice|policy|study|research|"
               "originality|value|approach|summary|key|messages|funding|trial|registration|data|sources|evidence|"
               "synthesis|selection|eligibility|criteria|rationale|significance|exposures?|patients|population|and")
LABEL_TEXT = re.compile(rf"^(?:(?:{LABEL_WORDS})(?:(?:\s+|\s*[/&,]\s*)(?:{LABEL_WORDS}))*)\s*:\s+(?=\S)", re.I)


# The headings of a structured abstract, as they read when a web page's heading and its
# paragraph run together with no colon ("Results The complexity of ...", "Setting Six CCGs ...").
# Only whole headings are known without a colon, in title case, before a capital or a digit.
BARE_LABEL = re.compile(
    r"^(?:Background|Context|Introduction|Objectives?|Aims?|Purpose|Design(?: and setting|/methodology/approach)?|"
    r"Settings?(?: and participants)?|Participants|Methods?|Methodology|Interventions?|Measurements|"
    r"(?:Main|Primary|Primary and secondary|Secondary) outcome measures?|Outcome measures|Results|Findings|"
    r"Conclusions?(?: and relevance)?|Interpretation|Discussion|Practical implications|"
    r"Research limitations/implications|Originality/value|Trial registration) (?=[A-Z0-9])")

# A report's section heading run into its paragraph: "Conclusion – commissioning functions It is clear..."
DASH_HEADING = re.compile(r"^(?:Conclusions?|Summary|Introduction|Background|Overview|Recommendations?|"
                          r"Key (?:points|messages|findings))\s+[–—-]\s+[a-z][a-z ,'’-]{2,60}?\s+(?=(?:[A-Z][a-z]+|A|I)\b)")

# A list item's marker: a bullet or dash, or "i)", "(a)", "b.", "3)", "4." before the item's text.
LIST_MARKER = re.compile(r"^(?:[•▪●◦‣*–—-]|\(?(?:[ivx]{1,4}|[a-h]|\d{1,2})[.)])\s+(?=\S)")


def label_end(text: str) -> int:
    """Length of a leading structured-abstract label and the space after it (0 when none): in
    capitals ("DESIGN AND SETTING: ") or as a heading ("Methods: ", "Main outcome measures: "),
    or a whole heading run into its paragraph without a colon ("Results The ...", "Conclusion –
    commissioning functions It is ..."); or of a list item's marker ("• ", "ii) ", "3. "), which
    a quote leaves out too.

    >>> label_end("DESIGN AND SETTING: In-depth interviews."), label_end("SETTING/PARTICIPANTS: We interviewed 96.")
    (20, 22)
    >>> label_end("Methods: Qualitative case studies."), label_end("Region: Midlands; Region Code: Y60")
    (9, 0)
    >>> label_end("results: lower case is prose"), label_end("Results: ")
    (0, 0)
    >>> label_end("Setting Six CCGs in the East of England."), label_end("Results from the survey were mixed.")
    (8, 0)
    >>> label_end("• Local data often trumped research."), label_end("ii) through using their influence")
    (2, 4)
    >>> label_end("Conclusion – commissioning functions It is clear."), label_end("Summary – the PCTs agreed.")
    (37, 0)
    """
    marker = LIST_MARKER.match(text)
    if marker:
        return marker.end()
    m = LABEL_TEXT.match(text)
    if not m:
        bare = BARE_LABEL.match(text) or DASH_HEADING.match(text)
        return bare.end() if bare else 0
    label = text[:m.end()].rstrip().rstrip(":")
    if not (label.isupper() or (label[0].isupper() and label[1:].islower())):
        return 0
    return m.end()
