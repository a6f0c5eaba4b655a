"""`kvisa ask` from the command line: human output, the --json object, filters and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kvisa.settings import Settings


def kvisa(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KVISA_HOME": str(settings.home)}
    return subprocess.run([sys.executable, "-m", "kvisa.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_ask_prints_the_answer_then_numbered_sources(corpus_settings: Settings) -> None:
    result = kvisa(corpus_settings, "ask", "Does the K visa require an employer?")
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nSources:\n")
    assert "employer" in answer and "[1]" in answer
    assert sources.startswith("[1] K visa explained")


def test_ask_json_has_the_documented_shape(corpus_settings: Settings) -> None:
    result = kvisa(corpus_settings, "ask", "K字签证发给什么人？", "--json", "--top-k", "4")
    data = json.loads(result.stdout)
    assert {"question", "answer", "refused", "citations", "retrieved", "latency_ms"} <= set(data)
    assert data["question"] == "K字签证发给什么人？" and data["refused"] is False
    ranked, extra = data["retrieved"][:4], data["retrieved"][4:]
    assert len(ranked) == 4
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    # A cited passage found through the unit index, outside the top 4, is listed after them.
    assert {r["doc_id"] for r in extra} <= {c["doc_id"] for c in data["citations"]}
    citation = data["citations"][0]
    assert {"n", "doc_id", "title", "section", "text", "source_url"} <= set(citation)
    assert citation["doc_id"] == "prc-decree-814-k-visa-zh"


def test_ask_with_a_filter_only_retrieves_matching_documents(corpus_settings: Settings) -> None:
    result = kvisa(corpus_settings, "ask", "When does the rule take effect?", "--json", "--jurisdiction", "US")
    assert {r["doc_id"] for r in json.loads(result.stdout)["retrieved"]} <= {
        "us-proclamation-10973", "us-h1b-proclamation-faq-and-fact-sheet", "us-h1b-weighted-selection-rule",
        "us-h1b-program-basics"}


def test_bad_backend_and_empty_question_fail_with_one_line(corpus_settings: Settings) -> None:
    for args in (["ask", "hello", "--backend", "oracle"], ["ask", "   "]):
        result = kvisa(corpus_settings, *args)
        assert result.returncode != 0
        assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("kvisa: error:")


def test_asking_an_empty_index_says_to_ingest_first(tmp_settings: Settings) -> None:
    result = kvisa(tmp_settings, "ask", "Does the K visa require an employer?")
    assert result.returncode == 1
    assert result.stderr.strip() == "kvisa: error: the index is empty; run 'kvisa ingest' first"


def test_ask_markdown_prints_the_answer_then_linked_sources_with_quotes(corpus_settings: Settings) -> None:
    result = kvisa(corpus_settings, "ask", "Who signed Proclamation 10973?", "--markdown")
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\n\n**Sources**\n\n")
    assert "Trump" in answer and "[1]" in answer
    first = sources.splitlines()[0]
    assert first.startswith("- [1] [Proclamation 10973") and "](https://www.whitehouse.gov/" in first
    assert sources.splitlines()[1].startswith("  > ")  # the sentence relied on, quoted
