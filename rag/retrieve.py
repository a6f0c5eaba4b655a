"""Hybrid retrieval of passages and evidence units: Chroma dense search plus BM25, fused by reciprocal rank."""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ingest.manifest import ManifestStore, open_manifest
from ingest.query_encoder import EncodesQueries
from ingest.sentences import sentence_spans
from ingest.store import ChunkStore, StoredChunk, StoredUnit, open_store
from kvisa.settings import Settings
from rag.jieba_cache import load_jieba
from rag.lexical_index import LexicalIndex, version_of
from rag.lexical_store import cache_dir, load_latest, save
from rag.terms import expand_terms, gloss_terms, glossed, tokenize
from rag.types import Passage


@dataclass(frozen=True)
class Filters:
    """Optional metadata filters; None means any."""

    doc_id: str | None = None
    jurisdiction: str | None = None
    language: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("doc_id", self.doc_id), ("jurisdiction", self.jurisdiction),
                                  ("language", self.language)) if v}

    def chroma_where(self) -> dict[str, Any] | None:
        clauses = [{k: v} for k, v in self.as_dict().items()]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, metadata: dict[str, Any]) -> bool:
        return all(metadata.get(k) == v for k, v in self.as_dict().items())


@dataclass
class Evidence:
    """One evidence unit (a sentence, list item or table row) found for a question, with its passage."""

    unit_id: str
    text: str
    metadata: dict[str, Any]
    passage: Passage
    rank: int  # rank of its passage among the retrieved passages; len(passages) when found on its own
    vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))
    terms: frozenset[str] = frozenset()  # of the unit's own text
    context_terms: frozenset[str] = frozenset()  # of its table header, section path and document title
    found_by: frozenset[str] = frozenset()  # "passage", "dense", "lexical"

    @property
    def start(self) -> int:
        return int(self.metadata["start"])

    @property
    def end(self) -> int:
        return int(self.metadata["end"])

    @cached_property
    def header_terms(self) -> frozenset[str]:
        """Terms of a table row's column names (none for other units): what the row's cells are about."""
        return frozenset(tokenize(self.metadata.get("header", "")))

    @property
    def context(self) -> str:
        """Its table header, section path and document title, with the acronyms they spell out ("Skilled
        Migrant Category" names the SMC)."""
        return (f"{self.metadata.get('header', '')} {self.metadata.get('section', '')} {self.passage.title} "
                f"{self.metadata.get('headings_expand', '')}")


def lead_up(evidence: Evidence) -> str:
    """The line (paragraph or list item) of the passage that holds the unit, up to the unit's end: what an
    "it" in the unit can refer to. A later sentence of the paragraph is about something else as often as not."""
    text, offset = evidence.passage.text, max(0, evidence.start - evidence.passage.start)
    start = text.rfind("\n", 0, offset) + 1
    return text[start : offset + len(evidence.text)]


def with_sentence_before(evidence: Evidence) -> Evidence | None:
    """The unit read with the sentence before it in its paragraph, as one piece of evidence: a fact whose
    subject only that sentence names ("... the fast-track procedure. The employer pays a fee of EUR 411.").
    None for a paragraph's first sentence or a table row."""
    if evidence.metadata.get("kind") == "table_row" or evidence.metadata.get("line_start", True):
        return None
    line = lead_up(evidence)
    if not line.endswith(evidence.text):
        return None  # the passage does not hold the unit as stored: nothing safe to join
    earlier = line[: len(line) - len(evidence.text)]
    spans = sentence_spans(earlier.rstrip())
    if not spans:
        return None
    before = earlier[spans[-1][0] :]
    return replace(evidence, unit_id=f"{evidence.unit_id}<", text=before + evidence.text,
                   metadata={**evidence.metadata, "start": evidence.start - len(before)},
                   terms=evidence.terms | frozenset(tokenize(before)) | gloss_terms(before))


@dataclass
class Retrieved:
    """What retrieval hands to scoring: the top passages, candidate evidence units, the query vector."""

    passages: list[Passage]
    units: list[Evidence]
    query_vector: np.ndarray


def _record(unit: StoredUnit, passage: Passage, rank: int, found_by: set[str],
            vector: np.ndarray | None = None) -> Evidence:
    """An Evidence record with the terms of its text and of its headings and title. A Chinese unit's terms
    include the English of its words, so a question's words meet it through their meaning: a paraphrase
    ("生效" for "施行": both "take effect"), or the glossed words of a question in the other language. (The
    other way round, English question words expanded into Chinese ones by the dictionary, brought in more
    wrong candidates than right ones on train.)"""
    said = f"{unit.text} {unit.metadata.get('expands', '')}"  # "CLB 5" says "Canadian Language Benchmark"
    record = Evidence(unit.unit_id, unit.text, unit.metadata, passage, rank, found_by=frozenset(found_by),
                      terms=frozenset(tokenize(said)) | gloss_terms(unit.text))
    if vector is not None:
        record.vector = vector
    record.context_terms = frozenset(tokenize(record.context))
    return record


