"""jieba's dictionary from kvisa's cache is the very dictionary jieba builds: the same words, the same cuts."""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest

from rag.jieba_cache import cache_path, load_jieba
from tests.conftest import corpus_text


@pytest.fixture(scope="module")
def own() -> jieba.Tokenizer:
    """jieba's own loading of its default dictionary."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def test_the_first_load_writes_the_cache_and_the_next_reads_the_same_dictionary(tmp_path: Path, own) -> None:
    first = jieba.Tokenizer()
    load_jieba(tmp_path, first)
    assert cache_path(tmp_path).is_file()
    second = jieba.Tokenizer()
    load_jieba(tmp_path, second)
    assert second.initialized
    assert second.total == own.total
    assert second.FREQ == own.FREQ
    text = corpus_text("prc-decree-814-k-visa-zh")
    assert second.lcut_for_search(text) == own.lcut_for_search(text)
    assert second.lcut(text) == own.lcut(text)


@pytest.mark.parametrize("damage", ["foreign", "truncated"])
def test_a_damaged_cache_is_rebuilt(tmp_path: Path, own, damage: str) -> None:
    load_jieba(tmp_path, jieba.Tokenizer())
    path = cache_path(tmp_path)
    path.write_bytes(b"not a cache" if damage == "foreign" else path.read_bytes()[: path.stat().st_size // 2])
    tokenizer = jieba.Tokenizer()
    load_jieba(tmp_path, tokenizer)
    assert tokenizer.FREQ == own.FREQ
    again = jieba.Tokenizer()
    load_jieba(tmp_path, again)  # from the rewritten cache
    assert again.FREQ == own.FREQ and again.total == own.total


def test_a_custom_dictionary_keeps_jiebas_own_loading(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("签证 100 n\n", encoding="utf-8")
    tokenizer = jieba.Tokenizer(str(words))
    load_jieba(tmp_path / "cache", tokenizer)
    assert not tokenizer.initialized
    assert not (tmp_path / "cache").exists()
