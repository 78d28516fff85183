"""Generated answers in the chat, in a real headless browser (Debian chromium via Playwright)
against the really launched app: the switch in Options (hidden without a language model, off
by default with one), the answer streaming into the page from the local SmolLM2 server with
each finished sentence checked, every sentence's verdict shown, and the extractive answer
shown first-thing-said when the model's is not used or its endpoint is down."""
import re

import pytest
from conftest import ARTIFACTS, ask

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TIMEOUT = 60_000  # ms, for the page
WRITING = 900_000  # ms: a 135M model on one thread of a busy 2-core machine; nothing asserts on time
QUESTION = "Why were CCGs reluctant to outsource commissioning support functions?"  # the model writes at length

@pytest.fixture
def open_page(browser):
    opened = []

    def make(url):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_default_timeout(TIMEOUT)
        page.goto(url, timeout=TIMEOUT)
        expect(page.locator("#filters-line")).to_contain_text("searching all", timeout=TIMEOUT)
        opened.append((context, errors))
        return page

    yield make
    for context, errors in opened:
        context.close()
        assert not errors, errors


def choose_generated(page):
    page.locator("#options").get_by_text("Options").click()
    switch = page.locator("#generator")
    expect(switch).to_be_visible()
    expect(switch.get_by_label(re.compile("Quoted word for word"))).to_be_checked()  # off by default
    switch.get_by_label(re.compile("Written by a language model \\(smollm2\\)")).check()



def test_without_a_language_model_there_is_no_switch(open_page, app_url):
    page = open_page(app_url)
    page.locator("#options").get_by_text("Options").click()
    expect(page.locator("#passages")).to_be_visible()
    expect(page.locator("#generator")).to_be_hidden()


@pytest.mark.llm
def test_a_generated_answer_streams_in_and_every_sentence_is_checked(open_page, llm_app_url):
    page = open_page(llm_app_url)
    first = ask(page, "What makes a good commissioning manager?")  # the default: extractive, no model involved
    expect(first.locator(".rc-cite").first).to_be_visible()
    assert first.locator(".rc-generated-label, .rc-fallback, .rc-check").count() == 0
    choose_generated(page)
    # Record the draft as the page shows it: the words so far and the sentences checked so far.
    page.evaluate("""() => { window.rcDrafts = []; new MutationObserver(() => {
        const d = document.querySelector('#progress .rc-draft');
        if (d) window.rcDrafts.push({words: d.querySelector('.rc-draft-text').textContent,
                                     checked: d.querySelectorAll('.rc-draft-checks li').length,
                                     turns: document.querySelectorAll('#conversation .rc-turn').length}); })
        .observe(document.querySelector('#progress'), {childList: true, subtree: true, characterData: true}); }""")
    turn = ask(page, QUESTION, timeout=WRITING)
    drafts = page.evaluate("window.rcDrafts")
    words = [d["words"] for d in drafts]
    # Streamed: the words grew in several steps before the answer arrived, each extending the last.
    assert len(set(words)) >= 3 and all(d["turns"] == 1 for d in drafts), drafts[:5]
    assert all(b.startswith(a) for a, b in zip(words, words[1:]))
    assert max(d["checked"] for d in drafts) >= 1  # sentences checked while the model was still writing
    expect(page.locator("#progress .rc-draft")).to_have_count(0)  # the draft gives way to the answer
    # Every sentence the model wrote is listed with its verdict; dropped ones say why.
    check = turn.locator("details.rc-check")
    expect(check).to_be_visible()
    total = check.locator("li").count()
    kept = check.locator("li.rc-supported").count()
    assert total >= 1 and f"({kept} of {total} supported)" in check.locator("summary").inner_text()
    if turn.locator(".rc-fallback").count():  # too little supported: the quoted answer, said first
        check.locator("summary").click()
        for li in check.locator("li.rc-unsupported").all():
            expect(li).to_be_visible()
            expect(li.locator(".rc-why-line")).to_contain_text("not supported, left out: ")
        expect(turn.locator(".rc-fallback")).to_contain_text("answer was not used")
        expect(turn.locator(".rc-answer .rc-cite").first).to_be_visible()
    else:
        expect(turn.locator(".rc-generated-label")).to_contain_text(f"{kept} of {total} supported")
        assert turn.locator(".rc-answer .rc-cite").count() == kept
    page.screenshot(path=str(ARTIFACTS / "generated-answer.png"), full_page=True)


@pytest.mark.llm
def test_an_endpoint_that_is_down_shows_the_extractive_answer_and_why(open_page, dead_llm_app_url):
    page = open_page(dead_llm_app_url)
    choose_generated(page)
    turn = ask(page, QUESTION)
    banner = turn.locator(".rc-fallback")
    expect(banner).to_contain_text("The language model's answer was not used: cannot reach the language model")
    assert banner.evaluate("b => b === b.parentElement.firstElementChild")  # said before the answer
    expect(turn.locator(".rc-answer .rc-cite").first).to_be_visible()  # the extractive answer, cited
    assert turn.locator(".rc-check").count() == 0  # the model wrote nothing to check
