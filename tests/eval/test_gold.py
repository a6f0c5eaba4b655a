"""Gold files: the shipped sets load, and bad lines are rejected with their line number and problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldError, load_gold, parse_gold
from kvisa.settings import PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT / "eval"
CORPUS_IDS = {p.name.split(".")[0] for p in (PROJECT_ROOT / "corpus").iterdir()} - {"README"}


def _line(**overrides) -> str:
    record = {"id": "t-1", "question": "What is the fee?", "answer": "$100,000.",
              "key_facts": ["$100,000"], "sources": ["us-proclamation-10973"], "answerable": True}
    record.update(overrides)
    return json.dumps(record, ensure_ascii=False)


@pytest.mark.parametrize("name", ["gold_dev.jsonl", "gold_extra.jsonl"])
def test_shipped_gold_sets_load_and_cite_real_documents(name: str) -> None:
    items = load_gold(EVAL_DIR / name)
    assert len({i.id for i in items}) == len(items)
    assert {s for i in items for s in i.sources} <= CORPUS_IDS


def test_extra_set_covers_what_the_dev_set_misses() -> None:
    extra = load_gold(EVAL_DIR / "gold_extra.jsonl")
    dev_questions = {i.question for i in load_gold(EVAL_DIR / "gold_dev.jsonl")}
    assert len(extra) >= 30 and all(i.id.startswith("extra-") for i in extra)
    assert not dev_questions & {i.question for i in extra}
    assert sum(i.language == "zh" for i in extra) >= 8
    assert sum(len(i.sources) > 1 for i in extra) >= 8
    assert sum(not i.answerable for i in extra) >= 8


def test_item_fields_and_language() -> None:
    items = parse_gold(_line() + "\n\n" + _line(id="t-2", question="K字签证发给什么人？") + "\n")
    assert [i.id for i in items] == ["t-1", "t-2"]
    assert items[0].key_facts == ("$100,000",) and items[0].answerable
    assert [i.language for i in items] == ["en", "zh"]


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        (_line(answerable="yes"), '"answerable" must be true or false'),
        (json.dumps({"id": "x", "question": "q"}), 'missing keys "answer", "key_facts", "sources", "answerable"'),
        (_line(key_facts="$100,000"), '"key_facts" must be a list of strings'),
        (_line(sources=[1]), '"sources" must be a list of strings'),
        (_line(question="  "), '"question" is empty'),
        (_line(key_facts=[]), 'needs at least one entry in "key_facts"'),
        (_line(sources=[]), 'needs at least one entry in "sources"'),
        (_line(answerable=False), 'must have empty "key_facts" and "sources"'),
        (_line(id="t-0"), 'duplicate id "t-0" (first on line 1)'),
    ],
)
def test_a_bad_line_is_named_with_its_number_and_problem(bad_line: str, problem: str) -> None:
    text = _line(id="t-0") + "\n" + _line(id="t-1") + "\n" + bad_line + "\n"
    with pytest.raises(GoldError) as caught:
        parse_gold(text, "mine.jsonl")
    assert str(caught.value).startswith("mine.jsonl:3: ")
    assert problem in str(caught.value)


def test_every_bad_line_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join([_line(), "oops", _line(id="t-2"), _line(id="t-3", sources=[])]), encoding="utf-8")
    with pytest.raises(GoldError) as caught:
        load_gold(path)
    assert str(caught.value) == f"{path}:2: not valid JSON (Expecting value at column 1) (and 1 more bad lines)"
    assert [p.split(": ")[0] for p in caught.value.problems] == [f"{path}:2", f"{path}:4"]


def test_missing_empty_and_binary_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="gold file not found"):
        load_gold(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(GoldError, match="no gold items"):
        load_gold(tmp_path / "empty.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(GoldError, match="not valid UTF-8"):
        load_gold(tmp_path / "bin.jsonl")
