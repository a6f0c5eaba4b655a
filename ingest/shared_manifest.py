"""The manifest on a Chroma server, shared by every kvisa process using it: documents, a change log, write claims."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ingest.documents import IngestError
from ingest.manifest import Intent, Key, Manifest, ManifestEntry
from ingest.processes import process_alive
from ingest.store import _ServerCollection, guarded
from kvisa.settings import Settings

# A claim outlives a writer that died on another host for this long; a dead writer on this host is seen at once.
LEASE_S = 900.0
_TRACKED = "mark:intents"  # present once the server's index was swept in full by a kvisa that tracks intents
_VECTOR = [[1.0]]  # Chroma stores a vector with every record; these records are never searched by one


class ServerManifest:
    """Records in two collections of the server, so replicas with different KVISA_HOMEs share one index.

    Lost updates: Chroma has no transactions and no compare-and-set, so nothing here is read, modified and
    written back. Each document is its own record (`doc:<doc_id>`), upserted or deleted alone: two processes
    ingesting different documents touch different records and both land. The generation is the number of
    records in the change log, where every change adds one record under a fresh id: concurrent changes each
    add theirs, so the count grows by one per change and never loses one. A change writes its document record
    before its log record, so a reader that sees generation G also sees every record of G.

    Sweeps: a writer claims (doc_id, content_hash) before storing a version's units and chunks, and drops the
    claim once that version is recorded and its predecessor deleted (a removal claims the document too). A sweep
    visits only the documents of dead claims and deletes only chunks and units that neither the manifest nor a
    live claim vouches for, so it never deletes another process's write in flight (ingest/sweep.py).
    """

    def __init__(self, client: Any, settings: Settings) -> None:
        self._where = f"{settings.chroma_host}:{settings.chroma_port}"
        self._client = client
        self._settings = settings
        self._host = socket.gethostname()
        records, log = f"{settings.collection}-manifest", f"{settings.collection}-log"
        legacy = settings.manifest_path
        first = self._missing(log)
        if first and self._missing(records) and self._chunk_count() and not legacy.exists():
            raise IngestError(f"the Chroma server at {self._where} holds chunks of collection {settings.collection!r} "
                              "written by an older kvisa without a shared manifest; run kvisa once with the "
                              "KVISA_HOME that ingested them (its manifest is then moved to the server)")
        self.records = self._collection(records)
        if legacy.exists():
            self._import(legacy)
        # The log is created last: a process that finds it knows the server's manifest is complete.
        self.log = self._collection(log)
        if first:
            self._append("created", "")
        self.entries = self.reload()

    def _collection(self, name: str) -> _ServerCollection:
        made = guarded(self._where, self._client.get_or_create_collection, name, embedding_function=None)
        return _ServerCollection(made, self._where)

    def _missing(self, name: str) -> bool:
        from chromadb.errors import NotFoundError

        try:
            guarded(self._where, self._client.get_collection, name, embedding_function=None)
        except NotFoundError:
            return True
        return False

    def _chunk_count(self) -> int:
        if self._missing(self._settings.collection):
            return 0
        return guarded(self._where, self._client.get_collection, self._settings.collection).count()

    def _import(self, legacy: Path) -> None:
        """Move a KVISA_HOME's manifest file (from before the shared manifest) to the server, once.

        Only versions whose chunks the server still holds are imported: an entry for chunks another
        process's sweep already deleted would list a document nothing can answer from.
        """
        if not self._missing(self._settings.collection):
            chunks = guarded(self._where, self._client.get_collection, self._settings.collection)
            known = self.reload()
            for entry in Manifest.load(legacy).entries.values():
                where = {"$and": [{"doc_id": entry.doc_id}, {"content_hash": entry.content_hash}]}
                if entry.doc_id not in known and guarded(self._where, chunks.get, where=where, limit=1)["ids"]:
                    self._put(entry)
        legacy.rename(legacy.with_name(legacy.name + ".imported"))

    def reload(self) -> dict[str, ManifestEntry]:
        got = self.records.get(where={"kind": "doc"}, include=["documents"])
        self.entries = {e.doc_id: e for e in (ManifestEntry(**json.loads(d)) for d in got["documents"])}
        return self.entries

    def fresh_entry(self, doc_id: str) -> ManifestEntry | None:
        """This document's entry as the server holds it now (another process may have changed it)."""
        got = self.records.get(ids=[f"doc:{doc_id}"], include=["documents"])
        return ManifestEntry(**json.loads(got["documents"][0])) if got["ids"] else None

    def current_generation(self) -> int:
        return self.log.count()

    def record(self, entry: ManifestEntry) -> None:
        self._put(entry)
        self.entries[entry.doc_id] = entry
        self._append("record", entry.doc_id)

    def forget(self, doc_id: str) -> None:
        self.records.delete(ids=[f"doc:{doc_id}"])
        self.entries.pop(doc_id, None)
        self._append("forget", doc_id)

    def _put(self, entry: ManifestEntry) -> None:
        self.records.upsert(ids=[f"doc:{entry.doc_id}"], documents=[json.dumps(asdict(entry), ensure_ascii=False)],
                            metadatas=[{"kind": "doc", "doc_id": entry.doc_id}], embeddings=_VECTOR)

    def _append(self, action: str, doc_id: str) -> None:
        self.log.add(ids=[f"{time.time_ns():020d}-{uuid.uuid4().hex}"], documents=[""],
                     metadatas=[{"action": action, "doc_id": doc_id, "host": self._host}], embeddings=_VECTOR)

    @contextmanager
    def claim(self, doc_id: str, content_hash: str) -> Iterator[None]:
        """Hold (doc_id, content_hash) against other processes' sweeps while this version is written.

        The claim is also the write's intent: it is dropped only once the write finished. A writer that dies
        leaves it, and the first sweep after the claim is dead deletes what that write left of the document; a
        write that fails ends its claim at once.
        """
        claim_id = f"claim:{uuid.uuid4().hex}"
        meta = {"kind": "claim", "doc_id": doc_id, "content_hash": content_hash, "host": self._host,
                "pid": os.getpid(), "expires": time.time() + LEASE_S}
        self.records.upsert(ids=[claim_id], documents=[""], metadatas=[meta], embeddings=_VECTOR)
        try:
            yield
        except BaseException:
            # The write failed in a process that may live on for days (a web chat): its claim ends now, not at
            # its lease, so the next sweep by any replica deletes what the write left.
            with suppress(Exception):
                self.records.upsert(ids=[claim_id], documents=[""], metadatas=[{**meta, "expires": 0.0}],
                                    embeddings=_VECTOR)
            raise
        # The write is done: if the server went away just now, the claim ends with this process, or at its lease,
        # and a sweep then finds the document as the manifest lists it.
        with suppress(IngestError):
            self.settle([(claim_id, doc_id)])

    def intents(self) -> tuple[set[Key], list[Intent]]:
        """From one read of the claims: (the versions live writers hold, the dead writers' claims to sweep)."""
        got = self.records.get(where={"kind": "claim"}, include=["metadatas"])
        now, live, dead = time.time(), set(), []
        for claim_id, meta in zip(got["ids"], got["metadatas"], strict=True):
            if self._alive(meta, now):
                live.add((meta["doc_id"], meta["content_hash"]))
            else:
                dead.append((claim_id, meta["doc_id"]))
        return live, dead

    def settle(self, intents: list[Intent]) -> None:
        if intents:
            self.records.delete(ids=[claim_id for claim_id, _ in intents])

    def tracks_intents(self) -> bool:
        """True once a full sweep ran here with every writer leaving claims until finished (older kvisa
        versions dropped a claim when its write failed and removed documents without one)."""
        return bool(self.records.get(ids=[_TRACKED], include=[])["ids"])

    def mark_tracked(self) -> None:
        self.records.upsert(ids=[_TRACKED], documents=[""], metadatas=[{"kind": "mark"}], embeddings=_VECTOR)

    def _alive(self, meta: dict[str, Any], now: float) -> bool:
        if float(meta["expires"]) < now:
            return False
        return meta["host"] != self._host or process_alive(int(meta["pid"]))

