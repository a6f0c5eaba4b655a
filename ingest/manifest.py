"""The manifest: one entry per ingested document, keyed by doc_id, written atomically after each change."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class ManifestEntry:
    """What the index holds for one document. Written only once all of its chunks are stored."""

    doc_id: str
    content_hash: str
    title: str
    language: str
    chunks: int
    source: str
    source_url: str = ""
    jurisdiction: str = ""
    flagged: int = 0  # units that speak to a model ("ignore previous instructions"), kept out of answers


class Manifest:
    """A JSON file of ManifestEntry objects; `generation` grows by one at every saved change."""

    def __init__(self, path: Path, entries: dict[str, ManifestEntry], generation: int = 0) -> None:
        self.path = path
        self.entries = entries
        self.generation = generation

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls(path, {})
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = {d["doc_id"]: ManifestEntry(**d) for d in data.get("documents", [])}
        return cls(path, entries, int(data.get("generation", 0)))

    def save(self) -> None:
        """Replace the file atomically, so a crash leaves either the old or the new manifest."""
        self.generation += 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "generation": self.generation,
            "documents": [asdict(e) for e in sorted(self.entries.values(), key=lambda e: e.doc_id)],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
