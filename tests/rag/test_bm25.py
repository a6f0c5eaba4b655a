"""Incremental BM25: any sequence of adds and drops scores and ranks exactly as a from-scratch build."""

from __future__ import annotations

import random

import numpy as np

from ingest.store import StoredChunk, StoredUnit
from rag.bm25 import BM25
from rag.lexical_index import LexicalIndex
from rag.retrieve import Filters
from rag.terms import tokenize

WORDS = ["visa", "fee", "employer", "talent", "lottery", "wage", "level", "entry", "permit", "science", "youth",
         "invitation", "petition", "cap", "quota", "renewal", "biometrics", "consulate", "sponsor", "degree"]


def random_doc(rng: random.Random) -> np.ndarray:
    return np.array([rng.randrange(1, 40) for _ in range(rng.randrange(0, 12))], dtype=np.int32)


def scores_by_key(bm25: BM25, keys: list[str | None], query: list[int]) -> dict[str, float]:
    scores = bm25.scores(query)
    return {key: float(scores[row]) for row, key in enumerate(keys) if key is not None}


def ranked(bm25: BM25, keys: list[str | None], query: list[int]) -> list[str | None]:
    return [keys[r] for r, _ in bm25.top(query, 5, lambda _: True, lambda r: keys[r] or "")]


def test_adds_drops_and_compaction_score_as_a_full_build() -> None:
    rng = random.Random(7)
    bm25, keys, docs = BM25(), [], {}
    for step in range(60):
        new = {f"d{step}-{i}": random_doc(rng) for i in range(rng.randrange(1, 6))}
        bm25 = bm25.added(list(new.values()))
        keys += list(new)
        docs.update(new)
        gone = rng.sample(sorted(docs), k=min(len(docs) - 1, rng.randrange(0, 4)))
        bm25 = bm25.dropped([keys.index(k) for k in gone], [docs.pop(k) for k in gone])
        for k in gone:
            keys[keys.index(k)] = None
        if step % 20 == 19:
            bm25, renumber = bm25.compacted()
            keys = [k for k in keys if k is not None]
            assert len(renumber) and len(keys) == bm25.n_rows
        full_keys = sorted(docs)
        full = BM25.build([docs[k] for k in full_keys])
        for _ in range(3):
            query = [rng.randrange(0, 45) for _ in range(rng.randrange(1, 5))]
            assert scores_by_key(bm25, keys, query) == scores_by_key(full, full_keys, query)  # exactly equal
            assert ranked(bm25, keys, query) == ranked(full, full_keys, query)
        assert [bm25.idf(t) for t in range(45)] == [full.idf(t) for t in range(45)]


def test_scores_match_bm25s() -> None:
    import bm25s
    from bm25s.tokenization import Tokenized

    rng = random.Random(3)
    docs = [random_doc(rng) for _ in range(50)]
    reference = bm25s.BM25()
    reference.index(Tokenized(ids=[d.tolist() or [0] for d in docs], vocab={str(i): i for i in range(40)}),
                    show_progress=False)
    ours = BM25.build(docs)
    for query in ([1, 2, 3], [5], [7, 7, 30]):
        assert np.allclose(ours.scores(query), reference.get_scores(query), rtol=1e-5, atol=1e-6)


def document(doc_id: str, version: str, rng: random.Random) -> tuple[list[StoredChunk], list[StoredUnit]]:
    chunks, units = [], []
    for c in range(rng.randrange(1, 4)):
        cid = f"{doc_id}:{version}:{c:04d}"
        texts = [" ".join(rng.choices(WORDS, k=rng.randrange(3, 9))) for _ in range(rng.randrange(1, 4))]
        meta = {"doc_id": doc_id, "content_hash": version, "title": doc_id.title(), "section": "S", "start": c * 100,
                "jurisdiction": rng.choice(["US", "PRC"])}
        chunks.append(StoredChunk(cid, " ".join(texts), meta))
        units += [StoredUnit(f"{cid}:{j:03d}", t, {**meta, "chunk_id": cid, "start": c * 100 + j * 10,
                                                    "end": c * 100 + j * 10 + 9, "header": ""})
                  for j, t in enumerate(texts)]
    return chunks, units


def observed(index: LexicalIndex) -> list[object]:
    out: list[object] = []
    for query in ("visa fee", "employer wage level", "talent youth science", "quota cap", "nothing"):
        terms = tuple(tokenize(query))
        for filters in (Filters(), Filters(jurisdiction="US")):
            out += [index.search(terms, 6, filters), index.search_units(terms, 6, filters)]
        out.append([index.idf(t) for t in terms])
    out.append({d: [u.unit_id for u in units] for d, units in index.doc_units.items() if units})
    out.append({c: sorted(u.unit_id for u in units) for c, units in index.units_by_chunk.items() if units})
    out.append(sorted(index.by_id) + sorted(index.unit_by_id))
    return out


def test_a_lexical_index_updated_document_by_document_equals_a_rebuild() -> None:
    rng = random.Random(11)
    live: dict[str, tuple[list[StoredChunk], list[StoredUnit]]] = {}
    for n in range(6):
        live[f"doc{n}"] = document(f"doc{n}", "v0", rng)
    index = LexicalIndex([c for cs, _ in live.values() for c in cs], [u for _, us in live.values() for u in us])
    for step in range(25):
        action = rng.choice(["add", "update", "remove"]) if len(live) > 2 else "add"
        doc_id = f"doc{6 + step}" if action == "add" else rng.choice(sorted(live))
        gone = {(doc_id, live[doc_id][0][0].metadata["content_hash"])} if action != "add" else set()
        if action == "remove":
            del live[doc_id]
            index = index.updated([], [], gone)
        else:
            live[doc_id] = document(doc_id, f"v{step + 1}", rng)
            index = index.updated(*live[doc_id], gone)
        rebuilt = LexicalIndex([c for cs, _ in live.values() for c in cs], [u for _, us in live.values() for u in us])
        assert observed(index) == observed(rebuilt)
