"""The manifest: one entry per ingested document; a file under KVISA_HOME, or records on a Chroma server."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from ingest.journal import Journal, Op
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
Intent = tuple[str, str]  # (intent id, doc_id): a write or a removal of that document, begun and not known finished


class ManifestStore(Protocol):
    """What the pipeline and retrieval need of a manifest, whichever place it lives in."""

    entries: dict[str, ManifestEntry]  # the snapshot of the last reload(), kept current by this process's writes

    def reload(self) -> dict[str, ManifestEntry]: ...

    def fresh_entry(self, doc_id: str) -> ManifestEntry | None: ...

    def current_generation(self) -> int: ...

    def record(self, entry: ManifestEntry) -> None: ...

    def forget(self, doc_id: str) -> None: ...

    def claim(self, doc_id: str, content_hash: str) -> Any: ...

    def intents(self) -> tuple[set[Key], list[Intent]]: ...

    def settle(self, intents: list[Intent]) -> None: ...

    def tracks_intents(self) -> bool: ...

    def mark_tracked(self) -> None: ...


class Manifest:
    """A JSON file of ManifestEntry objects and a journal of the changes since it was written (ingest/journal.py);
    `generation` grows by one at every recorded or forgotten document.

    Only one process writes an embedded store, so an intent still pending at the next start is a write that
    died: the sweep (ingest/sweep.py) deletes whatever of that document the manifest does not list.
    """

    def __init__(self, path: Path, entries: dict[str, ManifestEntry], generation: int = 0) -> None:
        self.path = path
        self.entries = entries
        self.generation = generation
        self.seq = 0  # the last op the file or the journal holds
        self.pending: dict[str, str] = {}  # intent id -> doc_id
        self.tracked = False  # whether every write since the file was written left an intent (see tracks_intents)
        self.journal = Journal(path.with_suffix(".journal"))
        self._unfolded = 0  # journal lines the file does not hold
        self._stamp: tuple[Any, ...] | None = None
        self._stamped_generation = 0

    @classmethod
    def load(cls, path: Path) -> Manifest:
        manifest = cls(path, {})
        if not path.exists():
            return manifest
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest.entries = {d["doc_id"]: ManifestEntry(**d) for d in data.get("documents", [])}
        manifest.generation = int(data.get("generation", 0))
        # A file without the mark was written by a kvisa before intents: its writes left none, and any journal
        # beside it is older than the file (that kvisa rewrote the file without reading it).
        manifest.tracked = bool(data.get("intents"))
        if manifest.tracked:
            manifest.seq = int(data.get("seq", 0))
            manifest.pending = dict(data.get("pending", {}))
            for op in manifest.journal.read(manifest.seq):
                manifest._apply(op)
                manifest._unfolded += 1
        return manifest

    def _apply(self, op: Op) -> None:
        kind = op["op"]
        if kind == "record":
            entry = ManifestEntry(**op["entry"])
            self.entries[entry.doc_id] = entry
        elif kind == "forget":
            self.entries.pop(op["doc_id"], None)
        elif kind == "intent":
            self.pending[op["id"]] = op["doc_id"]
        elif kind == "settle":
            for intent_id in op["ids"]:
                self.pending.pop(intent_id, None)
        self.seq, self.generation = op["seq"], op["gen"]

    def reload(self) -> dict[str, ManifestEntry]:
        fresh = Manifest.load(self.path)
        self.entries, self.generation, self.seq = fresh.entries, fresh.generation, fresh.seq
        self.pending, self.tracked, self.journal, self._unfolded = (fresh.pending, fresh.tracked, fresh.journal,
                                                                    fresh._unfolded)
        return self.entries

    def fresh_entry(self, doc_id: str) -> ManifestEntry | None:
        return self.entries.get(doc_id)

    def current_generation(self) -> int:
        """Parsed again only when the file or the journal changed: each question asks, and parsing the manifest
        of a large index costs milliseconds."""
        stamp = tuple(_stat(p) for p in (self.path, self.journal.path))
        if stamp != self._stamp:
            self._stamp, self._stamped_generation = stamp, Manifest.load(self.path).generation
        return self._stamped_generation

    def record(self, entry: ManifestEntry) -> None:
        self._log({"op": "record", "entry": asdict(entry)}, change=True)

    def forget(self, doc_id: str) -> None:
        self._log({"op": "forget", "doc_id": doc_id}, change=True)

    @contextmanager
    def claim(self, doc_id: str, content_hash: str) -> Iterator[None]:
        """An intent on `doc_id`, written before anything of it is; settled only once the write finished, so a
        crash anywhere in between leaves it for the next start's sweep."""
        intent = (uuid.uuid4().hex, doc_id)
        self._log({"op": "intent", "id": intent[0], "doc_id": doc_id})
        yield
        self.settle([intent])

    def intents(self) -> tuple[set[Key], list[Intent]]:
        """(versions live writers hold, intents to sweep): no other writer, so every pending intent is dead."""
        return set(), sorted(self.pending.items())

    def settle(self, intents: list[Intent]) -> None:
        if intents:
            self._log({"op": "settle", "ids": [intent_id for intent_id, _ in intents]})

    def tracks_intents(self) -> bool:
        """True when every write to the index since this manifest was written left an intent until it finished."""
        return self.tracked

    def mark_tracked(self) -> None:
        self.tracked = True
        self.save()

    def _log(self, op: Op, change: bool = False) -> None:
        """Apply `op` here and append it to the journal; fold the journal into the file once it grows long."""
        op = {"seq": self.seq + 1, "gen": self.generation + change, **op}
        if not self.tracked:  # the journal is read only beside a marked file (the Indexer swept the index first)
            self.tracked = True
            self.save()
        self.journal.append(op)
        self._apply(op)
        self._unfolded += 1
        if self._unfolded >= max(_FOLD_AT, len(self.entries) // 10):  # a fold rewrites every entry: amortized
            self.save()

    def save(self) -> None:
        """Replace the file atomically with everything the journal added, then empty the journal: a crash
        between the two leaves journal lines the file holds already, which their seq tells apart."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "generation": self.generation, "seq": self.seq, "intents": True, "pending": self.pending,
            "documents": [asdict(e) for e in sorted(self.entries.values(), key=lambda e: e.doc_id)],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        self.tracked = True
        self.journal.clear()
        self._unfolded = 0


_FOLD_AT = 1000  # journal lines; at least a tenth of the entries, so folds cost O(1) per change on average


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def open_manifest(settings: Settings, client: Any = None) -> ManifestStore:
    """The file under KVISA_HOME in embedded mode; records on the server when KVISA_CHROMA_HOST is set."""
    if not settings.chroma_host:
        return Manifest.load(settings.manifest_path)
    from ingest.shared_manifest import ServerManifest
    from ingest.store import _client

    return ServerManifest(client if client is not None else _client(settings), settings)
