"""The evaluation harness end to end on the real corpus index: the regression gate (test split of every gold
file), the files it writes, an unseen gold file with the baseline, and the `kvisa eval` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eval.harness import EvalError, run_eval
from eval.metrics import SUMMARY_KEYS
from kvisa.settings import PROJECT_ROOT, Settings
from tests.conftest import GOLD_DEV
from tests.eval.conftest import gold_record, ids_in, write_gold

FLOORS = PROJECT_ROOT / "eval" / "floors.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ITEM_KEYS = {"id", "question", "answer", "refused", "citations", "retrieved", "metrics", "latency_ms"}

UNSEEN_GOLD = [
    {"id": "mine-a", "question": "Who signs the Federal Register contact line for the weighted selection rule?",
     "answer": "The Business and Foreign Workers Division of USCIS, (240) 721-3000.",
     "key_facts": ["721-3000"], "sources": ["us-h1b-weighted-selection-rule"], "answerable": True},
    {"id": "mine-b", "question": "K字签证发给什么人？", "answer": "外国青年科技人才。",
     "key_facts": ["外国青年科技人才"], "sources": ["prc-decree-814-k-visa-zh", "not-in-the-index"],
     "answerable": True},
    {"id": "mine-c", "question": "How many K visas were issued in 2025?", "answer": "", "key_facts": [],
     "sources": [], "answerable": False},
]


@pytest.fixture(scope="module")
def dev_run(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The dev gold set through the extractive backend, once for this module."""
    out = tmp_path_factory.mktemp("eval-dev")
    return run_eval(GOLD_DEV, out, corpus_settings, backend="extractive", progress=False), out


