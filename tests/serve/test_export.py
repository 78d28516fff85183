"""Exports of a real conversation (issue 25, item 6): answers from the real answerer over the
real index, exported as Markdown and Word. A document cited in two answers lists each of its
sentences once; no title ends in "?." or "…."; PubMed and DOI records are links; a declined
answer keeps the closest passages it found."""
import re
import zipfile
from datetime import datetime

import pytest

from ragcomm.serve import export

QUESTIONS = ["What makes a good commissioning manager?",  # the animateurs paper (a DOI; its title asks)
             "What is an animateur?",  # the same paper's sentences again
             "How do practice managers decide to employ pharmacists and physician associates?",  # PubMed records
             "What is the capital of France?"]  # declined


@pytest.fixture(scope="module")
def conversation(real_answerer):
    turns = [{"question": q, "answer": real_answerer.ask(q).to_dict(), "titles": {}} for q in QUESTIONS]
    assert [t["answer"]["abstained"] for t in turns] == [False, False, False, True]
    return {"id": "c1", "title": "Commissioning managers", "updated": 0, "turns": turns}


def cited(conversation) -> dict:
    """{doc_id: its distinct cited sentences} over the conversation."""
    out: dict = {}
    for turn in conversation["turns"]:
        for c in turn["answer"]["citations"]:
            out.setdefault(c["doc_id"], {})[(c["start"], c["end"])] = c["sentence"]
    return out


def test_markdown(conversation):
    md = export.to_markdown(conversation, now=datetime(2025, 1, 2))
    references = md.split("## References", 1)[1]
    quotes = [line.strip()[2:] for line in references.splitlines() if line.strip().startswith("> ")]
    assert len(quotes) == len(set(quotes))  # each sentence once
    assert len(quotes) == sum(len(s) for s in cited(conversation).values())
    assert "?." not in md and "…." not in md and "...." not in md
    assert "'Animateurs' and animation: what makes a good commissioning manager? " in references
    assert "[doi:10.1258/jhsrp.2011.011010](https://doi.org/10.1258/jhsrp.2011.011010)" in references
    pmids = re.findall(r"\[PMID (\d+)\]\(https://pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/\)", references)
    assert pmids and all(a == b for a, b in pmids)
    assert not re.search(r"(?<!\[)PMID \d+(?!\])", references)  # every PMID a link
    # The declined answer: what it says, then the closest passages with their documents.
    declined = md.split("## 4. What is the capital of France?", 1)[1].split("## References")[0]
    assert "do not appear to answer" in declined
    assert "The closest passages found (not cited, for you to check):" in declined
    closest = conversation["turns"][3]["answer"]["sources"]
    assert closest and all(f"- {export.md_escape(s['title'])}" in declined for s in closest)
    assert declined.count("\n    > ") == len(closest)


def test_word(conversation, tmp_path):
    from docx import Document

    path = export.to_docx(conversation, tmp_path / "c.docx", now=datetime(2025, 1, 2))
    doc = Document(path)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "?." not in text and "…." not in text
    paragraphs = [p.text for p in doc.paragraphs]
    refs_at = paragraphs.index("References")
    quotes = [p for p in paragraphs[refs_at:] if p.startswith("“")]
    assert len(quotes) == len(set(quotes)) == sum(len(s) for s in cited(conversation).values())
    # PMIDs and DOIs are hyperlinks to their records
    with zipfile.ZipFile(path) as z:
        rels = z.read("word/_rels/document.xml.rels").decode()
        body = z.read("word/document.xml").decode()
    targets = re.findall(r'Target="(https://[^"]+)" TargetMode="External"', rels)
    assert "https://doi.org/10.1258/jhsrp.2011.011010" in targets
    assert any(t.startswith("https://pubmed.ncbi.nlm.nih.gov/") for t in targets)
    assert body.count("<w:hyperlink ") == len(targets)
    linked = re.findall(r"<w:hyperlink [^>]*>.*?<w:t>([^<]+)</w:t>", body)
    assert "doi:10.1258/jhsrp.2011.011010" in linked and any(t.startswith("PMID ") for t in linked)
    # the declined answer keeps its closest passages
    declined = paragraphs[paragraphs.index("4. What is the capital of France?"):refs_at]
    assert "The closest passages found (not cited, for you to check):" in declined
    assert sum(p.startswith("“") for p in declined) == len(conversation["turns"][3]["answer"]["sources"])


def test_a_cautioned_answer_says_what_to_check_in_both_exports(conversation, tmp_path):
    """An answer the abstention model was unsure of (outcome 'caution') carries its warning
    into the exports, above the answer, as the chat shows it."""
    from docx import Document

    from ragcomm.answer.abstention import CAUTION_TEXT

    turn = dict(conversation["turns"][0])
    turn["answer"] = dict(turn["answer"], outcome="caution", caution=CAUTION_TEXT)
    cautioned = dict(conversation, turns=[turn, conversation["turns"][1]])
    md = export.to_markdown(cautioned)
    first, second = md.split("## 2. ", 1)
    assert f"**{export.md_escape(CAUTION_TEXT)}**" in first and CAUTION_TEXT not in second
    assert first.index(export.md_escape(CAUTION_TEXT)) < first.index("[1]")
    paragraphs = [p.text for p in Document(export.to_docx(cautioned, tmp_path / "c.docx")).paragraphs]
    at = paragraphs.index(f"1. {turn['question']}")
    assert paragraphs[at + 1] == CAUTION_TEXT and paragraphs.count(CAUTION_TEXT) == 1
