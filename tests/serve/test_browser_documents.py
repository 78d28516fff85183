"""What the documents are, as a commissioner meets them in a real browser (issue 25, items 2
and 3): the Ask tab says what it answers from (worked out from the index), the header no
longer offers the REST API (a footer link does), the Documents tab lists each PubMed abstract,
one title for a record on its card, its cited-page view, the Documents tab and the export;
the 2006 report in the year lists; and after a document is removed, an older answer's
"Open at the cited sentence" says so and when, and cancelling a removal says nothing wrong.
Screenshots in tests/artifacts/."""
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ARTIFACTS, AXE, ask, serious_violations

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TIMEOUT = 60_000  # ms, for a loaded machine; nothing here asserts on time
LAPTOP = {"width": 1366, "height": 900}
PMID_RECORD = "pubmed-primary-care-workforce-listing/pmid-35977066"


def open_chat(browser, url, **context):
    ctx = browser.new_context(viewport=LAPTOP, **context)
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(TIMEOUT)
    page.goto(url, timeout=TIMEOUT)
    page.locator("#question textarea").wait_for()
    expect(page.locator("#filters-line")).to_contain_text("searching all", timeout=TIMEOUT)
    return page, errors



def test_the_ask_tab_says_what_it_answers_from(browser, app_url):
    page, errors = open_chat(browser, app_url)
    header = page.locator("#title")
    expect(header).to_contain_text("What it answers from: 4 documents and 18 PubMed abstracts, 2006–2023")
    expect(header).to_contain_text("from the PCT/CCG era")
    expect(header).to_contain_text("none names integrated care boards")
    expect(header).to_contain_text("nothing here is current policy")
    expect(header).not_to_contain_text("REST")
    footer = page.locator("#footer")
    expect(footer.get_by_role("link", name="REST API")).to_have_attribute("href", "docs")
    page.screenshot(path=str(ARTIFACTS / "ask-what-it-answers-from.png"))
    # the 2006 report is in the year lists, and a 2015-2020 range leaves it out
    page.get_by_text("Options").click()
    page.locator("#year-from input").click()
    expect(page.locator("#year-from").get_by_role("option", name="2006", exact=True)).to_be_visible()
    page.locator("#year-from").get_by_role("option", name="2015", exact=True).click()
    page.locator("#year-to input").click()
    page.locator("#year-to").get_by_role("option", name="2020", exact=True).click()
    page.locator("#filters-line").click()
    expect(page.locator("#filters-line")).to_contain_text("2015 to 2020")
    ask(page, "How should PCTs govern partnerships, markets and the public as NHS Local?")
    sources = page.locator("#sources .rc-sources:not([hidden])")
    expect(sources.locator(".rc-card").first).to_be_visible()
    expect(sources).not_to_contain_text("HSMC PCT commissioning report 2006")
    assert not errors, errors
    page.context.close()


