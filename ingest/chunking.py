"""Structure-aware chunking: sections first, then evidence units (sentences, list items, table rows)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ingest.acronyms import defined_acronyms, expansions_in
from ingest.blocks import LIST_MARKER, Block, line_blocks, markdown_blocks
from ingest.clean import is_section_label
from ingest.documents import Chunk, Document, Unit
from ingest.paragraphs import MARKDOWN, MARKUP_KEY, ends_sentence
from ingest.sentences import sentence_spans

TokenCounter = Callable[[list[str]], list[int]]
# The model window is 256 word pieces including [CLS] and [SEP].
HARD_TOKEN_LIMIT = 254


@dataclass
class Section:
    """The units under one heading path."""

    path: list[str]
    units: list[Unit] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " > ".join(self.path)


def _looks_like_plain_heading(line: str, next_line: str) -> bool:
    """A short title line with no final punctuation, followed by longer text (headings in .txt files)."""
    words = line.split()
    return (
        0 < len(words) <= 10
        and (line[0].isupper() or unicodedata.east_asian_width(line[0]) == "W")  # Chinese has no capitals
        and line[-1] not in ".!?:;,。！？：；，"
        and not LIST_MARKER.match(line)
        and bool(next_line.strip())
        and len(next_line) > len(line)
    )


def read_blocks(doc: Document) -> list[Block]:
    """The document's blocks, with plain-text headings and section labels ("References:") made headings."""
    reader = markdown_blocks if doc.metadata.get(MARKUP_KEY) == MARKDOWN else line_blocks
    blocks = reader(doc.text)
    has_headings = any(b.kind == "heading" for b in blocks)
    for i, (block, after) in enumerate(zip(blocks, [*blocks[1:], None], strict=True)):
        if block.kind != "text" or block.item:
            continue
        line = doc.text[block.start : block.end]
        next_line = doc.text[after.start : after.end] if after else ""
        # The first line a plain text was titled by is its title, whatever follows it (a numbered heading, say),
        # unless it is a sentence: a text of one sentence is titled by it and still says it.
        is_title = (i == 0 and not has_headings and after is not None and line.strip() == doc.title
                    and not ends_sentence(line.rstrip()))
        if is_title or is_section_label(line) or (not has_headings and _looks_like_plain_heading(line, next_line)):
            title = line.strip("*_ ").rstrip(":：").strip()
            # A first line that is the document's title heads the whole text, as a single "# " does in Markdown.
            block.kind, block.level, block.title = "heading", 1 if i == 0 and title == doc.title else 2, title
    return blocks


def _table_row_unit(text: str, row: Block, section: str) -> Unit:
    pairs = "; ".join(f"{h}: {c}" for h, c in zip(row.header, row.cells, strict=False) if c)
    header_line = "| " + " | ".join(row.header) + " |"
    line = text[row.start : row.end]
    return Unit(row.start, row.end, line, f"{section}: {pairs}", kind="table_row", header=header_line)


# A paragraph may open with a run-in heading ("Salary. From 1 January ..."): a word or three ending in a period.
# Alone it says nothing. It heads its paragraph as a heading would, and stays in the sentence after it, so the
# unit reads as written. An answer word ("No. The FAQ ...") is a sentence of its own.
_RUN_IN = re.compile(r"[A-Z][\w'’-]*(?:\s+[\w'’-]+){0,2}\.")
_ANSWER_WORDS = frozenset("yes no none not ok okay right wrong true false correct indeed".split())


def run_in_heading(paragraph: str, spans: list[tuple[int, int]]) -> str:
    """The run-in heading a paragraph (split into sentence `spans`) opens with, without its period; "" when none."""
    first = paragraph[spans[0][0] : spans[0][1]] if len(spans) > 1 else ""
    if _RUN_IN.fullmatch(first) and first.rstrip(".").lower() not in _ANSWER_WORDS:
        return first.rstrip(".")
    return ""


def _text_units(text: str, block: Block, section: str, spans: list[tuple[int, int]], run_in: bool) -> list[Unit]:
    """The sentences (`spans` of the block's text) of one paragraph or list item; the first one starts its line.
    A run-in heading stays in the sentence after it."""
    body = text[block.start : block.end]
    if run_in:
        spans = [(spans[0][0], spans[1][1]), *spans[2:]]
    units = []
    for a, b in spans:
        piece = body[a:b].strip("*_ ")  # emphasis around a sentence is not part of it
        if piece:
            start = block.start + body.index(piece, a)
            units.append(Unit(start, start + len(piece), piece, f"{section}: {piece}", line_start=not units))
    return units


def split_sections(doc: Document) -> list[Section]:
    """Walk the document's blocks once, grouping evidence units under their heading path."""
    blocks = read_blocks(doc)
    top_is_title = sum(1 for b in blocks if b.kind == "heading" and b.level == 1) == 1
    path: list[tuple[int, str]] = []
    shown: list[str] = []
    sections = [Section([])]
    for block in blocks:
        if block.kind == "heading":
            path = [p for p in path if p[0] < block.level] + [(block.level, block.title.strip("*_ "))]
            shown = [t for lvl, t in path if not (top_is_title and lvl == 1)]
            sections.append(Section(shown))
            continue
        if block.kind == "row":
            section = sections[-1]
            section.units.append(_table_row_unit(doc.text, block, section.name or doc.title))
            continue
        body = doc.text[block.start : block.end]
        spans = sentence_spans(body)
        label = run_in_heading(body, spans)
        if label:  # the paragraph is a section of its own, under its run-in heading; the next one is not
            sections.append(Section([*shown, label]))
        section = sections[-1]
        section.units.extend(_text_units(doc.text, block, section.name or doc.title, spans, bool(label)))
        if label:
            sections.append(Section(shown))
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
        acronyms = defined_acronyms(doc.text)
        for section in split_sections(doc):
            prefix = f"{doc.title}\n{section.name}\n" if section.name else f"{doc.title}\n"
            budget = self.max_tokens - self.count([prefix])[0] - 8
            units = self._fit_units(section.units, max(budget, 32))
            headings_expand = expansions_in(f"{doc.title}\n{section.name}", acronyms)
            for unit in units:
                unit.expands = expansions_in(unit.text, acronyms)
                unit.headings_expand = headings_expand
                if unit.expands:  # embedded with what its acronyms stand for: "CLB 5" is about language
                    unit.context = f"{unit.context} ({unit.expands})"
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
