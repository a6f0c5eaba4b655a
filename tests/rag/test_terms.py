"""Content tokens: one number, however it is written, is one token."""

from __future__ import annotations

import pytest

from rag.terms import tokenize


@pytest.mark.parametrize(("written", "number"), [
    ("$100k", "100000"),
    ("$100,000", "100000"),
    ("10万美元", "100000"),
    ("0.1 million dollars", "100000"),
    ("2.5 thousand", "2500"),
    ("3亿元", "300000000"),
])
def test_a_number_with_a_multiplier_is_the_number(written: str, number: str) -> None:
    assert number in tokenize(written)


def test_numbers_without_a_multiplier_stay_as_written() -> None:
    assert tokenize("the 1.5 rate in 2024, for 12 months") == ("1.5", "rate", "2024", "12", "month")
    assert tokenize("7 thousands of them") == ("7", "thousand")  # a plural is not a multiplier
