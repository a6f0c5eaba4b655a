"""The manifest: one entry per ingested document; a file under KVISA_HOME, or records on a Chroma server."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from kvisa.settings import Settings


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


Key = tuple[str, str]  # (doc_id, content_hash): one version of one document


class ManifestStore(Protocol):
    """What the pipeline and retrieval need of a manifest, whichever place it lives in."""

    entries: dict[str, ManifestEntry]  # the snapshot of the last reload(), kept current by this process's writes

    def reload(self) -> dict[str, ManifestEntry]: ...

    def fresh_entry(self, doc_id: str) -> ManifestEntry | None: ...

    def current_generation(self) -> int: ...

    def record(self, entry: ManifestEntry) -> None: ...

    def forget(self, doc_id: str) -> None: ...

    def claim(self, doc_id: str, content_hash: str) -> Any: ...

    def claimed(self) -> set[Key]: ...

    def drop_dead_claims(self) -> None: ...


class Manifest:
    """A JSON file of ManifestEntry objects; `generation` grows by one at every saved change.

    Only one process writes an embedded store, so it has no claims: everything it does not list is a remain.
    """

    def __init__(self, path: Path, entries: dict[str, ManifestEntry], generation: int = 0) -> None:
        self.path = path
        self.entries = entries
        self.generation = generation
        self._stamp: tuple[int, int, int] | None = None
        self._stamped_generation = 0

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls(path, {})
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = {d["doc_id"]: ManifestEntry(**d) for d in data.get("documents", [])}
        return cls(path, entries, int(data.get("generation", 0)))

    def reload(self) -> dict[str, ManifestEntry]:
        fresh = Manifest.load(self.path)
        self.entries, self.generation = fresh.entries, fresh.generation
        return self.entries

    def fresh_entry(self, doc_id: str) -> ManifestEntry | None:
        return self.entries.get(doc_id)

    def current_generation(self) -> int:
        """Parsed again only when the file was replaced (every save is a new file): each question asks, and
        parsing the manifest of a large index costs milliseconds."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return 0
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._stamp, self._stamped_generation = stamp, Manifest.load(self.path).generation
        return self._stamped_generation

    def record(self, entry: ManifestEntry) -> None:
        self.entries[entry.doc_id] = entry
        self.save()

    def forget(self, doc_id: str) -> None:
        del self.entries[doc_id]
        self.save()

    @contextmanager
    def claim(self, doc_id: str, content_hash: str) -> Iterator[None]:
        yield

    def claimed(self) -> set[Key]:
        return set()

    def drop_dead_claims(self) -> None:
        return None

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


def open_manifest(settings: Settings, client: Any = None) -> ManifestStore:
    """The file under KVISA_HOME in embedded mode; records on the server when KVISA_CHROMA_HOST is set."""
    if not settings.chroma_host:
        return Manifest.load(settings.manifest_path)
    from ingest.shared_manifest import ServerManifest
    from ingest.store import _client

    return ServerManifest(client if client is not None else _client(settings), settings)
