"""Fixtures for the web chat: the real app served on a free loopback port, over a real index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kvisa.settings import PROJECT_ROOT, Settings
from tests.conftest import CORPUS, GOLD_DEV, free_port, make_settings

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots land here (git-ignored) so CI can keep them as artifacts.
OUTPUT_DIR = PROJECT_ROOT / "test-output" / "ui"


@pytest.fixture(scope="session")
def gold() -> dict[str, dict]:
    """The dev gold set by id (questions, key facts, source documents)."""
    items = [json.loads(line) for line in GOLD_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {item["id"]: item for item in items}


@dataclass
class RunningChat:
    """A launched web chat: its settings (whose index it serves) and its URL."""

    settings: Settings
    url: str


@pytest.fixture(scope="session")
def serve():
    """Launch web chats for the session; every one is closed at the end."""
    from ui.app import launch

    demos = []

    def start(settings: Settings) -> RunningChat:
        demo, url = launch(settings, "127.0.0.1", free_port(), block=False, quiet=True)
        demos.append(demo)
        return RunningChat(settings, url)

    yield start
    for demo in demos:
        demo.close()


@pytest.fixture(scope="session")
def chat_app(serve, corpus_settings: Settings) -> RunningChat:
    """The chat over the shared read-only corpus index: only ask questions here, never add."""
    return serve(corpus_settings)


@pytest.fixture(scope="module")
def writable_app(serve, tmp_path_factory: pytest.TempPathFactory) -> RunningChat:
    """A chat over its own small index (two corpus documents), for tests that add documents. It may fetch
    from 127.0.0.1 (KVISA_ALLOW_PRIVATE_URLS), where the tests serve their pages."""
    from ingest.pipeline import ingest_sources

    settings = make_settings(tmp_path_factory.mktemp("ui-home"), allow_private_urls=True)
    sources = [str(CORPUS / "us-h1b-weighted-selection-rule.md"), str(CORPUS / "prc-decree-814-k-visa-zh.md")]
    report = ingest_sources(sources, settings, progress=False)
    assert report.ok, report.errors
    return serve(settings)


def _chromium() -> Path | None:
    """Debian's chromium, installed with apt when it is missing and we may (root)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True)
    return CHROMIUM if CHROMIUM.exists() else None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless chromium driven by playwright (sync API)."""
    path = _chromium()
    if path is None:
        pytest.skip("/usr/bin/chromium is missing and could not be installed with apt-get (not root?)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(path), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def offline_page(browser) -> Iterator[tuple[object, list[str]]]:
    """A page that may only talk to 127.0.0.1; every other request is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    remote: list[str] = []

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            remote.append(url)
            route.abort()

    page.route("**/*", only_local)
    yield page, remote
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR
