"""The answering and ingest code holds general language behaviour, never the wording of this corpus."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kvisa.settings import PROJECT_ROOT
from tests.conftest import CORPUS

CODE = sorted([*(PROJECT_ROOT / "rag").glob("*.py"), *(PROJECT_ROOT / "ingest").glob("*.py")])
# Phrases that once encoded this corpus in code: detectors of its "not stated" sections and their wording
# (a table cell may still *say* "not stated"), the cue words of the article's two adverts, and glossary
# entries that translated gold key facts.
CORPUS_SPECIFIC = ['"not stated" in', "not (stated", "breaks off", "cut off", "industry-leading",
                   "industry[- ]leading", "preferred solution", "rugged", "certified pc", "aerospace", "li qiang",
                   "李强"]
SHINGLE = 6  # words in a row that would give a corpus sentence away


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[\u4e00-\u9fff]", text.lower())


def _string_literals(path: Path) -> list[str]:
    return [node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def _corpus_shingles() -> set[tuple[str, ...]]:
    shingles = set()
    for doc in CORPUS.iterdir():
        if doc.suffix in (".md", ".txt"):
            words = _words(doc.read_text(encoding="utf-8"))
            shingles.update(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
    return shingles


@pytest.mark.parametrize("path", CODE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_repeats_a_corpus_sentence(path: Path) -> None:
    shingles = _corpus_shingles()
    for literal in _string_literals(path):
        words = _words(literal)
        leaked = [" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)
                  if tuple(words[i : i + SHINGLE]) in shingles]
        assert not leaked, f"{path.name} repeats corpus wording: {leaked[0]!r}"


@pytest.mark.parametrize("path", CODE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_holds_a_corpus_specific_phrase(path: Path) -> None:
    source = path.read_text(encoding="utf-8").lower()
    found = [phrase for phrase in CORPUS_SPECIFIC if phrase in source]
    assert not found, f"{path.name} holds corpus-specific wording: {found}"


def test_the_answerer_runs_without_the_glossary(tmp_path: Path) -> None:
    from rag.question import analyse
    from rag.terms import Glossary, glossary, use_glossary

    kept = glossary()
    try:
        use_glossary(Glossary.load(tmp_path / "missing.yaml"))
        question = analyse("What is the application fee for the F-1 visa?")
        assert question.answer_type == "money" and question.attribute is not None
        assert question.attribute.text == "fee" and question.visa_classes == {"F-1"}
    finally:
        use_glossary(kept)
