"""Definition questions ("What is practice based commissioning?", "what does commissioning mean",
"define PBC") and the sentences that define their term.

A definition question asks for a sentence that says what its term is: the term as the subject of
its clause followed by "is a / an / the", "means", "refers to", "entails", "consists of"...
("Commissioning is the set of linked activities..."; not "GIRFT is delivered in partnership..."), the words an acronym stands for with the
acronym in brackets ("Practice based commissioning (PBC) is the second major plank..."), or the
term after "called", "known as", "termed" ("a managerial mode that we have called being an
'animateur'"), or the term in quotes before "is a" ("Defining commissioning 'Commissioning' is a
function..."). The term must open its clause: "...the accountability framework for practice
based commissioning is in contrast..." is about something else. choice.py gives a defining
sentence the bonus of the asked-for kind of fact; when none of the retrieved passages holds one,
the `Answerer` (extractive.py) looks a little further down the fused ranking for a passage that
does, and its reader reads the question as "What is TERM?".

    >>> definition_term("What is practice based commissioning?"), definition_term("what are CSUs")
    ('practice based commissioning', 'CSUs')
    >>> definition_term("What is the risk for a CCG if its local GPs aren't on board?")
    ''
    >>> defines("In this way, practice based commissioning is a system of devolved micro-purchasers.",
    ...         "practice based commissioning")
    True
    >>> defines("The accountability framework for practice based commissioning is in contrast to it.",
    ...         "practice based commissioning")
    False
    >>> defines("Practice based commissioning (PBC) is the second major plank of policy.", "PBC")
    True
"""
from __future__ import annotations

import re

LEAD = r"^\s*(?:(?:so|and|but|ok|okay)\s*,?\s+)?"
TERM = r"['‘\"“]?(?P<term>[^?]{2,80}?)['’\"”]?"
END = r"\s*[?.!]*\s*$"
QUESTIONS = [re.compile(LEAD + p + END, re.I) for p in (
    r"what(?:'s|’s|s| is| are)(?: meant by| the meaning of| the definition of)? (?:an? |the )?" + TERM,
    r"what (?:does|do) (?:the (?:term|word|phrase) )?" + TERM + r" (?:actually |really )?(?:mean|stand for)"
    r"(?P<where> in [^?]{2,60})?",
    r"(?:please )?define (?:the (?:term|word|phrase) )?" + TERM,
    r"(?:meaning|definition) of " + TERM,
    TERM + r" (?:meaning|definition)",
)]
CONTEXT = re.compile(r"^(?P<term>.+?)\s+(?:in|within)\s+(?:the\s+)?(?:NHS|England|commissioning|primary care|"
                     r"general practice|health ?care|the health service|(?-i:[A-Z]+[a-z]?[A-Z]+))$", re.I)  # an acronym: GPFV, PbC
PRONOUNS = {"it", "this", "that", "they", "these", "those", "he", "she", "we", "you", "there", "i"}
MAX_TERM_WORDS = 5  # "What is the minimum CCG contribution to the Better Care Fund?" asks for a fact

# "X is a / an / the ...", not "X is delivered in partnership with..." (a passive says what is
# done with X, not what X is), or a verb that says what X is or holds.
COPULA = (r"(?:(?:is|are)\s+(?:\w+ly\s+)?(?:a|an|the|one)\b|refers? to|means?|denotes?|tends? to denote|"
          r"describes|entails|involves|consists? of|consisted of|comprises|(?:is|are) defined as)\b")
OPENER = r"^(?:[^,;:()]{1,60},\s*)?(?:(?:the|a|an)\s+)?"  # "In this way, ", "The "
QUOTE = r"['‘’\"“”]?"
NAMING = r"\b(?:called|known as|termed|defined as|referred to as)\s+(?:being\s+)?(?:an?\s+|the\s+)?"


def definition_term(question: str) -> str:
    """The term a definition question asks about ('' for any other question)."""
    return definition_question(question)[0]


def definition_question(question: str) -> tuple[str, str]:
    """(term, the question as "What is TERM?") for a definition question, ('', question) for
    any other. The reader, trained on questions people ask, scores a definition higher for
    "What is PBC?" (0.06) than for "define PBC" (-2.17) or "what does PBC stand for" (-1.79).

    >>> definition_question("what does skill mix mean in the GPFV")
    ('skill mix', 'What is skill mix in the GPFV?')
    >>> definition_question("whats an animateur in commissioning"), definition_question("what is PBC in the NHS")
    (('animateur', 'whats an animateur in commissioning'), ('PBC', 'what is PBC in the NHS'))
    >>> definition_question("What is an animateur?"), definition_question("Why did GPs leave?")
    (('animateur', 'What is an animateur?'), ('', 'Why did GPs leave?'))
    """
    for n, pattern in enumerate(QUESTIONS):
        m = pattern.match(question)
        if m:
            term = m.group("term").strip(" '‘’\"“”")
            where = CONTEXT.match(term)  # "an animateur in commissioning": the term is "animateur"
            term = where.group("term").strip(" '‘’\"“”") if where else term
            words = term.split()
            if 1 <= len(words) <= MAX_TERM_WORDS and words[0].lower() not in PRONOUNS:
                if n == 0:  # already "What is ...?"
                    return term, question
                return term, f"What is {term}{m.groupdict().get('where') or ''}?"
    return "", question


def flexible(term: str) -> str:
    """A pattern for the term however it is hyphenated or spaced, in the singular or plural."""
    words = re.findall(r"[^\W_]+", term)
    return r"[\s\-–]+".join(re.escape(w) for w in words) + r"(?:s|es)?"


def expansion(acronym: str) -> str | None:
    """A pattern for the words an acronym stands for (one per capital, small words between),
    or None when the term is not an acronym.

    >>> bool(re.fullmatch(expansion("PbC"), "Practice based commissioning", re.I)), expansion("animateur")
    (True, None)
    """
    word = acronym[:-1] if len(acronym) > 2 and acronym.endswith("s") and acronym[-2].isupper() else acronym
    if not (word.isalpha() and 2 <= len(word) <= 6 and word[0].isupper() and sum(ch.isupper() for ch in word) >= 2):
        return None  # "PBC", "CSUs", "PbC"; not "Commissioning"
    return r"[\s\-–]+(?:(?:and|of|for|the|in|to|&)[\s\-–]+)?".join(rf"{ch}[\w’']*" for ch in word)


def defines(sentence: str, term: str) -> bool:
    """Whether the sentence says what the term is (module docstring)."""
    t = flexible(term)
    patterns = [OPENER + rf"{QUOTE}{t}{QUOTE}(?:\s*\([^)]{{1,30}}\))?{QUOTE}\s*,?\s*{COPULA}",
                rf"[‘'\"“]{t}(?:…|\.\.\.)?[’'\"”]?\s*,?\s*{COPULA}",  # the term in quotes, anywhere
                NAMING + rf"{QUOTE}{t}{QUOTE}"]
    long = expansion(term.strip())
    if long:
        patterns.append(OPENER + rf"{QUOTE}{long}{QUOTE}\s*\(\s*{t}\s*\){QUOTE}\s*,?\s*{COPULA}")
    return any(re.search(p, sentence, re.I) for p in patterns)