# More changed document versions than this are read back with one full read rather than one read each.
_MAX_VERSION_READS = 200


def build_lexical(store: ChunkStore, manifest: ManifestStore, cache: Path, generation: int,
                  previous: LexicalIndex | None) -> LexicalIndex:
    """The lexical index of the versions the manifest lists, saved under `cache` when it was not read from there.

    Only those versions: a version another process is writing now, or one it has just replaced and not yet
    deleted, is never an answer (and never one half old, half new). With a `previous` index only the versions
    it lacks are read from Chroma and only those and the ones gone are re-indexed. A first build starts from
    the newest saved index, which holds every item's text and metadata too: Chroma is read only for the
    versions listed since it was saved (all of them when it is missing or from another store).
    """
    vouched = {(e.doc_id, e.content_hash) for e in manifest.reload().values()}
    saved = load_latest(cache) if previous is None else None
    if saved is not None and saved.items is not None and saved.store_id == store.store_id:
        # A listed version's chunks and units never change (their ids carry its content hash) and were all
        # written before the manifest listed it: the saved copies stand for Chroma's.
        previous = LexicalIndex(*saved.items, saved=saved)
        if previous.versions.keys() == vouched:
            return previous
    if previous is not None and len(vouched - previous.versions.keys()) <= _MAX_VERSION_READS:
        chunks, units = store.items_of_versions(sorted(vouched - previous.versions.keys()))
        return previous.updated(chunks, units, set(previous.versions) - vouched)
    chunks = [c for c in store.all_chunks() if version_of(c.metadata) in vouched]
    return LexicalIndex(chunks, store.all_units(), previous.vocabulary if previous else None, saved)


_SAVING = threading.Lock()  # one save at a time: an older generation never lands after a newer one


def save_lexical(cache: Path, generation: int, store_id: str, index: LexicalIndex) -> None:
    """Save `index` unless it was read from there; a failure leaves only a cache to rebuild, never an error."""
    if index.loaded:
        return
    # A failure (e.g. a later update dropped an item's tokens meanwhile) leaves it to the next save.
    with _SAVING, contextlib.suppress(Exception):
        save(cache, generation, store_id, *index.rows(), index.vocabulary, index.chunk_bm25, index.unit_bm25)


def refresh_lexical_index(settings: Settings) -> None:
    """Build and save the current lexical index (after an ingest), so the next process start only reads it."""
    load_jieba(settings.home / "cache")  # the same dictionary the question path cuts Chinese with
    store = open_store(settings)
    manifest = open_manifest(settings, store.client)
    generation = manifest.current_generation()
    index = build_lexical(store, manifest, cache_dir(settings), generation, None)
    save_lexical(cache_dir(settings), generation, store.store_id, index)


def _chunk_meta(lexical: LexicalIndex, unit_id: str) -> dict[str, Any]:
    """The metadata of a unit's chunk, from the index the question started with (not a newer one)."""
    return lexical.by_id[lexical.unit_by_id[unit_id].metadata["chunk_id"]].metadata


def passage_of(chunk: StoredChunk, score: float = 0.0) -> Passage:
    meta = chunk.metadata
    return Passage(
        chunk_id=chunk.chunk_id, doc_id=meta["doc_id"], text=chunk.text, score=score,
        title=meta.get("title", ""), section=meta.get("section", ""), language=meta.get("language", "en"),
        source_url=meta.get("source_url", ""), start=int(meta.get("start", 0)), end=int(meta.get("end", 0)),
        metadata=dict(meta),
    )


