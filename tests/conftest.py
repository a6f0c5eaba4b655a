"""Shared fixtures: settings on a temporary KVISA_HOME, and the real corpus ingested once per session."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

# The tests start servers with the benchmarks' own helpers (re-exported here for the test modules).
from eval.benchmarks import free_port as free_port
from eval.benchmarks import stop as stop_process  # noqa: F401
from kvisa.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
GOLD_DEV = PROJECT_ROOT / "eval" / "gold_dev.jsonl"


def corpus_text(doc_id: str) -> str:
    """The cleaned text of a corpus document, as ingest sees it: what citation offsets point into."""
    from ingest.loaders import load_path

    [path] = [p for p in CORPUS.iterdir() if p.stem == doc_id and p.suffix in (".md", ".txt")]
    return load_path(path, Settings(home=Path("/nonexistent"))).text


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, what: str,
                  headers: dict[str, str] | None = None) -> None:
    """Poll `url` until it answers 200, failing early if the server process has died."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"{what} exited before answering"
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{what} did not answer {url} within {timeout:g} s"
        time.sleep(0.3)


@contextmanager
def http_site(handler) -> Iterator[str]:
    """A real http.server for `handler` (a BaseHTTPRequestHandler class or factory) on a free loopback
    port, in a thread; yields its base URL and shuts it down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def make_settings(home: Path, **overrides) -> Settings:
    """Settings isolated from the user's environment and kvisa.toml."""
    return Settings(home=home, corpus_dir=CORPUS, **overrides)


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with an empty index of their own."""
    return make_settings(tmp_path / "home")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index holds the real corpus, ingested once for the whole session. Read-only."""
    from ingest.pipeline import ingest_sources

    settings = make_settings(tmp_path_factory.mktemp("corpus-home"))
    report = ingest_sources([str(CORPUS)], settings, progress=False)
    assert report.ok, report.errors
    return settings
