"""The Documents tab behaves as people expect (issue 12): no server paths, removal asks first, URLs queue."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ingest.pipeline import list_documents
from tests.conftest import CORPUS, http_site
from tests.ui.test_browser import TIMEOUT_MS, _open
from ui.cards import first_url

pytestmark = pytest.mark.browser
# How many lines the text of each header and cell of the table takes (text nodes only: icons are not text).
CELL_LINES_JS = """(table) => [...table.querySelectorAll('th, td')].map(cell => {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), tops = new Set();
  let text = '';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    text += node.textContent.trim();
    const range = document.createRange(); range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
  }
  return [cell.tagName, text, tops.size];
}).filter(([, text]) => text)"""


def test_documents_table_shows_no_server_paths(chat_app, offline_page):
    page, _ = offline_page
    _open(page, chat_app.url)  # the corpus: some documents have an official URL, some only a file
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#kv-doc-table")
    expect(table).to_contain_text("doc_id")
    text = table.inner_text()
    entries = list_documents(chat_app.settings)
    assert any(not e.source_url for e in entries), "needs a document without an official URL"
    for entry in entries:
        assert (first_url(entry.source_url) or Path(entry.source).name) in text
    assert str(chat_app.settings.home) not in text and str(CORPUS) not in text


def test_removing_a_corpus_document_asks_first_and_says_ingest_brings_it_back(writable_app, offline_page):
    page, _ = offline_page
    _open(page, writable_app.url)
    page.get_by_role("tab", name="Documents").click()
    page.get_by_label("Remove a document").click()
    page.get_by_role("option", name=re.compile(r"\(us-h1b-weighted-selection-rule\)")).click()
    page.get_by_role("button", name="Remove document").click()
    confirm = page.locator("#kv-confirm").first
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("kvisa ingest")
    assert "us-h1b-weighted-selection-rule" in [e.doc_id for e in list_documents(writable_app.settings)]
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#kv-doc-table")).to_contain_text("us-h1b-weighted-selection-rule")
    assert "us-h1b-weighted-selection-rule" in [e.doc_id for e in list_documents(writable_app.settings)]


class _SlowHandler(SimpleHTTPRequestHandler):
    """Serves files; pages named slow-* take two seconds, so a second URL arrives during the first."""

    def do_GET(self) -> None:
        if "slow-" in self.path:
            time.sleep(2)
        super().do_GET()


@pytest.fixture
def slow_site(tmp_path) -> Iterator[str]:
    for name, title in [("slow-zyx.html", "Zyxian transit pass"), ("qwv.html", "Qwvian harbour token")]:
        (tmp_path / name).write_text(f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                                     f"<p>The {title} is granted at the harbour office.</p></body></html>",
                                     encoding="utf-8")
    with http_site(functools.partial(_SlowHandler, directory=str(tmp_path))) as url:
        yield url


def test_a_url_added_while_another_is_fetched_is_queued(writable_app, offline_page, slow_site):
    page, remote = offline_page
    _open(page, writable_app.url)
    page.get_by_role("tab", name="Documents").click()
    url_box = page.locator("#kv-url textarea, #kv-url input").first
    add = page.get_by_role("button", name="Add URL")
    url_box.fill(f"{slow_site}/slow-zyx.html")
    add.click()
    url_box.fill(f"{slow_site}/qwv.html")
    add.click()
    expect(page.locator("#kv-doc-status")).to_contain_text("Queued")
    table = page.locator("#kv-doc-table")
    expect(table).to_contain_text("Zyxian transit pass", timeout=TIMEOUT_MS)
    expect(table).to_contain_text("Qwvian harbour token", timeout=TIMEOUT_MS)
    assert not remote, remote


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_phone_documents_table_keeps_headers_and_short_cells_on_one_line(chat_app, browser, screenshot_dir, theme):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    _open(page, f"{chat_app.url}?__theme={theme}")
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#kv-doc-table")
    expect(table).to_contain_text("doc_id")
    cells = table.evaluate(CELL_LINES_JS)
    headers = {text: n for tag, text, n in cells if tag == "TH"}
    assert headers and all(n == 1 for n in headers.values()), headers
    words = [(text, n) for tag, text, n in cells if tag == "TD" and re.fullmatch(r"\w+", text)]
    assert words and all(n == 1 for _, n in words), words  # "en", "15", "0": never one letter per line
    page.screenshot(path=str(screenshot_dir / f"documents-390x844-{theme}.png"), full_page=True)
    context.close()
