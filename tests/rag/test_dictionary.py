"""The general Chinese-to-English dictionary: the English of a Chinese word, behind the user's glossary."""

from __future__ import annotations

import orjson
import pytest

from rag import dictionary
from rag.dictionary import english, simplified
from rag.terms import Glossary


def test_a_word_gets_its_first_senses_in_plain_english() -> None:
    assert english("工人") == "worker"
    assert english("技术").split("; ")[:2] == ["technology", "technique"]
    assert "apply for" in english("申请")  # "to apply for sth": the verb's pattern words are dropped


def test_an_unknown_word_has_no_english() -> None:
    assert english("拉克港") == ""  # a made-up place name
    assert english("visa") == ""


def test_a_word_the_dictionary_lacks_is_read_as_the_words_inside_it() -> None:
    assert english("担保人") == english("担保")  # "guarantor": "guarantee" and a lone "人", too vague to add
    assert english("停车证费用") == f"{english('停车')}; {english('费用')}"  # the longest known words, in order
    assert english("停到") == ""  # two single characters: no word of two or more inside


def test_the_glossary_comes_first_and_the_dictionary_can_be_turned_off() -> None:
    assert Glossary({"工人": "employee"}).english("工人") == "employee"
    assert Glossary().english("工人") == "worker"
    assert Glossary(general=False).english("工人") == ""
    assert Glossary().english("worker") == ""  # English words are not looked up


@pytest.mark.parametrize(("parsed", "use", "file", "key", "value"), [
    ("_entries", lambda: english("工人") == "worker", "cedict-[0-9a-f]*.json", "工人", "worker"),
    ("_to_simplified", lambda: simplified("許可") == "许可", "cedict-simplified-*.json", str(ord("許")), "许"),
])
def test_what_is_parsed_is_kept_in_the_cache_folder_and_rebuilt_when_damaged(tmp_path, monkeypatch, parsed, use, file,
                                                                              key, value) -> None:
    monkeypatch.setattr(dictionary, "_cache_dir", tmp_path)
    getattr(dictionary, parsed).cache_clear()
    try:
        assert use()
        (cached,) = tmp_path.glob(file)
        cached.write_bytes(b'{"truncated')
        getattr(dictionary, parsed).cache_clear()
        assert use()
        assert orjson.loads(cached.read_bytes())[key] == value
    finally:
        getattr(dictionary, parsed).cache_clear()  # the next user reads with its own cache folder


def test_traditional_characters_are_read_in_their_simplified_form() -> None:
    assert simplified("居留許可申請費是多少？") == "居留许可申请费是多少？"
    assert simplified("頭髮 and English stay") == "头发 and English stay"
    assert simplified("乾隆") == "乾隆"  # 乾 is also a simplified character: it is never converted