@pytest.fixture(scope="module")
def test_split_run(eval_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The test split of every eval/gold_*.jsonl through the extractive backend, on a copy of the corpus index
    (the run adds the eval/docs documents the items cite)."""
    out = tmp_path_factory.mktemp("eval-test-split")
    return run_eval(None, out, eval_settings, backend="extractive", split="test", progress=False)


def test_regression_gate(test_split_run: dict[str, Any]) -> None:
    """`make test` fails when a summary metric of the test split of all gold files falls below its floor in
    eval/floors.json, or the accuracy of a question style below its style_min."""
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    summary = test_split_run["summary"]
    assert set(floors["min"]) | set(floors["max"]) <= set(SUMMARY_KEYS)
    below = {k: (summary[k], floor) for k, floor in floors["min"].items() if summary[k] is None or summary[k] < floor}
    above = {k: (summary[k], ceiling) for k, ceiling in floors["max"].items()
             if summary[k] is None or summary[k] > ceiling}
    assert not below, f"metrics below their floors (value, floor): {below}"
    assert not above, f"metrics above their ceilings (value, ceiling): {above}"
    styles = test_split_run["by_style"]
    assert not set(styles) - set(floors["style_min"]), "every question style of the run needs a style_min"
    low = {s: (g["accuracy"], floors["style_min"][s]) for s, g in styles.items()
           if g["accuracy"] < floors["style_min"][s]}
    assert not low, f"question styles below their floors (accuracy, floor): {low}"
    if floors["n_items"] is not None:  # null while the floors are placeholders
        assert summary["n_items"] == floors["n_items"]
    assert test_split_run["run"]["split"] == "test" and {i["split"] for i in test_split_run["items"]} == {"test"}


def test_results_json_holds_every_item_with_its_answer_metrics_and_latency(dev_run) -> None:
    results, out = dev_run
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert on_disk["summary"] == results["summary"] and tuple(on_disk["summary"]) == SUMMARY_KEYS
    gold_ids = [json.loads(line)["id"] for line in GOLD_DEV.read_text(encoding="utf-8").splitlines()]
    assert [i["id"] for i in on_disk["items"]] == gold_ids
    for item in on_disk["items"]:
        assert set(item) >= ITEM_KEYS
        assert item["latency_ms"] > 0 and isinstance(item["metrics"]["correct"], bool)
        assert all({"n", "doc_id", "title", "text"} <= set(c) for c in item["citations"])
    # The summary is what the items say: recount two of its figures from them.
    answerable = [i for i in on_disk["items"] if i["gold"]["answerable"]]
    assert results["summary"]["answer_accuracy"] == round(
        sum(i["metrics"]["correct"] for i in answerable) / len(answerable), 4)
    assert results["summary"]["n_unanswerable"] == sum(not i["gold"]["answerable"] for i in on_disk["items"])


def test_report_has_the_summary_table_worst_items_and_png_plots(dev_run) -> None:
    _, out = dev_run
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric | kvisa (extractive) | meaning |" in report
    assert all(f"| {key} |" in report for key in SUMMARY_KEYS)
    assert "## Worst 10 items of kvisa (extractive)" in report
    links = [line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]
    assert len(links) == 6
    assert {Path(link).name for link in links} >= {"by_style.png", "risk_coverage.png"}
    for link in links:
        assert (out / link).read_bytes().startswith(PNG_MAGIC)


def test_an_unseen_gold_file_runs_unchanged_with_the_baseline(corpus_settings: Settings, tmp_path: Path) -> None:
    gold = tmp_path / "my-gold.jsonl"
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in UNSEEN_GOLD) + "\n", encoding="utf-8")
    results = run_eval(gold, tmp_path / "out", corpus_settings, baseline=True, top_k=4, progress=False)
    kvisa, naive = results["summary"], results["baseline"]["summary"]
    assert tuple(kvisa) == tuple(naive) == SUMMARY_KEYS
    assert (kvisa["n_items"], kvisa["n_answerable"], kvisa["n_unanswerable"]) == (3, 2, 1)
    assert naive["refusal_accuracy"] == 0.0  # the baseline always answers with its top chunk
    for item in results["baseline"]["items"]:
        assert len(item["retrieved"]) == 4 and len(item["citations"]) == 1
        assert item["answer"].endswith("[1]") and item["citations"][0]["doc_id"] == item["retrieved"][0]["doc_id"]
    assert results["run"]["warnings"] == ["gold sources not in the index (never retrieved or cited): not-in-the-index"]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| metric | kvisa (extractive) | baseline (LlamaIndex) | meaning |" in report


def test_an_unavailable_backend_fails_before_the_first_question(corpus_settings: Settings, tmp_path: Path) -> None:
    settings = corpus_settings.model_copy(update={"llm_model_path": tmp_path / "absent.gguf"})
    with pytest.raises(EvalError, match=r"absent\.gguf does not exist"):
        run_eval(GOLD_DEV, tmp_path / "out", settings, backend="llamacpp", progress=False)
    assert not (tmp_path / "out").exists()


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(settings.home), "KVISA_CORPUS_DIR": str(settings.corpus_dir), "HF_HUB_OFFLINE": "1"})
    return subprocess.run([sys.executable, "-m", "kvisa.cli", "eval", *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=settings.home)


def test_kvisa_eval_command_with_two_gold_files_and_a_split(corpus_settings: Settings, tmp_path: Path) -> None:
    test_ids, train_ids = ids_in("test", 2), ids_in("train", 1)
    first = write_gold(tmp_path / "a.jsonl", [{**UNSEEN_GOLD[0], "id": test_ids[0], "style": "factoid"}])
    second = write_gold(tmp_path / "b.jsonl", [gold_record(test_ids[1]), gold_record(train_ids[0])])
    done = run_cli(corpus_settings, "--gold", str(first), "--gold", str(second), "--split", "test",
                   "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "kvisa (extractive): answer_accuracy" in done.stdout
    assert "accuracy by style: factoid " in done.stdout and "unlabelled " in done.stdout
    assert "eval kvisa (extractive)" in done.stderr  # the progress bar
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in results["items"]] == test_ids
    assert results["run"]["gold"] == [str(first), str(second)] and results["run"]["split"] == "test"


def test_kvisa_eval_rejects_an_id_repeated_across_gold_files(corpus_settings: Settings, tmp_path: Path) -> None:
    first = write_gold(tmp_path / "a.jsonl", [gold_record("q-1"), gold_record("q-2")])
    second = write_gold(tmp_path / "b.jsonl", [gold_record("q-3"), "", gold_record("q-1")])
    done = run_cli(corpus_settings, "--gold", str(first), "--gold", str(second), "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [f'kvisa: error: {second}:3: duplicate id "q-1" (first at {first}:1)'], \
        done.stderr
    done = run_cli(corpus_settings, "--gold", str(first), "--split", "dev", "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "unknown split 'dev'; use train, test, all" in done.stderr
    assert not (tmp_path / "out").exists()


def test_kvisa_eval_rejects_a_bad_gold_line_with_its_number(corpus_settings: Settings, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps(UNSEEN_GOLD[0]) + '\n{"id": "x", "question": "q"}\n', encoding="utf-8")
    done = run_cli(corpus_settings, "--gold", str(gold), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f'kvisa: error: {gold}:2: missing keys "answer", "key_facts", '
                                                f'"sources", "answerable"']
    assert not (tmp_path / "out").exists()


def test_accuracy_by_document_counts_an_item_once_per_gold_source() -> None:
    from eval.plots import correct_by

    def record(sources: list[str], language: str, correct: bool) -> dict[str, Any]:
        return {"gold": {"sources": sources}, "language": language, "metrics": {"correct": correct}}

    run = {"items": [record(["a", "b"], "en", True), record(["a"], "zh", False), record([], "en", False)]}
    assert correct_by(run, "source") == {"a": (0.5, 2), "b": (1.0, 1)}
    assert correct_by(run, "language") == {"en": (0.5, 2), "zh": (0.0, 1)}