def fuse(rankings: list[list[tuple[str, float]]], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (rrf_k + rank) to the ids it holds."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item_id, _) in enumerate(ranking):
            fused[item_id] = fused.get(item_id, 0.0) + 1.0 / (rrf_k + rank + 1)
    return fused


class HybridRetriever:
    """Dense + BM25 retrieval over the current index; the in-memory side rebuilds when the index changes."""

    def __init__(self, settings: Settings, embedder: EncodesQueries) -> None:
        self.settings = settings
        self.tuning = settings.answering
        self.embedder = embedder
        self.store: ChunkStore = open_store(settings)
        self.manifest = open_manifest(settings, self.store.client)
        self._cache = cache_dir(settings)
        self._lexical: LexicalIndex | None = None
        self._generation = -1
        self._lock = threading.Lock()
        self._saving: threading.Thread | None = None

    @property
    def lexical(self) -> LexicalIndex:
        """The in-memory index, updated (changed documents only) whenever the manifest generation moved."""
        generation = self.manifest.current_generation()
        with self._lock:
            if self._lexical is None or generation != self._generation:
                self._lexical = build_lexical(self.store, self.manifest, self._cache, generation, self._lexical)
                self._generation = generation
                # Writing the whole index costs seconds at 100k chunks: the question that found the change
                # goes on while a thread saves it for the next process start.
                self._saving = threading.Thread(target=save_lexical, daemon=True,
                                                args=(self._cache, generation, self.store.store_id, self._lexical))
                self._saving.start()
            return self._lexical

    def wait_for_save(self) -> None:
        """Wait until the last updated lexical index is on disk (tests, and a clean shutdown)."""
        if self._saving is not None:
            self._saving.join()

    def retrieve(self, query: str, top_k: int, filters: Filters | None = None,
                 query_vector: np.ndarray | None = None) -> tuple[list[Passage], np.ndarray]:
        """The top_k passages for a query, fused from both retrievers, and the query's embedding."""
        filters = filters or Filters()
        vector = self.embedder.encode_query(glossed(query)) if query_vector is None else query_vector
        lexical = self.lexical
        n = self.tuning.candidates
        dense = self.store.query_chunks(vector, n, filters.chroma_where())
        sparse = lexical.search(expand_terms(tokenize(query)), n, filters)
        fused = fuse([dense, sparse], self.tuning.rrf_k)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:top_k]
        return [passage_of(lexical.by_id[cid], fused[cid]) for cid in best if cid in lexical.by_id], vector

    def evidence(self, query: str, top_k: int, filters: Filters | None = None,
                 unit_query: str | None = None) -> Retrieved:
        """Passages, and evidence units found three ways: inside those passages, and straight from the unit
        index by dense and by BM25 search, so a unit is found even when its passage ranks low.

        `unit_query` (a follow-up's own words) picks units; `query` (with the earlier subject) picks passages.
        """
        passages, vector = self.retrieve(query, top_k, filters)
        return self._units_of(passages, unit_query or query, filters, vector if unit_query in (None, query) else None)

    def _units_of(self, passages: list[Passage], unit_query: str, filters: Filters | None = None,
                  vector: np.ndarray | None = None) -> Retrieved:
        """The evidence units of `passages`, plus the unit index's dense and BM25 hits for `unit_query`."""
        filters = filters or Filters()
        vector = self.embedder.encode_query(glossed(unit_query)) if vector is None else vector
        lexical = self.lexical
        n = self.tuning.unit_candidates
        where = {"doc_id": filters.doc_id} if filters.doc_id else None
        dense = [(u, s) for u, s in self.store.query_units(vector, n, where)
                 if u in lexical.unit_by_id and filters.accepts(_chunk_meta(lexical, u))]
        sparse = lexical.search_units(expand_terms(tokenize(unit_query)), n, filters)
        found: dict[str, set[str]] = defaultdict(set)
        for passage in passages:
            for unit in lexical.units_by_chunk.get(passage.chunk_id, []):
                found[unit.unit_id].add("passage")
        for how, hits in (("dense", dense), ("lexical", sparse)):
            for unit_id, _ in hits:
                found[unit_id].add(how)
        return Retrieved(passages, self._evidence(found, passages, lexical), vector)

    def lexical_units(self, query: str, k: int, filters: Filters | None = None) -> list[Evidence]:
        """Evidence units found by BM25 alone (cheap: no embedding), best first."""
        hits = self.lexical.search_units(expand_terms(tokenize(query)), k, filters or Filters())
        return self._evidence({u: {"lexical"} for u, _ in hits}, [], self.lexical)

    def _evidence(self, found: dict[str, set[str]], passages: list[Passage], lexical: LexicalIndex) -> list[Evidence]:
        """Evidence records with vectors; a unit repeated by chunk overlap is kept once, at its best rank."""
        rank_of = {p.chunk_id: r for r, p in enumerate(passages)}
        by_chunk = {p.chunk_id: p for p in passages}
        units = sorted((lexical.unit_by_id[u] for u in found),
                       key=lambda u: (rank_of.get(u.metadata["chunk_id"], len(passages)), u.unit_id))
        vectors = self.store.unit_vectors([u.unit_id for u in units])
        out: dict[tuple[str, int], Evidence] = {}
        for unit in units:
            key = (unit.metadata["doc_id"], int(unit.metadata["start"]))
            if key in out:
                out[key].found_by |= frozenset(found[unit.unit_id])
                continue
            chunk_id = unit.metadata["chunk_id"]
            passage = by_chunk.get(chunk_id) or passage_of(lexical.by_id[chunk_id])
            out[key] = _record(unit, passage, rank_of.get(chunk_id, len(passages)), found[unit.unit_id],
                               vectors[unit.unit_id])
        return list(out.values())

    def evidence_of(self, unit: StoredUnit) -> Evidence:
        """An Evidence record for a unit met by reading on (a list item after its introduction)."""
        return _record(unit, passage_of(self.lexical.by_id[unit.metadata["chunk_id"]]), 99, {"following"})
