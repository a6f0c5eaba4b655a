"""Structure-aware chunking: sections first, then evidence units (sentences, list items, table rows)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ingest.documents import Chunk, Document, Unit
from ingest.sentences import sentence_spans

TokenCounter = Callable[[list[str]], list[int]]
# The model window is 256 word pieces including [CLS] and [SEP].
HARD_TOKEN_LIMIT = 254

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST_MARKER = re.compile(r"^(?:[-*+•]|\d{1,3}[.)]|\(\d{1,3}\)|[a-z][.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


@dataclass
class Section:
    """The lines under one heading path."""

    path: list[str]
    units: list[Unit] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " > ".join(self.path)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    position = 0
    for line in text.split("\n"):
        yield position, line
        position += len(line) + 1


def _looks_like_plain_heading(line: str, next_line: str) -> bool:
    """A short title-case line with no final punctuation, followed by text (headings in .txt files)."""
    words = line.split()
    return (
        0 < len(words) <= 10
        and line[0].isupper()
        and line[-1] not in ".!?:;,。！？："
        and not _LIST_MARKER.match(line)
        and bool(next_line.strip())
        and len(next_line) > len(line)
    )


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table_row_unit(start: int, row: str, header: list[str], section: str) -> Unit:
    pairs = "; ".join(f"{h}: {c}" for h, c in zip(header, _cells(row), strict=False) if c)
    header_line = "| " + " | ".join(header) + " |"
    return Unit(start, start + len(row), row, f"{section}: {pairs}", kind="table_row", header=header_line)


def _text_units(start: int, line: str, section: str) -> list[Unit]:
    marker = _LIST_MARKER.match(line)
    body_start = start + (marker.end() if marker else 0)
    body_text = line[marker.end() :] if marker else line
    units = []
    for a, b in sentence_spans(body_text):
        text = body_text[a:b].strip("*_ ")
        if text:
            offset = body_text.index(text, a)
            start = body_start + offset
            units.append(Unit(start, start + len(text), text, f"{section}: {text}", line_start=not units))
    return units


def split_sections(doc: Document) -> list[Section]:
    """Walk the cleaned text once, grouping evidence units under their heading path."""
    lines = list(_lines(doc.text))
    has_markdown_headings = any(_HEADING.match(line) for _, line in lines)
    top_is_title = sum(1 for _, line in lines if line.startswith("# ")) == 1
    path: list[tuple[int, str]] = []
    sections = [Section([])]
    header: list[str] = []
    for i, (start, line) in enumerate(lines):
        next_line = lines[i + 1][1] if i + 1 < len(lines) else ""
        heading = _HEADING.match(line)
        if heading or (not has_markdown_headings and _looks_like_plain_heading(line, next_line)):
            level, title = (len(heading.group(1)), heading.group(2).strip()) if heading else (2, line.strip())
            path = [p for p in path if p[0] < level] + [(level, title.strip("*_ "))]
            shown = [t for lvl, t in path if not (top_is_title and lvl == 1)]
            sections.append(Section(shown))
            header = []
            continue
        section = sections[-1]
        if line.startswith("|"):
            if _TABLE_SEPARATOR.match(line):
                continue
            if not header:
                header = _cells(line)
                continue
            section.units.append(_table_row_unit(start, line, header, section.name or doc.title))
            continue
        header = []
        if line.strip():
            section.units.extend(_text_units(start, line, section.name or doc.title))
    return [s for s in sections if s.units]


def _split_long_unit(unit: Unit, limit: int, count: TokenCounter) -> list[Unit]:
    """Cut a unit that alone exceeds the window into word (or character, for Chinese) pieces."""
    pieces = re.findall(r"\S+\s*", unit.text) if " " in unit.text else list(unit.text)
    out, current, offset = [], "", unit.start
    for piece in pieces:
        if current and count([current + piece])[0] > limit:
            text = current.rstrip()
            out.append(Unit(offset, offset + len(text), text, text, unit.kind))
            offset += len(current)
            current = ""
        current += piece
    if current.strip():
        text = current.rstrip()
        out.append(Unit(offset, offset + len(text), text, text, unit.kind))
    return out


class Chunker:
    """Packs each section's units into chunks that fit the embedding window, with a small overlap."""

    def __init__(self, count_tokens: TokenCounter, max_tokens: int = 200, overlap: int = 1) -> None:
        self.count = count_tokens
        self.max_tokens = min(max_tokens, HARD_TOKEN_LIMIT)
        self.overlap = overlap

    def run(self, doc: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section in split_sections(doc):
            prefix = f"{doc.title}\n{section.name}\n" if section.name else f"{doc.title}\n"
            budget = self.max_tokens - self.count([prefix])[0] - 8
            units = self._fit_units(section.units, max(budget, 32))
            for group in self._pack(units, budget):
                chunks.append(self._make_chunk(doc, section, prefix, group, len(chunks)))
        return chunks

    def _fit_units(self, units: list[Unit], limit: int) -> list[Unit]:
        counts = self.count([u.text for u in units])
        fitted: list[Unit] = []
        for unit, tokens in zip(units, counts, strict=True):
            if tokens > limit:
                fitted.extend(_split_long_unit(unit, limit, self.count))
            else:
                unit.tokens = tokens
                fitted.append(unit)
        for unit in fitted:
            unit.tokens = unit.tokens or self.count([unit.text])[0]
        return fitted

    def _pack(self, units: list[Unit], budget: int) -> Iterator[list[Unit]]:
        group: list[Unit] = []
        for unit in units:
            if group and sum(u.tokens + 1 for u in group) + unit.tokens > budget:
                yield group
                group = group[-self.overlap :] if self.overlap else []
                while group and sum(u.tokens + 1 for u in group) + unit.tokens > budget:
                    group.pop(0)
            group.append(unit)
        if group:
            yield group

    def _make_chunk(self, doc: Document, section: Section, prefix: str, units: list[Unit], index: int) -> Chunk:
        start, end = units[0].start, units[-1].end
        text = doc.text[start:end]
        header = units[0].header  # a chunk starting mid-table still embeds its column names
        embed_text = prefix + (header + "\n" if header else "") + text
        while self.count([embed_text])[0] > HARD_TOKEN_LIMIT and header:
            embed_text, header = prefix + text, ""
        page = sum(1 for s in doc.page_starts if s <= start) if doc.page_starts else 0
        chunk_id = f"{doc.doc_id}:{doc.content_hash[:10]}:{index:04d}"
        return Chunk(chunk_id, doc.doc_id, index, start, end, text, section.name, embed_text, units, page)
