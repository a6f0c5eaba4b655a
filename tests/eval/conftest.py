"""Fixtures of the evaluation tests: a writable copy of the corpus index, and small gold files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from eval.gold import split_for
from kvisa.settings import Settings


@pytest.fixture(scope="session")
def eval_settings(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the corpus index that runs may add eval/docs documents to: corpus_settings is shared by the
    whole session and must stay read-only, and copying its files is much faster than ingesting again."""
    home = tmp_path_factory.mktemp("eval-index") / "home"
    shutil.copytree(corpus_settings.home, home)
    return corpus_settings.model_copy(update={"home": home})


def ids_in(split: str, n: int, prefix: str = "mine") -> list[str]:
    """The first n ids `prefix-K` that the fixed rule (eval.gold.split_for) puts in `split`."""
    found: Iterator[str] = (f"{prefix}-{k}" for k in count() if split_for(f"{prefix}-{k}") == split)
    return [next(found) for _ in range(n)]


def write_gold(path: Path, records: list[dict[str, Any] | str]) -> Path:
    """A gold file of the records, one JSON line each; a string is written as it is (e.g. a blank line)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def gold_record(item_id: str, question: str = "How many K visas were issued in 2025?", *,
                facts: tuple[str, ...] = (), sources: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A gold line: answerable when it has key facts, else a question the corpus does not answer."""
    return {"id": item_id, "question": question, "answer": "; ".join(facts), "key_facts": list(facts),
            "sources": list(sources), "answerable": bool(facts), **extra}
