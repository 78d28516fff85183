"""What a document is: its title and its year, from the best evidence the document holds.

Years, strongest evidence first (the first that is found counts; `year_evidence` keeps the
words it came from, `updated` a later revision's year):

1. a publication line: "Date published July 2024", "Published: 18 November 2020",
   "Publication date ...", "First published ..." - on the cover page, in the running headers
   and footers, or near the top of a document without pages;
2. a journal citation near the top ("J Health Serv Res Policy. 2012 Jan;17(1):11-7. doi: ...",
   found by records.py);
3. a dated cover page: a short line of the first page that holds a date ("JULY 2017",
   "Clinical Lead | March 2018", "Version 1.0 22 February 2021");
4. a year in the file's name that the text names too ("...-report-2006.txt" whose text
   speaks of 2006);
5. a copyright line near the top or in the running footers ("© NHS Digital 2017");
6. the file's own properties (PDF, Word or Excel creation date), the weakest: a copy saved
   later carries the later date.

Titles: the reader's choice (metadata, the largest text on page 1, the first heading), put
right where it is a form's heading ("... SERVICE SPECIFICATION TEMPLATE": the form's
"Service name" field names the document) or set in capitals (recased as the text writes
its words).

    >>> publication_year(cover="NICE guideline Published: 18 November 2020")
    (2020, 'Published: 18 November 2020', None)
    >>> title_from_form("NEW SERVICE SPECIFICATION TEMPLATE", "1. Service name | Cardiac Surgery")
    'Cardiac Surgery service specification'
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

MONTH = (r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
YEAR = r"(19[5-9]\d|20[0-4]\d)"
S = r"[^\S\n]"  # a space within a line
DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?{S}*)"
# "18 November 2020", "16th April 2021", "July 2024", "March2018", "2024-07-04", "04/07/2024", or a bare year
DATE = (rf"(?:{DAY}?{MONTH}\.?,?{S}*{DAY}?,?{S}*{YEAR}\b|{YEAR}-\d\d-\d\d\b|\d{{1,2}}[/.]\d{{1,2}}[/.]{YEAR}\b"
        rf"|{YEAR}\b)")
PUBLISHED = re.compile(rf"\b(?:date{S}+(?:first{S}+)?published|date{S}+of{S}+(?:publication|issue)|publication{S}+date"
                       rf"|(?:first{S}+)?published(?:{S}+(?:on|in))?|issued(?:{S}+(?:on|in))?|date{S}+issued)"
                       rf"{S}*[:|-]?{S}*(?P<date>{DATE})", re.I)
UPDATED = re.compile(rf"\b(?:last{S}+)?(?:updated|revised|amended)(?:{S}+(?:on|in))?{S}*[:|-]?{S}*(?P<date>{DATE})",
                     re.I)
# Words before a date that make it another date than the document's own (or a date in a sentence).
NOT_PUBLICATION = re.compile(r"\b(updated|revised|amended|review|reviewed|expires?|expiry|due|next|until|by|from|since|"
                             r"before|after|launched|effective|valid|in|on|of|for|at|to|during|between|and)\b\s*:?\s*$",
                             re.I)
COVER_DATE = re.compile(rf"{DAY}?{MONTH}\.?,?{S}*{YEAR}\b", re.I)
# a copyright line or table cell ("© NICE 2025. All rights ...", "© 2024 Crown Copyright"), not one quoted in a sentence
COPYRIGHT = re.compile(rf"(?:^|\|){S}*(?:(?:©|\(c\)|copyright){S}*[^\n\d]{{0,60}}?{YEAR}\b|{YEAR}{S}*(?:©|crown copyright))",
                       re.I | re.M)
FILE_YEAR = re.compile(r"(?<![0-9])(19[5-9]\d|20[0-4]\d)(?![0-9])")
TOP = 6000  # characters of a document without pages that count as its top


def year_of(date_text: str) -> int | None:
    m = re.search(YEAR, date_text)
    return int(m.group(1)) if m else None


def publication_year(cover: str = "", furniture: list | None = None, top: str = "", citation_year: int | None = None,
                     file_name: str = "", text: str = "", file_dates: list | None = None):
    """(year, the words it was read from, the year of a later update or None), or
    (None, '', None) when nothing in the document dates it.

    cover: the first page's text (or the top lines of a document without pages);
    furniture: running headers and footers; top: the first part of the text, where a
    "Published: ..." line also counts;
    citation_year: from a journal citation near the top; file_name: the file's name;
    text: the whole text (to confirm a year in the name); file_dates: the file's own
    creation dates, ISO or PDF form ('D:20240704...').

    >>> publication_year(furniture=["Guidance (DTAC) - Version 1.0 22 February 2021. Last updated: 16th April 2021"])
    (2021, 'Version 1.0 22 February 2021.', None)
    >>> publication_year(file_name="hsmc-pct-commissioning-report-2006.txt", text="In 2006, PCTs ...")
    (2006, 'hsmc-pct-commissioning-report-2006.txt', None)
    >>> publication_year(file_name="plan-2031.txt", text="nothing dated")
    (None, '', None)
    """
    furniture = [f for f in (furniture or []) if f]
    places = [cover, *furniture, top]
    updated = None
    for place in places:
        for m in UPDATED.finditer(place or ""):
            y = year_of(m.group("date"))
            if y and (updated is None or y > updated):
                updated = y

    def done(year, words):
        return year, " ".join(words.split())[:120], updated if updated and updated > year else None

    for place in places:  # 1. a publication line: a label ("Published: ..."), not a sentence ("... was published in")
        for m in PUBLISHED.finditer(place or ""):
            y = year_of(m.group("date"))
            line = place[place.rfind("\n", 0, m.start()) + 1:m.start()]
            label = m.group(0)[0].isupper() and not re.search(r"\b(was|were|is|are|been|be|being)\s*$", line, re.I)
            if place is top and place not in (cover, *furniture):  # in the text, only a line that starts with it
                label = label and not re.sub(r"^\s*(\d+[.)]|[•*-])?\s*", "", line)
            if y and label:
                return done(y, m.group(0).replace(" | ", " "))
    if citation_year:  # 2. a journal citation near the top
        return done(citation_year, "the journal citation")
    for place in (cover, *furniture):  # 3. a dated cover page: a short line (or cell) that ends in a date
        for line in (place or "").split("\n"):
            for cell in re.split(r"\s[|–-]\s|(?<=\.)\s+(?=[A-Z])", line):
                m = COVER_DATE.search(cell)
                if not m or len(cell.split()) > 12 or cell[m.end():].strip(" .,;)") \
                        or NOT_PUBLICATION.search(cell[:m.start()]):
                    continue
                return done(year_of(m.group(0)), cell.strip())
    name = Path(file_name).stem
    for y in dict.fromkeys(FILE_YEAR.findall(name)):  # 4. the file's name, when the text names that year too
        if re.search(rf"(?<![0-9]){y}(?![0-9])", text):
            return done(int(y), Path(file_name).name)
    for place in (cover, *furniture, text[-1000:]):  # 5. a copyright line (a web page's is at its foot)
        m = COPYRIGHT.search(place or "")
        if m:
            return done(int(m.group(1) or m.group(2)), m.group(0).strip(" |"))
    for date in file_dates or []:  # 6. the file's own properties
        m = re.match(r"^(?:D:)?(19[5-9]\d|20[0-4]\d)", str(date or ""))
        if m:
            return done(int(m.group(1)), "the file's creation date")
    return None, "", None


# ---------------------------------------------------------------- titles

# The kinds of document a form's heading names ("... SERVICE SPECIFICATION TEMPLATE").
DOCUMENT_KINDS = ("service specification", "business case", "standard operating procedure", "specification",
                  "policy", "guidance", "guideline", "strategy", "plan", "report", "protocol", "framework",
                  "agreement", "contract", "proposal", "assessment", "review", "evaluation", "minutes")
NAME_FIELD = re.compile(r"^\s*(?:\d+[.)]\s*)?(?:[A-Za-z]+\s+){0,2}(?:name|title)\s*(?:\||:)\s*(?P<value>\S.{1,150})$",
                        re.I | re.M)


def title_from_form(title: str, cover: str) -> str:
    """A form's heading ("... TEMPLATE") is not the document's title: the form's name field
    on the cover is, with the kind of document the heading names; else the title as given."""
    if not re.search(r"\btemplate\b", title, re.I):
        return title
    m = NAME_FIELD.search(cover)
    if not m:
        return title
    value = m.group("value").split(" | ")[0].strip().rstrip(".")
    heading = re.sub(r"\btemplate\b", "", title, flags=re.I).strip().lower()
    kind = next((k for k in DOCUMENT_KINDS if heading.endswith(k)), "")
    return f"{value} {kind}".strip() if kind and kind not in value.lower() else value


def recased(title: str, text: str) -> str:
    """A title set in capitals, written as the document's text writes its words: an acronym
    the text keeps in capitals stays so, other words take the text's usual form.

    >>> recased("OUTPATIENT LETTER STANDARDS FOR THE NHS", "The outpatient letter ... NHS letter standards")
    'Outpatient letter standards for the NHS'
    >>> recased("Cardiac Surgery", "anything")
    'Cardiac Surgery'
    """
    letters = [c for c in title if c.isalpha()]
    if len(letters) < 8 or any(c.islower() for c in letters):
        return title
    forms: dict[str, Counter] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z'’-]*", text[:200_000]):
        forms.setdefault(word.lower(), Counter())[word] += 1

    def one(word: str, first: bool) -> str:
        seen = forms.get(word.lower())
        if seen:  # the text's usual form, a sentence-initial capital not counted as the usual one
            lower, upper = seen.get(word.lower(), 0), seen.get(word.upper(), 0)
            capital = seen.get(word[:1].upper() + word[1:].lower(), 0)
            if upper > lower + capital:
                form = word.upper()
            elif capital > 2 * lower and capital >= 2:
                form = word[:1].upper() + word[1:].lower()
            else:
                form = word.lower()
        else:
            form = word if not re.search(r"[AEIOUY]", word) else word.lower()
        return form[:1].upper() + form[1:] if first else form

    out, first = [], True
    for token in re.split(r"([A-Za-z][A-Za-z'’-]*)", title):
        if token and token[0].isalpha():
            out.append(one(token, first))
            first = False
        else:
            out.append(token)
    return "".join(out)
