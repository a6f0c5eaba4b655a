"""The records of answering: retrieved Passages, Citations and the Answer every backend returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class BackendUnavailable(RuntimeError):
    """The chosen answer backend is not installed or not configured; the message says what to do."""


WITHHELD = "(text withheld: it addressed the assistant)"


@dataclass
class Passage:
    """A retrieved chunk with its fused rank score and the metadata needed to cite it."""

    chunk_id: str
    doc_id: str
    text: str
    score: float
    title: str = ""
    section: str = ""
    language: str = "en"
    source_url: str = ""
    start: int = 0
    end: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt_text(self) -> str:
        """The text as an LLM may see it: units that speak to a model (flagged at ingest) left out."""
        text = self.text
        spans = [tuple(map(int, s.split("-"))) for s in str(self.metadata.get("withheld", "")).split(";") if s]
        for start, end in sorted(spans, reverse=True):
            text = f"{text[:start]}{WITHHELD}{text[end:]}"
        return text


@dataclass
class Quote:
    """One span of a cited passage that an answer relies on; a table row keeps its table's header row."""

    text: str
    start: int = 0  # offsets in the cleaned document
    end: int = 0
    header: str = ""  # "| Item | Detail |" when the span is a Markdown table row

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "header": self.header}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        return cls(str(data.get("text", "")), int(data.get("start", 0)), int(data.get("end", 0)),
                   str(data.get("header", "")))


@dataclass
class Citation:
    """One numbered source of an answer. `text` is the cited passage; `quotes` every span relied on, in
    order of use, and `quote` (kept for older readers) the first of them."""

    n: int
    doc_id: str
    title: str
    section: str
    text: str
    source_url: str = ""
    start: int = 0  # offsets of `text` in the cleaned document
    end: int = 0
    quote: str = ""
    quote_start: int = 0  # offsets of `quote` in the cleaned document
    quote_end: int = 0
    language: str = "en"
    quotes: list[Quote] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A citation made with only `quote` (older JSON, tests) still has it as its one span.
        if self.quote and not self.quotes:
            self.quotes = [Quote(self.quote, self.quote_start, self.quote_end)]

    def add_quote(self, quote: Quote) -> None:
        """Cite one more span of the same passage (a span already cited is not repeated)."""
        if not quote.text or any(q.text == quote.text and q.start == quote.start for q in self.quotes):
            return
        self.quotes.append(quote)
        if not self.quote:
            self.quote, self.quote_start, self.quote_end = quote.text, quote.start, quote.end


@dataclass
class TableCell:
    """One cell of a comparison table: text taken from a unit, and the citation it rests on (None: not stated)."""

    text: str
    n: int | None = None


@dataclass
class TableRow:
    """One aspect compared across the table's subjects; `cells` follow the table's subject columns."""

    aspect: str
    cells: list[TableCell]


@dataclass
class ComparisonTable:
    """A comparison answer: columns are "aspect" then one per subject ("K visa", "H-1B")."""

    columns: list[str]
    rows: list[TableRow]

    def to_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns),
                "rows": [{"aspect": r.aspect, "cells": [{"text": c.text, "n": c.n} for c in r.cells]}
                         for r in self.rows]}


@dataclass
class Answer:
    """The one answer type of every backend. `text` carries [n] markers that refer to `citations`."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    retrieved: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per step, and "total"
    backend: str = "extractive"
    notes: list[str] = field(default_factory=list)  # e.g. what verification removed
    table: ComparisonTable | None = None  # comparison questions: the answer's table (its cells cite too)
    confidence: float = 0.0  # the answerer's belief the answer is right, 0..1 (risk-coverage curves)

    @property
    def full_text(self) -> str:
        """The answer with its comparison table as Markdown rows: what plain-text readers (key-fact
        scoring, a conversation's history) take as everything the answer says."""
        if not self.table:
            return self.text
        lines = ["| " + " | ".join(self.table.columns) + " |", "|" + "---|" * len(self.table.columns)]
        for row in self.table.rows:
            cells = [c.text if c.n is None else f"{c.text} [{c.n}]" for c in row.cells]
            lines.append("| " + " | ".join([row.aspect, *cells]) + " |")
        return self.text + "\n\n" + "\n".join(lines)

    @property
    def latency_ms(self) -> float:
        return self.timings.get("total", 0.0)

    def to_json(self) -> dict[str, Any]:
        """The `kvisa ask --json` object."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [
                {**{k: v for k, v in asdict(c).items() if k in ("n", "doc_id", "title", "section", "text",
                                                                 "source_url")},
                 "quotes": [q.to_json() for q in c.quotes]}
                for c in self.citations
            ],
            "retrieved": [{"doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": round(p.score, 6)}
                          for p in self.retrieved],
            "table": self.table.to_json() if self.table else None,
            "confidence": round(self.confidence, 4),
            "latency_ms": round(self.latency_ms, 1),
            "backend": self.backend,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
        }


@dataclass
class Turn:
    """One earlier exchange of a conversation, used to answer follow-up questions."""

    question: str
    answer: str = ""
