"""Feedback on answers: recorded with what the user saw, and turned into gold candidates the loader accepts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from eval.gold import GoldError, load_gold
from kvisa.feedback import Feedback, feedback_path, gold_candidates, read_feedback, record
from kvisa.settings import Settings
from rag.assistant import get_assistant
from tests.conftest import make_settings


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"KVISA_HOME": str(settings.home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "kvisa.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def answers(corpus_settings: Settings) -> dict[str, object]:
    assistant = get_assistant(corpus_settings)
    return {q: assistant.ask(q) for q in ("Who signed Proclamation 10973?", "What is the capital of Australia?",
                                          "Does the K visa require an employer?")}


def test_a_rating_is_appended_with_the_question_answer_citations_and_time(tmp_path, answers) -> None:
    settings = make_settings(tmp_path / "home")
    answer = answers["Who signed Proclamation 10973?"]
    record(settings, Feedback.of(answer, "down", "wrong_source", "the second source is off topic"))
    record(settings, Feedback.of(answer, "up"))
    lines = feedback_path(settings).read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["question"] == answer.question and first["answer"] == answer.text
    assert first["citations"][0]["doc_id"] == answer.citations[0].doc_id and first["citations"][0]["quote"]
    assert (first["rating"], first["reason"], first["backend"]) == ("down", "wrong_source", "extractive")
    assert first["time"].endswith("+00:00")
    assert [f.rating for f in read_feedback(settings)] == ["down", "up"]


def test_a_rating_must_be_one_of_the_offered_ones(answers) -> None:
    answer = answers["Who signed Proclamation 10973?"]
    with pytest.raises(ValueError, match="rating"):
        Feedback.of(answer, "meh")
    with pytest.raises(ValueError, match="reason"):
        Feedback.of(answer, "down", "too slow")


def test_feedback_becomes_gold_candidates_that_the_gold_loader_accepts(tmp_path, answers) -> None:
    settings = make_settings(tmp_path / "home")
    signer, capital, employer = answers.values()
    record(settings, Feedback.of(signer, "up"))
    record(settings, Feedback.of(capital, "up"))  # the refusal was right
    record(settings, Feedback.of(employer, "down", "should_have_refused", "not in the corpus, I think"))
    out = tmp_path / "candidates.jsonl"
    result = _cli(settings, "gold", "from-feedback", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 candidates (1 drafts to complete) -> {out}"
    items = {i.question: i for i in load_gold(out, drafts=True)}
    drafted = items[signer.question]
    assert drafted.draft and drafted.answerable and drafted.sources == ("us-proclamation-10973",)
    assert "Trump" in drafted.answer and "[1]" not in drafted.answer and drafted.key_facts == ()
    assert not items[capital.question].answerable and not items[capital.question].draft
    refused = items[employer.question]
    assert not refused.answerable and refused.note == "👎 should have refused: not in the corpus, I think"
    with pytest.raises(GoldError, match="a draft: complete"):  # kvisa eval refuses a draft until completed
        load_gold(out)


def test_the_latest_rating_of_a_question_wins(answers) -> None:
    answer = answers["Who signed Proclamation 10973?"]
    items = gold_candidates([Feedback.of(answer, "up"), Feedback.of(answer, "down", "wrong_answer")])
    assert len(items) == 1 and items[0]["answer"] == "" and items[0]["draft"] is True


def test_without_feedback_the_command_says_so_in_one_line(tmp_path) -> None:
    result = _cli(make_settings(tmp_path / "home"), "gold", "from-feedback", "--out", str(tmp_path / "x.jsonl"))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "no feedback yet" in result.stderr and not (tmp_path / "x.jsonl").exists()
