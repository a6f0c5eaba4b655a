"""Content tokens: one number, however it is written, is one token; a Chinese text is also read in English."""

from __future__ import annotations

import pytest

from rag.terms import Glossary, covers, gloss_terms, glossary, language_of, tokenize, use_glossary


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


def test_a_chinese_text_is_glossed_into_english_terms_with_the_glossary_in_force() -> None:
    try:
        use_glossary(Glossary({"施行": "put into effect", "决定": "decision"}, general=False))
        assert gloss_terms("《决定》从10月1日开始施行。") >= {"decision", "effect"}
        assert gloss_terms("The decision takes effect on 1 October.") == frozenset()  # nothing to gloss
        use_glossary(Glossary({"施行": "implement"}, general=False))  # a new glossary is not answered from cache
        assert gloss_terms("《决定》从10月1日开始施行。") == {"implement"}
    finally:
        use_glossary(Glossary())


def test_a_paraphrase_meets_a_chinese_unit_through_the_english_of_both() -> None:
    """"生效" and "施行" share no character, but both mean "take effect": a question asking when a rule 生效
    is about a unit saying it 施行 from a date, as an English question asking when it takes effect is."""
    try:
        use_glossary(Glossary({"生效": "take effect", "施行": "put into effect"}, general=False))
        unit = "《决定》从2025年10月1日开始施行。"
        terms = frozenset(tokenize(unit)) | gloss_terms(unit)
        asked = ("生效", *tokenize(glossary().english("生效")))
        assert not covers(("生效",), frozenset(tokenize(unit)))
        assert covers(asked, terms)
        assert covers(tokenize("effective"), terms)  # "When does it become effective?"
    finally:
        use_glossary(Glossary())


def test_a_light_verb_carries_no_topic() -> None:
    # "get" in "If I get a flat tyre" is not what a sentence about flat tyres must repeat.
    assert tokenize("If I get a flat tyre, will they charge me?") == tokenize("If I a flat tyre, will they charge me?")


def test_a_text_is_chinese_when_it_holds_any_chinese_character() -> None:
    assert language_of("How long is a K visa valid?") == "en"
    assert language_of("K字签证的有效期是多久？") == "zh"
    assert language_of("What does 人才 mean here?") == "zh"  # one Chinese word makes the answer Chinese


def test_a_class_code_is_one_token_however_its_dash_is_written() -> None:
    assert tokenize("H-1B h1b H1-B") == ("h-1b", "h-1b", "h-1b")
    assert tokenize("Q1 B1 FY2026 E-7-T") == ("q1", "b1", "fy2026", "e-7-t")  # other codes stay as written

