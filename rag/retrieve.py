"""Hybrid retrieval: dense search in Chroma plus BM25 (jieba for Chinese), fused by reciprocal rank."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.embedding import Embedder
from ingest.pipeline import index_generation
from ingest.store import ChunkStore, StoredChunk, open_store
from kvisa.settings import Settings
from rag.terms import expand_terms, tokenize
from rag.types import Passage

RRF_K = 60  # the usual reciprocal-rank-fusion constant: flattens differences between the top few ranks
CANDIDATES = 30  # per retriever, before fusion


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


class LexicalIndex:
    """BM25 over the stored chunks (with their titles and sections), plus document frequencies."""

    def __init__(self, chunks: list[StoredChunk]) -> None:
        import bm25s

        self.chunks = chunks
        self.by_id = {c.chunk_id: c for c in chunks}
        corpus = [list(tokenize(self._indexed_text(c))) or ["_empty_"] for c in chunks]
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)
        self.df = Counter(t for tokens in corpus for t in set(tokens))
        self.n_docs = max(1, len(chunks))

    @staticmethod
    def _indexed_text(chunk: StoredChunk) -> str:
        return f"{chunk.metadata.get('title', '')}\n{chunk.metadata.get('section', '')}\n{chunk.text}"

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms weigh the most."""
        return math.log(1 + (self.n_docs - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))

    def search(self, query_terms: tuple[str, ...], k: int, filters: Filters) -> list[tuple[str, float]]:
        known = [t for t in query_terms if t in self.bm25.vocab_dict]
        if not known or not self.chunks:
            return []
        scores = self.bm25.get_scores(known)
        order = np.argsort(-scores)
        hits = []
        for i in order:
            if scores[i] <= 0 or len(hits) >= k:
                break
            chunk = self.chunks[int(i)]
            if filters.accepts(chunk.metadata):
                hits.append((chunk.chunk_id, float(scores[i])))
        return hits


class HybridRetriever:
    """Dense + BM25 retrieval over the current index; the BM25 side rebuilds when the index changes."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store: ChunkStore = open_store(settings)
        self._lexical: LexicalIndex | None = None
        self._generation = -1
        self._lock = threading.Lock()

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt whenever an add, update or remove bumped the manifest generation."""
        generation = index_generation(self.settings)
        with self._lock:
            if self._lexical is None or generation != self._generation:
                self._lexical = LexicalIndex(self.store.all_chunks())
                self._generation = generation
            return self._lexical

    def retrieve(self, query: str, top_k: int, filters: Filters | None = None,
                 query_vector: np.ndarray | None = None) -> tuple[list[Passage], np.ndarray]:
        """The top_k passages for a query, fused from both retrievers, and the query's embedding."""
        filters = filters or Filters()
        vector = self.embedder.encode_query(query) if query_vector is None else query_vector
        lexical = self.lexical
        dense = self.store.query_chunks(vector, CANDIDATES, filters.chroma_where())
        sparse = lexical.search(expand_terms(tokenize(query)), CANDIDATES, filters)
        fused: dict[str, float] = {}
        for ranking in (dense, sparse):
            for rank, (chunk_id, _) in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:top_k]
        return [self.passage_of(lexical.by_id[cid], fused[cid]) for cid in best if cid in lexical.by_id], vector

    @staticmethod
    def passage_of(chunk: StoredChunk, score: float = 0.0) -> Passage:
        meta = chunk.metadata
        return Passage(
            chunk_id=chunk.chunk_id, doc_id=meta["doc_id"], text=chunk.text, score=score,
            title=meta.get("title", ""), section=meta.get("section", ""), language=meta.get("language", "en"),
            source_url=meta.get("source_url", ""), start=int(meta.get("start", 0)), end=int(meta.get("end", 0)),
            metadata=dict(meta),
        )
