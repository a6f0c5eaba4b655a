"""Composing an answer from evidence units: a list's introduction reads before its items."""

from __future__ import annotations

from rag.compose import with_continuations
from rag.retrieve import Evidence
from rag.types import Passage

TEXT = ("The office will promptly:\n- publish the conditions;\n- open the online form;\n- train its staff.\n"
        "Opening hours are nine to five.")
PASSAGE = Passage("office#0", "office", TEXT, 1.0, title="Office notice", start=0, end=len(TEXT))


def _unit(text: str, line_start: bool = True) -> Evidence:
    at = TEXT.index(text)
    metadata = {"doc_id": "office", "start": at, "end": at + len(text), "kind": "sentence", "line_start": line_start}
    return Evidence(f"office:{at}", text, metadata, PASSAGE, rank=0, terms=frozenset(text.lower().split()))


INTRO = _unit("The office will promptly:")
ITEMS = [_unit(t) for t in ("publish the conditions;", "open the online form;", "train its staff.")]


def _read_on(unit: Evidence, n: int) -> list[Evidence]:
    return [u for u in ITEMS if u.start > unit.start][:n]


def test_an_introduction_ranked_after_one_of_its_items_is_quoted_before_them() -> None:
    units = with_continuations([ITEMS[1], INTRO], _read_on, list_items=8, max_words=60)
    assert [u.text for u in units] == [INTRO.text, *(u.text for u in ITEMS)]


def test_units_without_an_introduction_keep_their_rank_order() -> None:
    hours = _unit("Opening hours are nine to five.")
    units = with_continuations([hours, ITEMS[2]], _read_on, list_items=8, max_words=60)
    assert [u.text for u in units] == [hours.text, ITEMS[2].text]  # the best first, though it comes later


def test_the_best_units_list_is_not_cut_short_by_the_units_after_it() -> None:
    # 4 words of introduction and 10 of items fit in 15; the 6-word unit ranked after it comes after them.
    hours = _unit("Opening hours are nine to five.")
    units = with_continuations([INTRO, hours], _read_on, list_items=8, max_words=15)
    assert [u.text for u in units] == [INTRO.text, *(u.text for u in ITEMS), hours.text]