def test_one_title_everywhere_and_the_abstracts_listed(browser, app_url, tmp_path):
    page, errors = open_chat(browser, app_url)
    ask(page, "How do practice managers decide to employ pharmacists and physician associates?")
    card = page.locator("#sources .rc-sources:not([hidden]) .rc-card").filter(
        has=page.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/35977066/']"))
    expect(card).to_have_count(1)
    title = card.locator("h4").inner_text().split(" ", 1)[1].strip()  # after the [n] marker
    assert title.startswith("The objectives are to determine the factors that motivated GP practice managers")
    # the cited-page view: the same title
    with page.context.expect_page() as new:
        card.get_by_role("link", name=re.compile("Open at the cited sentence")).click()
    view = new.value
    view.wait_for_load_state()
    assert view.locator("h1").inner_text().strip() == title and view.title() == title
    view.close()
    # the export: the same title in the references
    page.locator("#export").click()
    with page.expect_download() as md:
        page.locator("#download-md").click()
    markdown = Path(md.value.path()).read_text(encoding="utf-8")
    references = markdown.split("## References", 1)[1]
    assert any(line.split(". ", 1)[1].startswith(title) for line in references.splitlines() if "PMID 35977066" in line)
    # the Documents tab: each abstract on its own row, the same title, with its PubMed link
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents table")
    group = table.locator("tbody.rc-listing")
    expect(group.locator("th")).to_contain_text("18 PubMed abstracts, 2014–2023, from "
                                                "pubmed-primary-care-workforce-listing.txt")
    rows = group.locator("tr.rc-record")
    expect(rows).to_have_count(18)
    expect(rows.locator("a[href^='https://pubmed.ncbi.nlm.nih.gov/']")).to_have_count(18)
    row = rows.filter(has=page.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/35977066/']"))
    expect(row.locator("td").first).to_contain_text(title)
    expect(table).not_to_contain_text("18 records")
    hsmc = table.locator("tr").filter(has_text="hsmc-pct-commissioning-report-2006.txt")
    expect(hsmc.locator("td").nth(1)).to_have_text("2006")
    page.screenshot(path=str(ARTIFACTS / "documents-abstracts-listed.png"), full_page=True)
    if AXE.exists():  # the listing's group headings and links keep the page accessible
        serious = serious_violations(page)
        assert not serious, serious
    assert not errors, errors
    page.context.close()


def wait_for_update(url, timeout=180):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with urllib.request.urlopen(url + "api/status", timeout=60) as r:
            job = json.loads(r.read())["job"]
        if job and job["state"] != "running":
            return job
        time.sleep(0.3)
    raise AssertionError("the update did not finish")


def upload(url, name: str, text: str):
    boundary = "ragcommboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(url + "api/documents", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as r:
        assert r.status == 202
    assert wait_for_update(url)["state"] == "done"


def test_an_older_answer_after_its_document_was_removed(browser, managed_app):
    url, corpus = managed_app
    upload(url, "dental-access-note.txt",
           "Dental access note\n\nIntegrated care boards commission NHS dentistry and publish where patients can "
           "find an NHS dentist taking on new patients. The board reviews dental access every quarter.\n")
    page, errors = open_chat(browser, url)
    # the line above the tabs follows the documents users add: this one names integrated care boards
    icb = re.compile(r"(\d+) names? integrated care boards, the commissioners since July 2022")
    header = page.locator("#title")
    expect(header).to_contain_text(icb)
    named = int(icb.search(header.inner_text()).group(1))
    ask(page, "How often does the board review dental access?")
    card = page.locator("#sources .rc-sources:not([hidden]) .rc-card").filter(has_text="Dental access note")
    expect(card).to_have_count(1)
    link = card.get_by_role("link", name=re.compile("Open at the cited sentence"))
    expect(link).to_have_attribute("href", re.compile(r"^view/dental-access-note\?cite="))

    page.get_by_role("tab", name="Documents").click()
    status = page.locator("#index-status")
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="dental-access-note.txt").click()
    page.once("dialog", lambda d: d.dismiss())  # Cancel: nothing removed, and no "Choose a file" message
    page.locator("#remove-document").click()
    expect(status).to_contain_text("Nothing removed: dental-access-note.txt stays in the index.")
    expect(status).not_to_contain_text("Choose a file")
    assert (corpus / "dental-access-note.txt").exists()
    page.once("dialog", lambda d: d.accept())
    page.locator("#remove-document").click()
    expect(status).to_contain_text("remove dental-access-note.txt", timeout=TIMEOUT)
    expect(status).to_contain_text("The chat now uses it", timeout=TIMEOUT * 2)
    assert not (corpus / "dental-access-note.txt").exists()
    removed = sorted((corpus / ".removed").glob("*-dental-access-note.txt"))[-1]
    when = time.strptime(removed.name[:15], "%Y%m%d-%H%M%S")

    expect(header).to_contain_text("none names integrated care boards" if named == 1 else f"{named - 1} name")
    page.get_by_role("tab", name="Ask").click()
    with page.context.expect_page() as new:
        link.click()
    gone = new.value
    gone.wait_for_load_state()
    expect(gone.locator("h1")).to_have_text("This document was removed from the index")
    expect(gone.locator("main")).to_contain_text(
        f"dental-access-note.txt was removed on {when.tm_mday} {time.strftime('%B %Y at %H:%M', when)}")
    assert "no such document" not in gone.content() and "{" not in gone.locator("body").inner_text()
    gone.screenshot(path=str(ARTIFACTS / "view-removed-document.png"))
    gone.close()
    assert not errors, errors
    page.context.close()
