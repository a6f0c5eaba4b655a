"""The chat behaves as people expect (issue 12): copy, clear, queue, accessibility, scroll, phones."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.ui.test_browser import TIMEOUT_MS, _ask, _last_answer, _open
from ui.cards import first_url

pytestmark = pytest.mark.browser
AMPERSAND_QUESTION = "Is the H-1B & K visa fee < $100,000?"
# WCAG 2 contrast of an element's text on the first opaque background behind it, the text blended by the
# opacity of the element and its ancestors (as seen, like axe-core does).
CONTRAST_JS = """(el) => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  let back = null, alpha = 1;
  for (let e = el; e; e = e.parentElement) {
    const style = getComputedStyle(e), c = rgb(style.backgroundColor);
    alpha *= Number(style.opacity);
    if (!back && (c.length === 3 || (c.length === 4 && c[3] > 0.5))) back = c;
  }
  back = back || [255, 255, 255];
  const fore = rgb(getComputedStyle(el).color).slice(0, 3).map((c, i) => c * alpha + back[i] * (1 - alpha));
  const [hi, lo] = [lum(fore), lum(back)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""
# Whether the element's top is inside its scrolling panel and the window (the start of it can be read).
START_VISIBLE_JS = """(el) => {
  let panel = el.parentElement;
  for (; panel; panel = panel.parentElement) {
    const o = getComputedStyle(panel).overflowY;
    if ((o === 'auto' || o === 'scroll') && panel.scrollHeight > panel.clientHeight) break;
  }
  const top = el.getBoundingClientRect().top;
  const box = panel ? panel.getBoundingClientRect() : {top: 0, bottom: innerHeight};
  return top >= Math.max(box.top, 0) - 2 && top + 24 <= Math.min(box.bottom, innerHeight);
}"""
def _page(browser, width: int = 1280, height: int = 900, clipboard: str | None = None):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=clipboard.rstrip("/"))
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("http://127.0.0.1", "data:", "blob:")) else route.abort())
    return page


def _answers(page):
    return page.locator("#kv-chat .kv-answer:not(.kv-pending)")


def test_copy_gives_markdown_and_accessible_names_are_plain(chat_app, browser):
    from rag.assistant import get_assistant

    expected = get_assistant(chat_app.settings).ask(AMPERSAND_QUESTION)
    page = _page(browser, clipboard=chat_app.url)
    _open(page, chat_app.url)
    _ask(page, AMPERSAND_QUESTION)
    _last_answer(page)

    copy = page.locator("#kv-chat button[aria-label='Copy message']")
    copy.last.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "<" not in copied.replace("< $100", "") and "&amp;" not in copied and "&lt;" not in copied, copied
    assert copied.startswith(("**⚠", expected.text.strip()[:40])), copied
    assert expected.text.strip() in copied
    for citation in expected.citations:
        assert f"{citation.n}. {citation.title}" in copied, copied
        assert first_url(citation.source_url) in copied and (citation.section or "") in copied

    copy.first.click()  # the question, exactly as asked
    assert page.evaluate("() => navigator.clipboard.readText()") == AMPERSAND_QUESTION

    labels = page.locator("#kv-chat [aria-label*=\"'s message: \"]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))")
    assert labels[0] == f"user's message: {AMPERSAND_QUESTION}", labels
    assert "<" not in labels[1].replace("< $100", "") and expected.text.strip()[:40] in labels[1], labels
    page.context.close()


def test_trash_icon_resets_the_conversation_like_new_conversation(chat_app, gold, offline_page):
    from rag.assistant import get_assistant

    first, follow_up = gold["dev-018"]["question"], "When does it take effect?"
    on_its_own = get_assistant(chat_app.settings).ask(follow_up)
    page, remote = offline_page
    _open(page, chat_app.url)
    _ask(page, first)
    expect(_answers(page)).to_have_count(1, timeout=TIMEOUT_MS)
    page.locator("#kv-chat button[aria-label='Clear']").click()
    expect(page.locator("#kv-chat .kv-answer")).to_have_count(0)
    _ask(page, follow_up)  # the cleared turn must not be its context
    answer = _last_answer(page)
    assert re.sub(r"\s+", " ", answer.locator(".kv-text").inner_text()).strip() == \
        re.sub(r"\s+", " ", on_its_own.text).strip()
    assert not remote, remote


def test_a_question_sent_right_after_another_is_queued_not_dropped(chat_app, gold, offline_page):
    page, remote = offline_page
    _open(page, chat_app.url)
    first, second = gold["dev-024"]["question"], gold["dev-016"]["question"]
    box = page.locator("#kv-question textarea")
    box.fill(first)
    box.press("Enter")
    box.fill(second)  # within a few milliseconds of the first
    box.press("Enter")
    expect(_answers(page)).to_have_count(2, timeout=TIMEOUT_MS)
    asked = page.locator("#kv-chat .kv-q").all_inner_texts()
    assert sorted(asked) == sorted([first, second]), asked
    assert not remote, remote


def test_an_empty_question_says_so(chat_app, offline_page):
    page, _ = offline_page
    _open(page, chat_app.url)
    page.locator("#kv-question textarea").fill("   ")
    page.locator("#kv-send").click()
    expect(page.locator("#kv-chat-status")).to_contain_text("Type a question")
    expect(page.get_by_role("textbox", name="Your question")).to_be_visible()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_markers_badges_and_ask_reach_wcag_aa_contrast(chat_app, gold, browser, theme):
    page = _page(browser)
    _open(page, f"{chat_app.url}?__theme={theme}")
    _ask(page, gold["dev-002"]["question"])
    answer = _last_answer(page)
    for name, element in [("[n] marker", answer.locator("a.kv-ref").first),
                          ("source badge", answer.locator(".kv-num").first),
                          ("Ask button", page.locator("#kv-send"))]:
        ratio = element.evaluate(CONTRAST_JS)
        assert ratio >= 4.5, f"{name} in {theme}: contrast {ratio:.2f}:1"
    page.context.close()


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("item_id", ["dev-002", "dev-044"], ids=["answer", "refusal"])
def test_the_start_of_the_answer_is_in_view(chat_app, gold, browser, screenshot_dir, size, item_id):
    page = _page(browser, *size)
    _open(page, chat_app.url)
    _ask(page, gold[item_id]["question"])
    answer = _last_answer(page)
    start = answer.locator(".kv-refused-head" if item_id == "dev-044" else ".kv-text").first
    page.wait_for_function(START_VISIBLE_JS, arg=start.element_handle(), timeout=10_000)
    time.sleep(0.8)  # nothing may scroll it away afterwards
    assert start.evaluate(START_VISIBLE_JS)
    page.screenshot(path=str(screenshot_dir / f"chat-{item_id}-{size[0]}x{size[1]}.png"))
    page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_phone_layout_keeps_the_question_box_in_view(chat_app, browser, screenshot_dir, theme):
    page = _page(browser, 390, 844)
    _open(page, f"{chat_app.url}?__theme={theme}")
    for element in (page.locator("#kv-send"), page.locator("#kv-new")):
        box = element.bounding_box()
        assert box and box["y"] + box["height"] <= 844, box
    page.screenshot(path=str(screenshot_dir / f"chat-390x844-{theme}.png"))
    page.context.close()
