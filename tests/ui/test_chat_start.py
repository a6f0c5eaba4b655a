"""`kvisa chat` serves its page first and loads the assistant after; a question asked meanwhile waits for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gradio_client import Client

from tests.conftest import free_port, stop_process, wait_for_http
from tests.ingest.test_cli_ingest import TINY_DOCS, run_kvisa, write_docs


def test_a_question_asked_as_soon_as_the_page_is_up_gets_its_answer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ingested = run_kvisa(home, "ingest", str(write_docs(tmp_path / "docs", TINY_DOCS)))
    assert ingested.returncode == 0, ingested.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "kvisa.cli", "chat", "--no-ingest", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, process, timeout=120, what="kvisa chat")
        # The assistant is still loading in the background now (index, jieba, query encoder).
        answer, citations = Client(url, verbose=False).predict("What is the H-1B fee?", api_name="/chat")
        assert "$100,000" in answer and "[1]" in answer
        assert citations and citations[0]["doc_id"] == "h1b-fee"
    finally:
        stop_process(process)
    assert "Traceback" not in process.stderr.read()
