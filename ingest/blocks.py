"""Blocks of a cleaned text (headings, paragraphs, list items, table rows) with exact offsets into it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ingest.paragraphs import markdown_parser

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
# Markers of list items in text read line by line; also "(1)" and "a)" that legal texts number with.
LIST_MARKER = re.compile(r"^(?:[-*+•]|\d{1,3}[.)]|\(\d{1,3}\)|[a-z][.)])\s+")
# A Markdown list item's own marker (CommonMark allows up to nine digits), after any quote markers.
_MARKDOWN_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])(?:\s+|$)")
_QUOTE = re.compile(r"^(?:>\s?)+")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


@dataclass
class Block:
    """One heading, paragraph line, list item or table row; `start`/`end` bound its text, markers excluded."""

    kind: str  # heading | text | row
    start: int
    end: int
    level: int = 0  # a heading's level
    title: str = ""  # a heading's text
    item: bool = False  # a text block that is a list item
    cells: list[str] = field(default_factory=list)  # a table row's cells
    header: list[str] = field(default_factory=list)  # the header cells of a row's table


def _lines(text: str) -> Iterator[tuple[int, str]]:
    position = 0
    for line in text.split("\n"):
        yield position, line
        position += len(line) + 1


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def line_blocks(text: str) -> list[Block]:
    """One block a line: `#` headings, `|` table rows (the first row of a table is its header), text lines."""
    blocks: list[Block] = []
    header: list[str] = []
    for start, line in _lines(text):
        heading = _HEADING.match(line)
        if heading:
            title = heading.group(2).strip()
            blocks.append(Block("heading", start, start + len(line), level=len(heading.group(1)), title=title))
            header = []
        elif line.startswith("|"):
            if _TABLE_SEPARATOR.match(line):
                continue
            if not header:
                header = cells(line)
                continue
            blocks.append(Block("row", start, start + len(line), cells=cells(line), header=header))
        else:
            header = []
            if line.strip():
                marker = LIST_MARKER.match(line)
                blocks.append(Block("text", start + (marker.end() if marker else 0), start + len(line),
                                    item=bool(marker)))
    return blocks


def _text_block(line: str, start: int, opens_item: bool) -> Block:
    """A paragraph line without its quote markers and, on an item's first line, its list marker."""
    quote = _QUOTE.match(line)
    offset = quote.end() if quote else 0
    marker = (_MARKDOWN_ITEM if opens_item else LIST_MARKER).match(line[offset:])
    if marker:
        offset += marker.end()
    return Block("text", start + offset, start + len(line), item=opens_item or bool(marker))


def _is_fence_line(line: str, markup: str) -> bool:
    return line.lstrip("> ").startswith(markup)


def markdown_blocks(text: str) -> list[Block]:
    """The blocks of a Markdown text, read with markdown-it: ATX and setext headings, lists at any depth,
    numbered lists, block quotes, GitHub tables (with their header row) and fenced code."""
    lines = text.split("\n")
    starts = [start for start, _ in _lines(text)]
    tokens = markdown_parser().parse(text)
    blocks: list[Block] = []
    header: list[str] = []
    opens_item = False  # the next paragraph is the first of a list item
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "list_item_open":
            opens_item = True
        elif kind == "heading_open" and token.map:
            n = token.map[0]
            blocks.append(Block("heading", starts[n], starts[n] + len(lines[n]), level=int(token.tag[1]),
                                title=tokens[i + 1].content.strip()))
            opens_item = False
        elif kind == "paragraph_open" and token.map:
            # After paragraph rebuilding a paragraph is one line, unless the author ended a line with a hard break.
            first, last = token.map
            blocks.extend(_text_block(lines[n], starts[n], opens_item and n == first) for n in range(first, last))
            opens_item = False
        elif kind == "tr_open" and token.map:
            n = token.map[0]
            row = _row_cells(tokens, i)
            if tokens[i - 1].type == "thead_open":
                header = row
            elif "|" in lines[n]:
                blocks.append(Block("row", starts[n], starts[n] + len(lines[n]), cells=row, header=header))
            else:  # GFM reads a line right after a table as one more row; a reader sees a paragraph
                blocks.append(_text_block(lines[n], starts[n], False))
        elif kind in ("fence", "code_block") and token.map:
            blocks.extend(_text_block(lines[n], starts[n], False) for n in range(*token.map)
                          if lines[n].strip() and not (token.markup and _is_fence_line(lines[n], token.markup)))
            opens_item = False
    return blocks


def _row_cells(tokens: list, i: int) -> list[str]:
    """The inline contents of the cells of the table row opened at tokens[i]."""
    out: list[str] = []
    for token in tokens[i + 1 :]:
        if token.type == "tr_close":
            break
        if token.type == "inline":
            out.append(token.content.strip())
    return out
