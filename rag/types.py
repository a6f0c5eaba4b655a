"""The records of answering: retrieved Passages, Citations and the Answer every backend returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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


@dataclass
class Citation:
    """One numbered source of an answer. `text` is the cited passage, `quote` the sentence relied on."""

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
                {k: v for k, v in asdict(c).items() if k in ("n", "doc_id", "title", "section", "text", "source_url")}
                for c in self.citations
            ],
            "retrieved": [{"doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": round(p.score, 6)}
                          for p in self.retrieved],
            "latency_ms": round(self.latency_ms, 1),
            "backend": self.backend,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
        }


@dataclass
class Turn:
    """One earlier exchange of a conversation, used to answer follow-up questions."""

    question: str
    answer: str = ""
