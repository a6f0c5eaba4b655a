"""Chroma storage: a chunk collection and an evidence-unit collection, embedded or on a server."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.documents import Chunk, Document, IngestError
from ingest.failpoints import failpoint
from kvisa.settings import Settings

_BATCH = 1000
_PAGE = 5000  # one unpaged get of ~32k+ items fails in Chroma ("too many SQL variables")
_MAX_HASH_FILTER = 10000  # SQLite allows ~32k variables in one statement; beyond this, read every hash


@dataclass
class StoredChunk:
    """A chunk as read back from Chroma."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]


@dataclass
class StoredUnit:
    """An evidence unit as read back from Chroma (its vector is fetched only when needed)."""

    unit_id: str
    text: str
    metadata: dict[str, Any]


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:  # chroma raises bare Exceptions for connection problems
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.chroma_dir
        raise IngestError(f"cannot open the Chroma store at {where}: {str(exc).splitlines()[0]}") from exc


def guarded(server: str, call: Any, /, *args: Any, **kwargs: Any) -> Any:
    """`call(*args, **kwargs)` with a lost connection to the server at `server` turned into one IngestError."""
    import httpx

    try:
        return call(*args, **kwargs)
    except (httpx.TransportError, ConnectionError, TimeoutError) as exc:
        raise IngestError(f"the Chroma server at {server} cannot be reached "
                          f"({type(exc).__name__}); try again when it is back") from exc


class _ServerCollection:
    """A collection on a Chroma server whose lost connections become one-line IngestErrors: the chat and
    the CLI then say the server cannot be reached, and the next call after it is back simply works."""

    def __init__(self, collection: Any, where: str) -> None:
        self._collection = collection
        self._where = where

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr
        return lambda *args, **kwargs: guarded(self._where, attr, *args, **kwargs)


# How widely Chroma's HNSW searches. At its default (ef_search 100) a query missed one or more of the 20 nearest
# evidence units for 7% of the gold questions over a fresh 1,342-unit index (up to 19 of the 20), and missed
# different ones in different processes, so the same question could get another answer on the next run. At 1000
# none was missed, and over a few thousand vectors the search is as good as exact.
SEARCH_EF = 1000


def _collection(client: Any, name: str) -> Any:
    """The named collection, cosine-indexed and searched widely. Search breadth may change after creation: an
    index made with a narrower search is widened when opened."""
    # embedding_function=None: vectors always come from kvisa, Chroma never downloads a model.
    collection = client.get_or_create_collection(
        name, embedding_function=None, metadata={"hnsw:space": "cosine"},
        configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
    )
    if (collection.configuration.get("hnsw") or {}).get("ef_search", SEARCH_EF) < SEARCH_EF:
        try:
            collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        except Exception as exc:  # a store this process may not change still answers, as it was made
            print(f"kvisa: warning: the index {name} keeps its narrower search ({str(exc).splitlines()[0]})",
                  file=sys.stderr)
    return collection


