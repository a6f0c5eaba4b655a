"""A cache file is replaced whole: no temporary file is left, and a failed write keeps the old one."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.cache_file import write_cache


def test_a_cache_file_is_written_whole_with_nothing_left_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "words.json"
    write_cache(path, b"old")
    write_cache(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["words.json"]


def test_a_write_that_cannot_finish_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "words.json"
    write_cache(path, b"old")
    with pytest.raises(TypeError):
        write_cache(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["words.json"]
