"""The records that flow through ingest: a loaded Document, its Chunks and their evidence Units."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class IngestError(Exception):
    """A document that cannot be ingested; the message is one line meant for the user."""


@dataclass
class Document:
    """A cleaned document ready to chunk. `text` is the cleaned text every offset refers to."""

    doc_id: str
    text: str
    title: str
    source: str
    language: str = "en"
    source_url: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # Start offset (in `text`) of each PDF page, so chunks can name their page.
    page_starts: list[int] = field(default_factory=list)
    # How the index is built (pipeline version, model, chunk size): part of the hash, so changing any
    # of them re-ingests the document instead of mixing chunks of two pipelines.
    index_signature: str = ""

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index, so any change triggers a re-ingest."""
        digest = hashlib.sha256()
        parts = (self.text, self.title, self.language, self.source_url, repr(sorted(self.metadata.items())),
                 self.index_signature)
        for part in parts:
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


@dataclass
class Unit:
    """One evidence unit: a sentence, a list item or a table row (with its header for embedding)."""

    start: int
    end: int
    text: str
    context: str  # what gets embedded: heading path, table header, then the unit itself
    kind: str = "sentence"  # sentence | table_row
    tokens: int = 0
    header: str = ""  # for a table row: its table's header line
    line_start: bool = True  # first unit of its line (a list item or paragraph may hold several)
    instruction: bool = False  # speaks to a model ("ignore previous instructions"): never evidence or prompt
    expands: str = ""  # its acronyms with the words they stand for, as the document spells them out (acronyms.py)
    headings_expand: str = ""  # the same for its section path and the document's title


@dataclass
class Chunk:
    """A passage of one section, at most the embedding window long, with exact offsets."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    section: str
    embed_text: str
    units: list[Unit] = field(default_factory=list)
    page: int = 0

    def metadata(self, doc: Document) -> dict[str, str | int]:
        meta: dict[str, str | int] = {
            "doc_id": self.doc_id,
            "title": doc.title,
            "section": self.section,
            "language": doc.language,
            "source_url": doc.source_url,
            "source": doc.source,
            "jurisdiction": doc.metadata.get("jurisdiction", ""),
            "start": self.start,
            "end": self.end,
            "chunk_index": self.index,
            "content_hash": doc.content_hash,
        }
        if self.page:
            meta["page"] = self.page
        withheld = [f"{u.start - self.start}-{u.end - self.start}" for u in self.units if u.instruction]
        if withheld:  # offsets in the chunk's text of units that speak to a model, kept out of prompts
            meta["withheld"] = ";".join(withheld)
        return meta