class ChunkStore:
    """All reads and writes of the index go through here. No Chroma embedding function is ever used."""

    def __init__(self, settings: Settings) -> None:
        self.client = _client(settings)
        self.chunks = _collection(self.client, settings.collection)
        self.units = _collection(self.client, f"{settings.collection}-units")
        if settings.chroma_host:
            where = f"{settings.chroma_host}:{settings.chroma_port}"
            self.chunks, self.units = _ServerCollection(self.chunks, where), _ServerCollection(self.units, where)

    @property
    def store_id(self) -> str:
        """The two collections' ids: a store deleted and made anew under the same path or server has new ones."""
        return f"{self.chunks.id}|{self.units.id}"

    def count(self) -> int:
        return self.chunks.count()

    def chunk_hashes(self, except_hashes: set[str] | None = None) -> dict[str, tuple[str, str]]:
        """chunk_id -> (doc_id, content_hash) for every stored chunk (only those whose hash is not in
        `except_hashes`, when given: the store then does the filtering and hands back only candidates)."""
        return _hashes(self.chunks, except_hashes)

    def unit_hashes(self, except_hashes: set[str] | None = None) -> dict[str, tuple[str, str]]:
        """unit_id -> (doc_id, content_hash) for every stored unit (or only those outside `except_hashes`)."""
        return _hashes(self.units, except_hashes)

    def versions_of(self, doc_ids: list[str]) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
        """(chunk_id -> (doc_id, content_hash), unit_id -> the same) of every stored version of these documents:
        reads their items alone, however large the store."""
        chunks: dict[str, tuple[str, str]] = {}
        units: dict[str, tuple[str, str]] = {}
        for a in range(0, len(doc_ids), _BATCH):
            where = {"doc_id": {"$in": doc_ids[a : a + _BATCH]}}
            chunks.update(_keys(get_all(self.chunks, ["metadatas"], where)))
            units.update(_keys(get_all(self.units, ["metadatas"], where)))
        return chunks, units

    def chunk_ids_of(self, doc_id: str, content_hash: str) -> list[str]:
        """The chunks of one version of one document."""
        where = {"$and": [{"doc_id": doc_id}, {"content_hash": content_hash}]}
        return get_all(self.chunks, [], where)["ids"]

    def add_document(self, doc: Document, chunks: list[Chunk], chunk_vectors: np.ndarray,
                     unit_vectors: np.ndarray) -> None:
        """Write a document's units first, then its chunks: a chunk is only visible with its units."""
        unit_ids, unit_docs, unit_meta = [], [], []
        for chunk in chunks:
            for j, unit in enumerate(chunk.units):
                unit_ids.append(f"{chunk.chunk_id}:{j:03d}")
                unit_docs.append(unit.text)
                unit_meta.append({
                    "chunk_id": chunk.chunk_id, "doc_id": doc.doc_id, "start": unit.start, "end": unit.end,
                    "kind": unit.kind, "header": unit.header, "line_start": unit.line_start,
                    "instruction": unit.instruction, "expands": unit.expands,
                    "headings_expand": unit.headings_expand,
                    "section": chunk.section, "content_hash": doc.content_hash,
                })
        for a in range(0, len(unit_ids), _BATCH):
            self.units.upsert(ids=unit_ids[a : a + _BATCH], documents=unit_docs[a : a + _BATCH],
                              metadatas=unit_meta[a : a + _BATCH], embeddings=unit_vectors[a : a + _BATCH])
        failpoint("units")
        for a in range(0, len(chunks), _BATCH):
            part = chunks[a : a + _BATCH]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                documents=[c.text for c in part],
                metadatas=[c.metadata(doc) for c in part],
                embeddings=chunk_vectors[a : a + _BATCH],
            )

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        """Delete chunks and then their units (a unit without its chunk is never read)."""
        for a in range(0, len(chunk_ids), _BATCH):
            part = chunk_ids[a : a + _BATCH]
            self.chunks.delete(ids=part)
            self.units.delete(where={"chunk_id": {"$in": part}})

    def delete_units(self, unit_ids: list[str]) -> None:
        for a in range(0, len(unit_ids), _BATCH):
            self.units.delete(ids=unit_ids[a : a + _BATCH])

    def all_chunks(self) -> list[StoredChunk]:
        got = get_all(self.chunks, ["documents", "metadatas"])
        return [StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def items_of_versions(self, versions: list[tuple[str, str]]) -> tuple[list[StoredChunk], list[StoredUnit]]:
        """The chunks and units of the given (doc_id, content_hash) versions: one read each, never the whole store."""
        chunks: list[StoredChunk] = []
        units: list[StoredUnit] = []
        for doc_id, content_hash in versions:
            where = {"$and": [{"doc_id": doc_id}, {"content_hash": content_hash}]}
            got = get_all(self.chunks, ["documents", "metadatas"], where)
            chunks += [StoredChunk(*row) for row in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
            got = get_all(self.units, ["documents", "metadatas"], where)
            units += [StoredUnit(*row) for row in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return chunks, units

    def query_chunks(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the k nearest chunks (fewer when the store holds fewer).

        No count() first: Chroma (>=1.5) returns fewer than k itself, and a count reads every row (6 ms at 20k
        chunks, two per question: a fifth of a warm question's time).
        """
        return _nearest(self.chunks, vector, k, where)

    def all_units(self) -> list[StoredUnit]:
        got = get_all(self.units, ["documents", "metadatas"])
        return [StoredUnit(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def query_units(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(unit_id, cosine similarity) of the k nearest evidence units (fewer when the store holds fewer)."""
        return _nearest(self.units, vector, k, where)

    def unit_vectors(self, unit_ids: list[str]) -> dict[str, np.ndarray]:
        """unit_id -> stored vector, for the given units."""
        if not unit_ids:
            return {}
        got = self.units.get(ids=unit_ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def units_of(self, chunk_ids: list[str]) -> list[tuple[str, str, dict[str, Any], np.ndarray]]:
        """(unit_id, text, metadata, vector) of every unit of the given chunks, in document order."""
        if not chunk_ids:
            return []
        got = self.units.get(where={"chunk_id": {"$in": chunk_ids}}, include=["documents", "metadatas", "embeddings"])
        rows = zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
        return sorted(((i, t, m, np.asarray(v, dtype=np.float32)) for i, t, m, v in rows), key=lambda r: r[0])


def _nearest(collection: Any, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
    """(id, cosine similarity) of the k nearest items, nearest first. Overlapping chunks store some sentences twice,
    with the same vector: among equally near items the first ids are kept, so a query finds the same ones every
    time (Chroma returns ties in no fixed order), which is why a few more than k are asked for."""
    got = collection.query(query_embeddings=[vector.tolist()], n_results=2 * k, where=where or None,
                           include=["distances"])
    found = [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]
    return sorted(found, key=lambda item: (-item[1], item[0]))[:k]


def get_all(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list[Any]]:
    """Every matching item of a collection, read in pages: the same result as one `get`, at any size."""
    out: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
    offset = 0
    while True:
        got = collection.get(where=where, include=include, limit=_PAGE, offset=offset)
        for name in out:
            out[name].extend(got[name])
        if len(got["ids"]) < _PAGE:
            return out
        offset += _PAGE


def _hashes(collection: Any, except_hashes: set[str] | None) -> dict[str, tuple[str, str]]:
    where = None
    if except_hashes and len(except_hashes) <= _MAX_HASH_FILTER:
        where = {"content_hash": {"$nin": sorted(except_hashes)}}
    return _keys(get_all(collection, ["metadatas"], where))


def _keys(got: dict[str, list[Any]]) -> dict[str, tuple[str, str]]:
    return {i: (m["doc_id"], m["content_hash"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)}


def open_store(settings: Settings) -> ChunkStore:
    return ChunkStore(settings)
