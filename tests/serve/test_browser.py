"""The chat in a real headless browser (Debian chromium driven by Playwright), at laptop
(1366 px) and phone (390 px) widths: every control, with screenshots in tests/artifacts/
and no console error. Regression tests for opening Options (year fields were 0 and every
question failed) and for year ranges that silently dropped undated documents."""
import json
import re
from pathlib import Path

import pytest
from conftest import ARTIFACTS, AXE, ask, serious_violations

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TIMEOUT = 60_000  # ms, generous for a loaded CI machine; nothing here asserts on time
expect.set_options(timeout=TIMEOUT)  # every expect() waits as long as the page does
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

class Page:
    """A page in a fresh browser context, recording console errors (asserted empty on close)."""

    def __init__(self, browser, url, viewport, **context):
        self.context = browser.new_context(viewport=viewport, **context)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.set_default_timeout(TIMEOUT)
        self.page.goto(url, timeout=TIMEOUT)
        self.page.locator("#question textarea").wait_for()
        expect(self.page.locator("#filters-line")).to_contain_text("searching all")  # restored and ready

    def close(self):
        self.context.close()
        assert not self.errors, self.errors


@pytest.fixture
def open_page(browser, app_url):
    pages = []

    def make(viewport=LAPTOP, url=app_url, **context):
        pages.append(Page(browser, url, viewport, **context))
        return pages[-1].page

    yield make
    for p in pages:
        p.close()



def no_error_badges(page):
    """What opening Options used to cause: an error toast and Error badges on components."""
    assert page.locator(".toast-body.error, [data-testid='toast-body']").count() == 0
    assert "less than minimum value" not in page.content()


def test_ask_and_click_a_citation_on_a_laptop(open_page):
    page = open_page()
    expect(page.locator("#conversation .rc-empty")).to_be_visible()
    turn = ask(page, "What makes a good commissioning manager?")
    answer = turn.locator(".rc-answer")
    # The answer's first sentence is in view without scrolling anything.
    expect(answer).to_be_in_viewport()
    assert answer.evaluate("a => { const r = a.getBoundingClientRect(); return r.top >= 0 && r.top + 40 < innerHeight }")
    cite = turn.locator(".rc-cite").first
    expect(cite).to_have_text("[1]")
    assert cite.get_attribute("aria-label").startswith("Source 1: ")
    # One card per source document, each with its cited sentences.
    cards = page.locator("#sources .rc-sources:not([hidden]) .rc-card")
    titles = [t.strip() for t in cards.locator("h4").all_inner_texts()]
    assert len(titles) == len(set(titles)) >= 1
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.inner_text())}
    assert markers == set(range(1, cards.count() + 1))
    page.locator("#sources").evaluate("e => e.scrollIntoView()")  # move away, then click [n]
    last = turn.locator(".rc-cite").last
    n = last.inner_text().strip("[]")
    page.evaluate("window.scrollTo(0, 0)")
    last.click()
    card = page.locator(f"#card-1-{n}")
    expect(card).to_be_in_viewport()
    expect(card).to_have_class(re.compile("rc-flash"))
    expect(card).to_be_focused()
    # The card quotes the cited sentence and links to it in the document.
    quote = card.locator(".rc-quote").first.inner_text().strip()
    assert " ".join(quote.split())[:50] in " ".join(answer.inner_text().split())
    link = card.get_by_role("link", name=re.compile("Open at the cited sentence"))
    href = link.get_attribute("href")
    assert href.startswith("view/") and "cite=" in href and link.get_attribute("target") == "_blank"
    # Retrieval evidence only behind "Why this source", in words.
    # (a card holds every cited passage of its document: the first one's evidence)
    evidence = card.locator(".rc-evidence").first
    expect(evidence).to_be_hidden()
    card.locator("summary").first.click()
    expect(evidence).to_contain_text("Exact words")
    expect(evidence).to_contain_text("Meaning")
    page.screenshot(path=str(ARTIFACTS / "chat-laptop.png"), full_page=True)

    # The link opens the document's text with the cited sentences highlighted, the card's first
    # quote (the answer's lead, wherever it lies in the text) in view.
    with page.context.expect_page() as new:
        link.click()
    doc = new.value
    doc.wait_for_load_state()
    assert doc.locator("mark").count() == card.locator(".rc-quote").count()
    mark = doc.locator("mark#cited-1")
    expect(mark).to_be_in_viewport()
    expect(mark).to_be_focused()
    assert " ".join(mark.inner_text().split())[:50] == " ".join(quote.split())[:50]
    doc.screenshot(path=str(ARTIFACTS / "source-document-laptop.png"))
    doc.close()


