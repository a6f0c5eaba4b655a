"""Rating answers and exporting the conversation, in a real chromium: what lands on disk is what was shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kvisa.feedback import feedback_path

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000
FIRST, SECOND = "Who signed Proclamation 10973?", "What does the weighted selection rule do?"


def _ask(page, question: str, answers: int) -> None:
    box = page.locator("#kv-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#kv-chat .kv-answer:not(.kv-pending)")).to_have_count(answers, timeout=TIMEOUT_MS)


def _ratings(home: Path) -> list[dict]:
    path = feedback_path_for(home)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def feedback_path_for(home: Path) -> Path:
    from kvisa.settings import Settings

    return feedback_path(Settings(home=home))


def test_a_thumbs_down_with_a_reason_and_the_export_of_two_turns(chat_app, offline_page, screenshot_dir) -> None:
    page, remote = offline_page
    page.goto(chat_app.url, wait_until="load")
    _ask(page, FIRST, 1)
    _ask(page, SECOND, 2)
    before = len(_ratings(chat_app.settings.home))

    page.locator("#kv-rate-export").get_by_text("Rate or export").click()
    page.locator("#kv-feedback-comment textarea").fill("the first source is enough")
    bot = page.locator("#kv-chat .bot-row, #kv-chat .message-row.bot-row").first
    bot.hover()
    more = page.locator("#kv-chat .extra-feedback").first
    more.hover()
    option = page.locator("#kv-chat .extra-feedback-option", has_text="Wrong source").first
    expect(option).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "feedback-thumbs-down.png"))
    option.click()
    expect(page.locator("#kv-feedback-note")).to_contain_text("recorded", timeout=30_000)
    rating = _ratings(chat_app.settings.home)[before]
    assert (rating["question"], rating["rating"], rating["reason"]) == (FIRST, "down", "wrong_source")
    assert rating["comment"] == "the first source is enough" and rating["citations"]

    page.locator("#kv-export-md").click()
    link = page.locator("#kv-export-file a[href]").first
    expect(link).to_be_visible(timeout=30_000)
    markdown = page.request.get(link.get_attribute("href")).text()
    assert markdown.index(f"## Q1: {FIRST}") < markdown.index(f"## Q2: {SECOND}")
    assert "Trump" in markdown and markdown.count("**Sources**") == 2
    assert len(re.findall(r"^- \[\d+\] ", markdown, re.MULTILINE)) >= 2  # every cited source, numbered
    assert not remote, remote
