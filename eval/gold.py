"""Gold Q&A files: one GoldItem per JSON line, validated so a bad line names its number and its problem."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUIRED_KEYS = ("id", "question", "answer", "key_facts", "sources", "answerable")
# Question styles a gold item may be labelled with (optional "style" key), so a report can show each
# weakness as a number. Unanswerable items carry the style of their question too.
STYLES = ("factoid", "vague", "yes_no", "comparison", "why", "definition", "list", "two_part", "zh_paraphrase")
SPLITS = ("train", "test")
TEST_SHARE = 0.4  # share of items in the frozen test split


def split_for(item_id: str) -> str:
    """The fixed split rule: a hash of the id, so an item never moves and nobody chooses its side."""
    bucket = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) / 16**8
    return "test" if bucket < TEST_SHARE else "train"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class GoldError(ValueError):
    """A gold file that cannot be used; the message names the file, the line and the problem."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]  # every bad line, for callers that list them all


@dataclass(frozen=True)
class GoldItem:
    """One gold question with its reference answer, the facts a correct answer states, and its sources."""

    id: str
    question: str
    answer: str
    key_facts: tuple[str, ...]
    sources: tuple[str, ...]
    answerable: bool
    style: str = ""  # one of STYLES, or "" when the file does not label styles
    split: str = ""  # "train" or "test" as recorded in the file; "" when the file does not record one
    draft: bool = False  # a candidate (from feedback) that a person has still to complete
    note: str = ""  # what a draft's author should know (the user's feedback)

    @property
    def language(self) -> str:
        """'zh' when the question is written in Chinese, else 'en'."""
        return "zh" if _CJK.search(self.question) else "en"


def _string_list(record: dict[str, Any], key: str) -> tuple[str, ...]:
    value = record[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'"{key}" must be a list of strings')
    if any(not v.strip() for v in value):
        raise ValueError(f'"{key}" contains an empty string')
    return tuple(v.strip() for v in value)


def _text(record: dict[str, Any], key: str, allow_empty: bool = False) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be a string, not {type(value).__name__}')
    if not allow_empty and not value.strip():
        raise ValueError(f'"{key}" is empty')
    return value.strip()


def _choice(record: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = record.get(key, "")
    if value and value not in allowed:
        raise ValueError(f'"{key}" must be one of {", ".join(allowed)}, not {value!r}')
    return value


def parse_item(line: str) -> GoldItem:
    """One gold line as a GoldItem; raises ValueError saying what is wrong with it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError("missing key" + ("s " if len(missing) > 1 else " ") + ", ".join(f'"{k}"' for k in missing))
    if not isinstance(record["answerable"], bool):
        raise ValueError('"answerable" must be true or false')
    item = GoldItem(
        id=_text(record, "id"),
        question=_text(record, "question"),
        answer=_text(record, "answer", allow_empty=True),
        key_facts=_string_list(record, "key_facts"),
        sources=_string_list(record, "sources"),
        answerable=record["answerable"],
        style=_choice(record, "style", STYLES),
        split=_choice(record, "split", SPLITS),
        draft=record.get("draft") is True,
        note=str(record.get("note", "")),
    )
    if item.split and item.split != split_for(item.id):
        raise ValueError(f'"split" is "{item.split}" but the fixed rule (eval.gold.split_for) puts this id in '
                         f'"{split_for(item.id)}"')
    if item.answerable:
        if item.draft:  # a person completes it before it counts (parse_gold refuses it until then)
            return item
        # Without facts or sources an answerable item could never be scored as right or cited.
        if not item.key_facts:
            raise ValueError('an answerable item needs at least one entry in "key_facts"')
        if not item.sources:
            raise ValueError('an answerable item needs at least one entry in "sources"')
    elif item.key_facts or item.sources:
        raise ValueError('an unanswerable item ("answerable": false) must have empty "key_facts" and "sources"')
    return item


def parse_gold(text: str, name: str = "gold", drafts: bool = False) -> list[GoldItem]:
    """All items of a gold file's text; every bad line is reported as `name:LINE: problem`. Draft items
    (candidates still to be completed) are bad lines unless `drafts` is set."""
    items: list[GoldItem] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines (e.g. a trailing newline) carry no item
        try:
            item = parse_item(line)
        except ValueError as exc:
            problems.append(f"{name}:{number}: {exc}")
            continue
        if item.draft and not drafts:
            problems.append(f'{name}:{number}: a draft: complete "answer", "key_facts" and "sources", then remove '
                            '"draft"')
            continue
        if item.id in first_line:
            problems.append(f'{name}:{number}: duplicate id "{item.id}" (first on line {first_line[item.id]})')
            continue
        first_line[item.id] = number
        items.append(item)
    if problems:
        more = f" (and {len(problems) - 1} more bad lines)" if len(problems) > 1 else ""
        raise GoldError(problems[0] + more, problems)
    if not items:
        raise GoldError(f"{name}: no gold items (expected one JSON object a line)")
    return items


def load_gold(path: Path | str, drafts: bool = False) -> list[GoldItem]:
    """Read and validate a gold JSONL file (with `drafts`, candidates still to be completed pass too)."""
    path = Path(path)
    if not path.is_file():
        raise GoldError(f"{path}: gold file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GoldError(f"{path}: not valid UTF-8 text (bad byte at offset {exc.start})") from exc
    return parse_gold(text, str(path), drafts)
