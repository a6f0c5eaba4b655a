"""axe-core (from npm) finds no serious or critical violation on the Chat, Settings and Documents views.

The same runs leave 1280x900 screenshots of each view, light and dark, in test-output/ui/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ui.conftest import OUTPUT_DIR
from tests.ui.test_browser import _ask, _last_answer, _open

pytestmark = pytest.mark.browser
AXE_VERSION = "4.14.1"
AXE_DIR = OUTPUT_DIR.parent / "axe"  # git-ignored, like the screenshots
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => ['serious', 'critical'].includes(v.impact))
  .map(v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js, installed once with npm into test-output/axe."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists() and shutil.which("npm"):
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR),
                        f"axe-core@{AXE_VERSION}"], check=False, capture_output=True, timeout=300)
    if not script.exists():
        pytest.skip("axe-core is missing and npm could not install it")
    return script


def _violations(page, axe_script: Path) -> list[str]:
    if page.evaluate("typeof axe") == "undefined":
        page.add_script_tag(path=str(axe_script))
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_or_critical_axe_violations(chat_app, gold, browser, axe_script, screenshot_dir, theme):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    _open(page, f"{chat_app.url}?__theme={theme}")
    _ask(page, gold["dev-002"]["question"])
    _last_answer(page)
    page.locator("#kv-stop").wait_for(state="hidden")  # the answer event is over: the page is settled
    page.screenshot(path=str(screenshot_dir / f"chat-1280x900-{theme}.png"))
    found = {"chat": _violations(page, axe_script)}
    page.locator("#kv-settings").get_by_text("Settings").click()
    page.get_by_label("Answer backend").wait_for()
    page.screenshot(path=str(screenshot_dir / f"settings-1280x900-{theme}.png"))
    found["settings"] = _violations(page, axe_script)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#kv-doc-table").wait_for()
    page.locator("#kv-doc-table .progress-text").wait_for(state="hidden")  # a loading overlay fades in and out
    page.screenshot(path=str(screenshot_dir / f"documents-1280x900-{theme}.png"))
    found["documents"] = _violations(page, axe_script)
    page.close()
    assert not any(found.values()), found
