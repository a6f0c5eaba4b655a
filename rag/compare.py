"""Comparisons: for each aspect, the best unit about each subject, so a table can set them side by side."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache

from rag.question import Question, content_words
from rag.retrieve import Evidence
from rag.score import CLASS_NAME, ScoredUnit, classes_of
from rag.terms import covers, glossary, tokenize

Row = tuple[str, list[ScoredUnit | None]]
FindUnits = Callable[[str], list[ScoredUnit]]  # a query -> scored candidate units, best first
OVERVIEW = "overview"
# A cell quotes a unit the scorer gives at least even odds of stating an answer (a probability, not a tuned value).
CELL_SCORE = 0.5


def about(subject: str, evidence: Evidence) -> bool:
    """Is the unit about the subject? A visa class by the classes it is about; a phrase by its words."""
    if CLASS_NAME.fullmatch(subject):
        return subject in classes_of(evidence)
    # A named subject must be in the unit or its section: a document's title ("notice to Blue Card holders")
    # does not make every sentence of it about that subject.
    words = tokenize(subject)
    section = frozenset(tokenize(evidence.metadata.get("section", "")))
    return bool(words) and all(covers((w,), evidence.terms | section) for w in words)


@cache
def _comparing() -> frozenset[str]:
    """Words that say "compare" or name what is compared, not an aspect of it. Tokenised on first use, not at
    import: the Chinese words need jieba's dictionary, which the Assistant loads from its fast cache first."""
    return frozenset(tokenize("differ difference different compare comparison versus vs contrast similar "
                              "similarity common program programme visa 区别 不同 差异 相比 比较 异同 对比"))


def aspects_of(question: Question) -> dict[str, tuple[str, ...]]:
    """Aspect name -> words that signal it: those the question names ("on fees", "the K visa's validity"),
    else the glossary's list."""
    if question.aspects:
        return {aspect: content_words(aspect) for aspect in question.aspects}
    subjects = {t for s in question.subjects for t in tokenize(s)} | {s.lower() for s in question.subjects}
    rest = [t.text for t in question.focus if t.text not in _comparing()
            and not any(t.text == s or t.text.startswith(f"{s}'") for s in subjects)]
    if rest:
        return {" ".join(rest): tuple(rest)}
    return {name: _with_alternatives(tuple(t for word in words for t in tokenize(word)))
            for name, words in glossary().aspects.items()}


def _with_alternatives(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*words, *(alt for w in words for alt in glossary().alternatives(w))]))


def speaks_of(words: tuple[str, ...], named: bool, evidence: Evidence) -> bool:
    """An aspect the question names needs each of its words (or a glossary equivalent); a glossary aspect is
    signalled by any one of its words."""
    terms = evidence.terms
    if evidence.metadata.get("kind") == "table_row":  # a row speaks of what its columns are headed
        terms = terms | evidence.header_terms
    if named:
        return all(covers(_with_alternatives((w,)), terms) for w in words)
    return covers(words, terms)


def _best(subject: str, others: list[str], words: tuple[str, ...], named: bool,
          candidates: list[ScoredUnit]) -> ScoredUnit | None:
    """The best unit about the subject that speaks of the aspect; one about the subject alone beats one
    that sets it against the other subject ("Unlike X, Y ...")."""
    matching = [u for u in candidates if about(subject, u.evidence) and speaks_of(words, named, u.evidence)
                and not u.features["absent"] and not u.features["class_conflict"] and u.score >= CELL_SCORE]
    return max(matching, key=lambda u: (not any(about(o, u.evidence) for o in others), u.score), default=None)


def _column_of(subject: str, header: list[str]) -> int | None:
    """The column whose heading names the subject ("Green Card" in "| | Blue Card | Green Card |")."""
    words = tokenize(subject)
    for i, heading in enumerate(header[1:], start=1):
        if heading == subject or (words and all(covers((w,), frozenset(tokenize(heading))) for w in words)):
            return i
    return None


def side_by_side(question: Question, words: tuple[str, ...], named: bool,
                 candidates: list[ScoredUnit]) -> list[ScoredUnit | None] | None:
    """A table row that already sets the subjects side by side, one column each, on this aspect: each
    subject's cell, cited to that row. None when no candidate row does. Of several such rows, the one whose
    label repeats most of the question's own words ("Who can apply" for "who can apply?") comes first."""
    rows = []
    for unit in candidates:
        evidence = unit.evidence
        if evidence.metadata.get("kind") != "table_row" or unit.score < CELL_SCORE \
                or not speaks_of(words, named, evidence):
            continue
        header = [c.strip() for c in evidence.metadata.get("header", "").strip().strip("|").split("|")]
        columns = [_column_of(s, header) for s in question.subjects]
        cells = [c.strip() for c in evidence.text.strip().strip("|").split("|")]
        if None in columns or len(set(columns)) < len(columns) or max(columns) >= len(cells):
            continue
        rows.append((_label_overlap(cells[0], question.text), unit, [cells[c] for c in columns]))
    if not rows:
        return None
    _, unit, chosen = max(rows, key=lambda row: row[0])  # the first (best scored) of equal overlaps
    return [_cell(unit, text) if text else None for text in chosen]


def _label_overlap(label: str, question: str) -> int:
    """Words a row's label shares with the question, function words included: they tell "who" from "where"."""
    return len(set(re.findall(r"\w+", label.lower())) & set(re.findall(r"\w+", question.lower())))


def _cell(row: ScoredUnit, text: str) -> ScoredUnit:
    """One cell of a table row as a unit of its own, its offsets on the cell's words (what a citation quotes)."""
    start = row.evidence.start + max(0, row.evidence.text.find(text))
    metadata = {**row.evidence.metadata, "kind": "table_cell", "start": start, "end": start + len(text)}
    return replace(row, evidence=replace(row.evidence, text=text, metadata=metadata))


def compare(question: Question, find: FindUnits) -> list[Row]:
    """One row per aspect covered for at least one subject; a subject it does not cover gets None.
    Empty when no aspect is covered for all subjects.

    Without any aspect (none named, no glossary), one "overview" row holds the best unit about each subject.
    """
    rows: list[Row] = []
    aspects = aspects_of(question)
    named = not glossary().aspects or set(aspects) != set(glossary().aspects)
    for aspect, words in aspects.items():
        if not words:
            continue
        cells = side_by_side(question, words, named,
                             find(f"{' '.join(question.subjects)} {aspect} {' '.join(words)}"))
        cells = cells or [_best(s, [o for o in question.subjects if o != s], words, named,
                                find(f"{s} {aspect} {' '.join(words)}")) for s in question.subjects]
        if any(cells):
            rows.append((aspect, cells))
    if not aspects:  # nothing to compare on (no aspect named, no glossary): the best unit about each subject
        cells = [max((u for u in find(f"{s} {question.text}") if about(s, u.evidence) and u.score >= CELL_SCORE),
                     key=lambda u: u.score, default=None) for s in question.subjects]
        rows.append((OVERVIEW, cells))
    # A table needs at least one aspect the corpus covers for every subject; otherwise it compares nothing,
    # and the question is answered (or refused) like any other.
    return rows if any(all(cells) for _, cells in rows) else []