def test_an_answer_given_before_the_page_finished_loading_stays(browser, app_url):
    """On a busy server the page-load step (restoring saved conversations, through Gradio's
    queue) can finish after the first question was answered (which skips the queue): it used to
    wipe that answer and its sources. Here the step is held until the answer is on the page."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    held = []
    join = re.compile(r".*/queue/join.*")

    def hold(route):
        held.append(route)

    page.route(join, hold)
    page.goto(app_url, timeout=TIMEOUT)
    page.locator("#question textarea").wait_for()
    for _ in range(TIMEOUT // 50):  # until the page-load step has been sent (and is held)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never sent its page-load step through Gradio's queue"
    turn = ask(page, "What makes a good commissioning manager?")
    expect(turn.locator(".rc-cite").first).to_be_visible()
    expect(page.locator("#sources .rc-card").first).to_be_visible()
    expect(page.locator("#filters-line")).not_to_contain_text("searching all")  # only the held step says this
    for route in held:
        route.continue_()
    page.unroute(join)
    expect(page.locator("#filters-line")).to_contain_text("searching all")  # its outputs are on the page
    expect(page.locator("#conversation .rc-turn")).to_have_count(1)
    expect(page.locator("#conversation .rc-turn .rc-cite").first).to_be_visible()
    expect(page.locator("#sources .rc-card").first).to_be_visible()
    context.close()


def test_abstract_cards_have_a_title_and_record_links(open_page):
    page = open_page()
    ask(page, "How do practice managers decide to employ pharmacists and physician associates?")
    cards = page.locator("#sources .rc-sources:not([hidden]) .rc-card")
    pubmed = cards.filter(has=page.get_by_role("link", name=re.compile("PubMed record")))
    expect(pubmed.first).to_be_visible()
    title = pubmed.first.locator("h4").inner_text()
    assert "(PMID" not in title and "ABSTRACT" not in title  # not "BMJ Open 2019 (PMID ...) - ABSTRACT"
    href = pubmed.first.get_by_role("link", name=re.compile("PubMed record")).get_attribute("href")
    assert re.fullmatch(r"https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/", href)
    expect(pubmed.first.locator(".rc-meta")).to_contain_text("PMID")


def test_phone_citation_opens_a_pop_over(open_page):
    page = open_page(PHONE)
    turn = ask(page, "What makes a good commissioning manager?")
    expect(turn.locator(".rc-answer")).to_be_in_viewport()
    cite = turn.locator(".rc-cite").first
    cite.click()
    dialog = page.locator("dialog#rc-pop")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".rc-quote").first).to_be_visible()
    expect(dialog.get_by_role("link", name=re.compile("Open at the cited sentence"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "chat-phone-source.png"))
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(cite).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"), full_page=True)


def test_options_regression_and_every_filter(open_page):
    page = open_page()
    page.get_by_text("Options").click()  # used to turn the year fields into 0 and break every question
    expect(page.locator("#year-from")).to_be_visible()
    no_error_badges(page)
    line = page.locator("#filters-line")
    expect(line).to_contain_text("No filters: searching all 22 documents")
    turn = ask(page, "What makes a good commissioning manager?")  # Options open: still answers
    expect(turn.locator(".rc-cite").first).to_be_visible()
    no_error_badges(page)

    def choose(elem_id, option):
        page.locator(f"#{elem_id} input").click()
        exact = {"exact": True} if isinstance(option, str) else {}
        page.locator(f"#{elem_id}").get_by_role("option", name=option, **exact).click()
        page.locator("#filters-line").click()  # close the list

    # A year range keeps undated documents unless asked not to, and says so.
    choose("year-from", "2015")
    expect(line).to_contain_text("from 2015")
    expect(line).to_contain_text("undated documents kept")
    expect(line).to_contain_text("left out by year")
    turn = ask(page, "How did commissioners use academic research and local data?")
    expect(turn.locator(".rc-turn-note")).to_contain_text("from 2015")
    # The undated web page on commissioners' use of information is still found.
    expect(page.locator("#sources .rc-sources:not([hidden])")).to_contain_text("Commissioners use of information")
    page.locator("#keep-undated input").uncheck()
    expect(line).to_contain_text("undated documents left out")
    # A reversed range is put right and explained.
    choose("year-to", "2012")
    expect(line).to_contain_text("wrong way round")
    expect(line).to_contain_text("2012 to 2015")
    page.locator("#keep-undated input").check()
    page.screenshot(path=str(ARTIFACTS / "options-laptop.png"), full_page=True)
    choose("year-from", "Any year")
    choose("year-to", "Any year")
    expect(line).to_contain_text("No filters")

    # Kinds of document.
    page.locator("#kinds").get_by_label("Research abstracts").check()
    expect(line).to_contain_text("kind: abstract")
    turn = ask(page, "What do GPs bring to commissioning?")
    sources = page.locator("#sources .rc-sources:not([hidden])")
    for meta in sources.locator(".rc-meta").all_inner_texts():
        assert meta.startswith("Abstract"), meta
    page.locator("#kinds").get_by_label("Research abstracts").uncheck()

    # Only one document.
    choose("only-documents", re.compile("^Leadership of healthcare commissioning networks"))
    expect(line).to_contain_text("1 chosen document")
    ask(page, "What do leaders of networks need to consider?")
    titles = set(page.locator("#sources .rc-sources:not([hidden]) .rc-card h4").all_inner_texts())
    assert titles and all("Leadership of healthcare commissioning networks" in t for t in titles), titles

    # Each way of matching, and how many passages.
    page.locator("#only-documents").get_by_role("button", name=re.compile("Remove|×|Clear")).first.click()
    for label in ("Match exact words", "Match meaning", "Both: exact words and meaning (recommended)"):
        page.locator("#mode").get_by_label(label).check()
        turn = ask(page, "What is practice based commissioning?")
        expect(turn.locator(".rc-answer")).not_to_be_empty()
        card = page.locator("#sources .rc-sources:not([hidden]) .rc-card").first
        card.locator("summary").click()
        evidence = card.locator(".rc-evidence").first.inner_text()
        if label == "Match exact words":
            assert "Exact words" in evidence
    slider = page.locator("#passages input[type=number]")
    slider.fill("2")
    slider.press("Enter")
    turn = ask(page, "What is practice based commissioning?")
    passages = page.locator("#sources .rc-sources:not([hidden]) .rc-passage-head")
    assert 1 <= passages.count() <= 2
    no_error_badges(page)


def test_conversation_turns_history_and_new_conversation(open_page):
    page = open_page()
    first = ask(page, "What is practice based commissioning?")
    second = ask(page, "what did GPs think of that?")
    expect(second.locator(".rc-turn-note")).to_contain_text("Follow-up searched as")
    expect(page.locator('#sources .rc-sources[data-turn="2"]')).to_be_visible()
    # An older answer keeps its own sources: choose it, see them.
    first.get_by_role("button", name=re.compile("Show its")).click()
    expect(page.locator('#sources .rc-sources[data-turn="1"]')).to_be_visible()
    expect(page.locator('#sources .rc-sources[data-turn="2"]')).to_be_hidden()
    expect(first).to_have_class(re.compile("rc-active"))
    first.locator(".rc-cite").first.click()
    expect(page.locator("#card-1-1")).to_be_in_viewport()

    # Kept in the browser: a reload restores the conversation and lists it.
    page.reload()
    expect(page.locator("#conversation .rc-turn")).to_have_count(2, timeout=TIMEOUT)
    expect(page.locator("#conversation .rc-turn").first).to_contain_text("What is practice based commissioning?")
    page.get_by_text("Your conversations").click()
    page.locator("#saved-list input").click()
    expect(page.get_by_role("option", name=re.compile("What is practice based commissioning"))).to_be_visible()
    page.keyboard.press("Escape")

    # New conversation: everything back to the start, and no leak into the next follow-up.
    page.locator("#new-conversation").click()
    expect(page.locator("#conversation .rc-empty")).to_be_visible()
    expect(page.locator("#sources .rc-empty")).to_be_visible()
    turn = ask(page, "what did GPs think of that?")
    expect(turn.locator(".rc-q")).to_have_text(re.compile("what did GPs think of that"))
    expect(turn).not_to_contain_text("Follow-up searched as")  # the old conversation does not leak in
    page.reload()
    expect(page.locator("#conversation .rc-turn")).to_have_count(1, timeout=TIMEOUT)

    # Open the earlier conversation from the list, then delete it.
    page.get_by_text("Your conversations").click()
    page.locator("#saved-list input").click()
    page.get_by_role("option", name=re.compile("What is practice based commissioning")).click()
    page.locator("#open-conversation").click()
    expect(page.locator("#conversation .rc-turn")).to_have_count(2, timeout=TIMEOUT)
    page.locator("#saved-list input").click()
    page.get_by_role("option", name=re.compile("What is practice based commissioning")).click()
    page.locator("#delete-conversation").click()
    expect(page.locator("#status")).to_contain_text("Deleted")
    kept = json.loads(page.evaluate("localStorage.getItem('ragcomm:list')"))
    assert [c["title"] for c in kept] == ["what did GPs think of that?"]


def test_examples_copy_and_export(open_page, tmp_path):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.locator("#example-4").click()  # an example asks at once
    turn = page.locator("#conversation .rc-turn").last
    expect(turn.locator(".rc-q")).to_contain_text("What is practice based commissioning?", timeout=TIMEOUT)
    turn.get_by_role("button", name="Copy answer").click()
    expect(turn.locator(".rc-copied")).to_contain_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1]" in copied and "\\" not in copied and "&amp;" not in copied and "<" not in copied

    page.locator("#export").click()
    with page.expect_download() as md:
        page.locator("#download-md").click()
    markdown = Path(md.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# What is practice based commissioning?")
    assert "## References" in markdown and "\n1. " in markdown and "[1]" in markdown
    with page.expect_download() as docx:
        page.locator("#download-docx").click()
    from docx import Document

    text = "\n".join(p.text for p in Document(docx.value.path()).paragraphs)
    assert "References" in text and "[1]" in text and "What is practice based commissioning?" in text


def test_empty_question_and_html_in_a_question(open_page):
    page = open_page(PHONE)
    page.locator("#question textarea").fill("   ")
    page.locator("#ask").click()
    expect(page.locator("#status")).to_contain_text("Type a question first")
    turn = ask(page, '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> What is an animateur?')
    expect(turn.locator(".rc-q")).to_contain_text('<img src=x onerror="window.pwned=1">')
    assert page.evaluate("window.pwned") is None


def test_unanswerable_question_says_so(open_page):
    page = open_page()
    turn = ask(page, "What is the capital of France?")
    expect(turn.locator(".rc-answer.rc-abstain")).to_contain_text("do not appear to answer")
    expect(page.locator("#sources .rc-sources:not([hidden])")).to_contain_text("Closest passages")
    expect(page.locator("#sources .rc-card .rc-note").first).to_contain_text("Not cited")
    page.screenshot(path=str(ARTIFACTS / "chat-abstain.png"), full_page=True)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make axe)")
def test_no_serious_accessibility_violations(open_page):
    for viewport in (LAPTOP, PHONE):
        page = open_page(viewport)
        ask(page, "What makes a good commissioning manager?")
        page.get_by_text("Options").click()
        expect(page.locator("#year-from")).to_be_visible()
        page.wait_for_timeout(1500)  # let transitions settle before measuring colours
        serious = serious_violations(page)
        assert not serious, serious
        # Citations are real buttons with names.
        names = page.locator(".rc-cite").evaluate_all("bs => bs.map(b => b.tagName + ':' + b.getAttribute('aria-label'))")
        assert names and all(n.startswith("BUTTON:Source ") for n in names)


def test_documents_upload_list_and_remove(browser, managed_app, tmp_path):
    url, corpus = managed_app
    note = tmp_path / "virtual-wards-briefing.txt"
    note.write_text("Virtual wards briefing for commissioners\n\n"
                    "A virtual ward lets patients get hospital-level care at home, supported by remote monitoring. "
                    "Commissioners in integrated care boards fund virtual wards to free hospital beds and to treat "
                    "frail patients in familiar surroundings. The occupancy of a virtual ward is the share of its "
                    "capacity in use on the day of the monthly snapshot.\n", encoding="utf-8")
    for viewport, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
        holder = Page(browser, url, viewport)
        page = holder.page
        page.get_by_role("tab", name="Documents").click()
        table = page.locator("#documents table")
        expect(table).to_contain_text("animateurs-commissioning-managers-2012.txt")
        expect(page.locator("#index-status")).to_contain_text("passages")
        if name == "laptop":
            page.locator("#upload input[type=file]").set_input_files(str(note))
            page.locator("#add-documents").click()
            expect(page.locator("#index-status")).to_contain_text("The chat now uses it", timeout=TIMEOUT * 2)
            expect(table).to_contain_text("virtual-wards-briefing.txt")
        page.screenshot(path=str(ARTIFACTS / f"documents-{name}.png"), full_page=True)
        holder.close()
    assert (corpus / "virtual-wards-briefing.txt").exists()

    # The chat answers from the new document.
    holder = Page(browser, url, LAPTOP)
    page = holder.page
    ask(page, "Why do commissioners fund virtual wards?")
    expect(page.locator("#sources .rc-sources:not([hidden])")).to_contain_text("Virtual wards briefing")
    # A file of another type is refused with a message, nothing added.
    page.get_by_role("tab", name="Documents").click()
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ not a document")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    page.locator("#add-documents").click()
    expect(page.locator("body")).to_contain_text(re.compile("Not added|Invalid file type"))
    assert not (corpus / "notes.exe").exists()
    holder.errors.clear()  # Gradio logs the refused upload in the console itself
    # Remove it again (after a confirmation).
    page.once("dialog", lambda d: d.accept())
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="virtual-wards-briefing.txt").click()
    page.locator("#remove-document").click()
    expect(page.locator("#index-status")).to_contain_text("remove virtual-wards-briefing.txt", timeout=TIMEOUT)
    expect(page.locator("#index-status")).to_contain_text("The chat now uses it", timeout=TIMEOUT * 2)
    expect(page.locator("#documents table")).not_to_contain_text("virtual-wards-briefing.txt")
    assert not (corpus / "virtual-wards-briefing.txt").exists()
    holder.close()


def test_logged_in_conversations_are_kept_on_the_server(browser, real_index, tmp_path):
    import sqlite3

    from ragcomm.bench.launch import launch_app, stop_app

    creds = tmp_path / "creds"
    creds.write_text("analyst:correct-horse-battery\n")
    db = tmp_path / "conversations.sqlite3"
    proc, url = launch_app(real_index.index_dir, real_index.corpus_dir,
                           args=("--auth-file", str(creds), "--history-db", str(db)))
    try:
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url, timeout=TIMEOUT)
        page.locator("input[type=password]").wait_for(timeout=TIMEOUT)
        page.locator("input[type=text]").first.fill("analyst")
        page.locator("input[type=password]").fill("correct-horse-battery")
        page.get_by_role("button", name=re.compile("log ?in", re.I)).click()
        page.locator("#question textarea").wait_for(timeout=TIMEOUT)
        page.get_by_text("Your conversations").click()
        expect(page.locator("#conversations")).to_contain_text("on the server")
        ask(page, "What is practice based commissioning?")
        rows = sqlite3.connect(db).execute("SELECT user, title, turns FROM conversations").fetchall()
        assert rows == [("analyst", "What is practice based commissioning?", 1)]
        # The page's links to files and the REST API accept the chat's login (its cookie).
        status = page.evaluate("fetch('api/documents').then(r => r.status)")
        assert status == 200
        # Another browser (no localStorage) logged in as the same user lists it from the server.
        other = browser.new_context(viewport=LAPTOP).new_page()
        other.goto(url, timeout=TIMEOUT)
        other.locator("input[type=text]").first.fill("analyst")
        other.locator("input[type=password]").fill("correct-horse-battery")
        other.get_by_role("button", name=re.compile("log ?in", re.I)).click()
        other.locator("#question textarea").wait_for(timeout=TIMEOUT)
        other.get_by_text("Your conversations").click()
        other.locator("#saved-list input").click()
        other.get_by_role("option", name=re.compile("What is practice based commissioning")).click()
        other.locator("#open-conversation").click()
        expect(other.locator("#conversation .rc-turn")).to_have_count(1, timeout=TIMEOUT)
        assert not errors, errors
        other.context.close()
        context.close()
    finally:
        stop_app(proc)
