"""A Chroma server that goes away and comes back: one line during the outage, answers again after."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ingest.pipeline import ingest_sources
from kvisa.settings import Settings
from rag.assistant import Assistant
from tests.conftest import free_port, stop_process, wait_for_http
from tests.ingest.test_server_mode import CHROMA
from ui.chat import user_message as _user_message

NOTE = "# Wobble permit\n\nThe Wobble permit costs 12 zorkmids and is valid for 3 years.\n"


def _start(data: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, 60, "chroma run")
    return server


def test_the_next_question_after_a_server_restart_is_answered(tmp_path: Path) -> None:
    data, port = tmp_path / "chroma", free_port()
    data.mkdir()
    note = tmp_path / "wobble-permit.md"
    note.write_text(NOTE, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", chroma_host="127.0.0.1", chroma_port=port)
    server = _start(data, port)
    try:
        assert ingest_sources([str(note)], settings, progress=False).ok
        assistant = Assistant(settings)
        assert "12 zorkmids" in assistant.ask("How much does the Wobble permit cost?").text
        stop_process(server, grace=20)

        with pytest.raises(Exception) as outage:
            assistant.ask("How long is the Wobble permit valid?")
        message = _user_message(outage.value)
        assert "\n" not in message and "Chroma server" in message and str(port) in message, message

        server = _start(data, port)
        assert "3 years" in assistant.ask("How long is the Wobble permit valid?").text  # same process
    finally:
        stop_process(server, grace=20)
