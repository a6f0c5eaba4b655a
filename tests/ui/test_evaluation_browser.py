"""The Evaluation tab in a real chromium: a run with its progress bar, plots, the failure filter, one item."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
TIMEOUT_S = 300


def test_an_evaluation_run_in_the_browser(writable_app, offline_page, screenshot_dir: Path) -> None:
    page, remote = offline_page
    page.goto(writable_app.url, wait_until="load")
    page.get_by_role("tab", name="Evaluation").click()
    page.locator("#kv-eval-run").click()  # the bundled dev set: 48 questions, long enough to watch
    status = page.locator("#kv-eval-status")
    saw_progress = False
    deadline = time.monotonic() + TIMEOUT_S
    while "✓" not in status.inner_text() and time.monotonic() < deadline:
        saw_progress = saw_progress or page.locator(".progress-level-inner, .progress-text").count() > 0
        time.sleep(0.1)
    assert "✓ 48 questions of gold_dev.jsonl" in status.inner_text()
    assert saw_progress, "no progress bar while the questions ran"

    expect(page.locator("#kv-eval-plots img").first).to_be_visible()
    assert page.locator("#kv-eval-plots img").count() >= 3
    grid = page.locator("#kv-eval-items [role=grid]")
    rows = page.locator("#kv-eval-items .virtual-row")  # a virtual table: only the rows in view exist
    expect(rows.first).to_be_visible()
    assert grid.get_attribute("aria-rowcount") == "49"  # 48 questions and the header
    page.locator("#kv-eval-failures input").check()
    expect(grid).not_to_have_attribute("aria-rowcount", "49")  # on a two-document index most fail, not all
    failures = int(grid.get_attribute("aria-rowcount")) - 1
    assert 0 < failures < 48
    for i in range(min(rows.count(), failures)):
        assert "✗" in rows.nth(i).inner_text()

    rows.first.locator("[role=gridcell]").nth(1).click()  # a failed item's full answer, with its source cards if any
    detail = page.locator("#kv-eval-detail .kv-eval-item")
    expect(detail).to_be_visible()
    assert "(failed)" in detail.inner_text() and "Gold" in detail.inner_text()
    page.screenshot(path=str(screenshot_dir / "evaluation-tab.png"), full_page=True)
    assert not remote, remote
