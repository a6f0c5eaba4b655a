"""Several gold files in one run, the train/test split, the documents of eval/docs a gold file needs, and the
by-style and by-language results they produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldError, GoldItem, split_for
from eval.harness import EvalError, gold_paths, load_gold_files, run_eval, select_split
from kvisa.settings import PROJECT_ROOT, Settings
from tests.eval.conftest import gold_record, ids_in, write_gold

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_without_gold_files_every_project_gold_file_is_used() -> None:
    defaults = gold_paths(None)
    assert defaults == sorted((PROJECT_ROOT / "eval").glob("gold_*.jsonl")) and len(defaults) >= 2
    assert gold_paths([]) == defaults
    assert gold_paths("mine.jsonl") == [Path("mine.jsonl")]
    assert gold_paths(["a.jsonl", Path("b.jsonl")]) == [Path("a.jsonl"), Path("b.jsonl")]


def test_ids_must_be_unique_across_gold_files(tmp_path: Path) -> None:
    first = write_gold(tmp_path / "a.jsonl", [gold_record("q-1"), gold_record("q-2")])
    second = write_gold(tmp_path / "b.jsonl", [gold_record("q-3"), "", gold_record("q-2"), gold_record("q-1")])
    with pytest.raises(GoldError) as caught:
        load_gold_files([first, second])
    assert str(caught.value) == f'{second}:3: duplicate id "q-2" (first at {first}:2) (and 1 more bad lines)'
    assert caught.value.problems[1] == f'{second}:4: duplicate id "q-1" (first at {first}:1)'
    second.write_text(json.dumps(gold_record("q-3")) + "\n", encoding="utf-8")
    assert [i.id for i in load_gold_files([first, second])] == ["q-1", "q-2", "q-3"]


def test_a_split_keeps_the_items_recorded_in_it_or_put_there_by_the_fixed_rule() -> None:
    [test_id], [train_id] = ids_in("test", 1), ids_in("train", 1)
    recorded = GoldItem(test_id, "q", "", (), (), False, split="test")
    by_rule = GoldItem(train_id, "q", "", (), (), False)  # no recorded split: split_for decides
    assert split_for(train_id) == "train"
    assert select_split([recorded, by_rule], "test") == [recorded]
    assert select_split([recorded, by_rule], "train") == [by_rule]
    assert select_split([recorded, by_rule], "all") == [recorded, by_rule]
    with pytest.raises(EvalError, match="unknown split 'dev'"):
        select_split([recorded], "dev")


def test_two_gold_files_test_split_by_style_and_by_language(corpus_settings: Settings, tmp_path: Path) -> None:
    test_ids, train_ids = ids_in("test", 4), ids_in("train", 2)
    first = write_gold(tmp_path / "a.jsonl", [
        gold_record(test_ids[0], "Which phone number does the weighted selection rule give for further information?",
                    facts=("721-3000",), sources=("us-h1b-weighted-selection-rule",), style="factoid"),
        gold_record(train_ids[0], "Who signed Proclamation 10973?", facts=("Trump",),
                    sources=("us-proclamation-10973",), style="factoid"),
        gold_record(test_ids[1], "K字签证发给什么人？", facts=("外国青年科技人才",),
                    sources=("prc-decree-814-k-visa-zh",), style="zh_paraphrase", split="test"),
    ])
    second = write_gold(tmp_path / "b.jsonl", [
        gold_record(test_ids[2], style="factoid"),
        gold_record(train_ids[1], "What is the K visa fee in Japan?"),
        gold_record(test_ids[3], "How many K visa holders live in Shanghai?"),
    ])
    results = run_eval([first, second], tmp_path / "out", corpus_settings, split="test", progress=False)
    items = results["items"]
    assert [i["id"] for i in items] == test_ids and {i["split"] for i in items} == {"test"}
    assert results["run"]["gold"] == [str(first), str(second)] and results["run"]["split"] == "test"
    assert results["run"]["docs_added"] == [] and results["summary"]["n_items"] == 4

    by_style = results["by_style"]
    assert list(by_style) == ["factoid", "zh_paraphrase", "unlabelled"]
    assert [(g["n"], g["n_answerable"], g["n_unanswerable"]) for g in by_style.values()] == [(2, 1, 1), (1, 1, 0),
                                                                                              (1, 0, 1)]
    factoid = [i for i in items if i["style"] == "factoid"]
    assert by_style["factoid"]["accuracy"] == sum(i["metrics"]["correct"] for i in factoid) / 2
    assert by_style["zh_paraphrase"]["refusal_accuracy"] is None  # no unanswerable item of that style
    assert {k: g["n"] for k, g in results["by_language"].items()} == {"en": 3, "zh": 1}
    answered = [i for i in items if not i["refused"]]
    if answered:  # the curve ends at the share answered, with the selective precision as its accuracy
        assert results["risk_coverage"][-1]["coverage"] == len(answered) / 4
        assert results["risk_coverage"][-1]["accuracy"] == results["summary"]["selective_precision"]

    out = tmp_path / "out"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"- gold files: `{first}`, `{second}`; split: test (4 items" in report
    assert "## By question style" in report and "| factoid | 2 | 1 | 1 |" in report
    assert "| unlabelled | 1 | 0 | 1 |" in report
    assert "## By language" in report and "| zh | 1 | 1 | 0 |" in report
    assert "## Risk–coverage" in report and "| selective_precision |" in report
    for plot in ("by_style.png", "risk_coverage.png"):
        assert (out / "plots" / plot).read_bytes().startswith(PNG_MAGIC)


def test_an_empty_split_is_an_error(corpus_settings: Settings, tmp_path: Path) -> None:
    gold = write_gold(tmp_path / "gold.jsonl", [gold_record(ids_in("train", 1)[0])])
    with pytest.raises(EvalError, match=r"no gold items in the test split of .*gold\.jsonl"):
        run_eval(gold, tmp_path / "out", corpus_settings, split="test", progress=False)


def test_documents_a_gold_file_cites_are_added_from_the_docs_folder(
        tmp_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ingest.pipeline import ingest_sources, list_documents

    base = tmp_path / "indexed" / "base-notes.md"
    base.parent.mkdir()
    base.write_text("# Base notes\n\nThe K visa was introduced on 1 October 2025.\n", encoding="utf-8")
    assert ingest_sources([str(base)], tmp_settings, progress=False).ok
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gold-extra-doc.txt").write_text("The Zeta permit costs 4,321 yuan and lasts 90 days.\n", encoding="utf-8")
    (docs / "gold-extra-doc.meta.yaml").write_text("title: Zeta permit notes\n", encoding="utf-8")
    (docs / "unrelated.md").write_text("# Unrelated\n\nNot cited by any gold item.\n", encoding="utf-8")
    gold = write_gold(tmp_path / "gold.jsonl", [
        gold_record("z-1", "How much does the Zeta permit cost?", facts=("4,321",), sources=("gold-extra-doc",)),
        gold_record("z-2", "When was the K visa introduced?", facts=("1 October 2025",), sources=("base-notes",)),
    ])

    results = run_eval(gold, tmp_path / "out", tmp_settings, docs_dir=docs, progress=False)
    assert results["run"]["docs_added"] == ["gold-extra-doc"] and results["run"]["warnings"] == []
    documents = {e.doc_id: e for e in list_documents(tmp_settings)}
    assert set(documents) == {"base-notes", "gold-extra-doc"}  # only the cited file, never the rest of the folder
    assert documents["gold-extra-doc"].title == "Zeta permit notes"  # its sidecar was read
    assert "added to the index for the gold items" in capsys.readouterr().err
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert f"- added to the index for this run, from `{docs}`: gold-extra-doc" in report

    again = run_eval(gold, tmp_path / "out", tmp_settings, docs_dir=docs, progress=False)
    assert again["run"]["docs_added"] == []  # only when missing
    assert "added to the index" not in capsys.readouterr().err
