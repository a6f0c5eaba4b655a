"""The Evaluation tab: a run from the web app, stored where `kvisa eval --list` finds it, and bad gold files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from gradio_client import Client, handle_file

SMALL_GOLD = [
    {"id": "ui-eval-1", "question": "When does the weighted selection final rule take effect?",
     "answer": "February 27, 2026.", "key_facts": ["February 27, 2026"], "sources": ["us-h1b-weighted-selection-rule"],
     "answerable": True},
    {"id": "ui-eval-2", "question": "K字签证发给什么人？", "answer": "外国青年科技人才", "key_facts": ["青年科技人才"],
     "sources": ["prc-decree-814-k-visa-zh"], "answerable": True},
    {"id": "ui-eval-3", "question": "What is the salary floor for the K visa?", "answer": "", "key_facts": [],
     "sources": [], "answerable": False},
]


@pytest.fixture(scope="module")
def small_gold(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("gold") / "gold_small.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in SMALL_GOLD), encoding="utf-8")
    return path


def _run(app, gold_file) -> tuple:
    client = Client(app.url, verbose=False)
    return client.predict("gold_dev.jsonl", handle_file(str(gold_file)), "extractive", 6, "all", False,
                          api_name="/run_eval")


def test_a_run_from_the_tab_shows_its_summary_and_is_stored_for_the_cli(writable_app, small_gold) -> None:
    status, summary, plots, items, _detail = _run(writable_app, small_gold)  # the run folder is server state
    assert status.startswith("✓ 3 questions of gold_small.jsonl"), status
    metrics = {row[0]: row[1] for row in summary["data"]}
    assert 0.0 <= metrics["answer_accuracy"] <= 1.0 and "refusal_accuracy" in metrics
    assert len(items["data"]) == 3 and {row[2] for row in items["data"]} <= {"✓", "✗"}
    assert any(str(p["image"]).endswith("by_style.png") for p in plots)
    env = {**os.environ, "KVISA_HOME": str(writable_app.settings.home)}
    listed = subprocess.run([sys.executable, "-m", "kvisa.cli", "eval", "--list"], capture_output=True, text=True,
                            env=env, timeout=120, check=True).stdout
    assert "gold_small.jsonl (all, extractive, 3 items)" in listed


def test_a_second_run_of_the_same_gold_file_is_compared_with_the_first(writable_app, small_gold) -> None:
    _run(writable_app, small_gold)
    _, summary, *_ = _run(writable_app, small_gold)
    assert any(h.startswith("previous (") for h in summary["headers"])


def test_a_bad_gold_file_names_its_bad_lines(writable_app, tmp_path) -> None:
    bad = tmp_path / "gold_bad.jsonl"
    bad.write_text(json.dumps(SMALL_GOLD[0]) + "\n{not json\n" + json.dumps({"id": "x"}) + "\n", encoding="utf-8")
    status, *_ = _run(writable_app, bad)
    assert "gold_bad.jsonl:2: not valid JSON" in status and "gold_bad.jsonl:3: missing keys" in status
