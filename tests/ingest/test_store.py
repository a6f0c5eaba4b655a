"""Chroma storage: a query finds the truly nearest units, the same ones every time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.store import SEARCH_EF, ChunkStore
from kvisa.settings import Settings


def _unit_vectors(n: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _store_units(store: ChunkStore, ids: list[str], vectors: np.ndarray) -> None:
    for start in range(0, len(ids), 500):
        part = slice(start, start + 500)
        store.units.upsert(ids=ids[part], embeddings=vectors[part], documents=[f"unit {i}" for i in ids[part]],
                           metadatas=[{"doc_id": "d"} for _ in ids[part]])


def test_a_query_finds_the_exact_nearest_units(tmp_path: Path) -> None:
    store = ChunkStore(Settings(home=tmp_path))
    vectors = _unit_vectors(2000, seed=1)
    ids = [f"u{i:04d}" for i in range(len(vectors))]
    _store_units(store, ids, vectors)
    for query in _unit_vectors(25, seed=2):
        nearest = [ids[i] for i in np.argsort(-(vectors @ query))[:20]]
        assert [unit for unit, _ in store.query_units(query, 20)] == nearest


def test_units_stored_twice_with_one_vector_come_back_in_id_order(tmp_path: Path) -> None:
    """Overlapping chunks store a sentence twice: which copy a query returns must not change from run to run."""
    store = ChunkStore(Settings(home=tmp_path))
    vectors = _unit_vectors(300, seed=3)
    shared = vectors[0]
    _store_units(store, [f"u{i:03d}" for i in range(1, 300)], vectors[1:])
    _store_units(store, ["copy-c", "copy-a", "copy-b"], np.stack([shared] * 3))
    found = store.query_units(shared, 2)
    assert [unit for unit, _ in found] == ["copy-a", "copy-b"]
    assert all(abs(similarity - 1.0) < 1e-5 for _, similarity in found)


def _index_made_before_search_was_widened(home: Path) -> Settings:
    """Settings for a home whose unit collection was made as kvisa made it before: Chroma's own search breadth."""
    import chromadb

    settings = Settings(home=home)
    settings.chroma_dir.mkdir(parents=True)
    chromadb.PersistentClient(path=str(settings.chroma_dir)).get_or_create_collection(
        f"{settings.collection}-units", embedding_function=None, metadata={"hnsw:space": "cosine"})
    return settings


def test_an_index_made_with_a_narrow_search_is_widened_when_opened(tmp_path: Path) -> None:
    store = ChunkStore(_index_made_before_search_was_widened(tmp_path))
    assert store.units.configuration["hnsw"]["ef_search"] == SEARCH_EF
    assert store.units.configuration["hnsw"]["space"] == "cosine"


def test_an_index_that_cannot_be_widened_still_opens_and_answers_queries(tmp_path: Path, monkeypatch, capsys) -> None:
    from chromadb.api.models.Collection import Collection

    settings = _index_made_before_search_was_widened(tmp_path)

    def refused(*_: object, **__: object) -> None:
        raise PermissionError("attempt to write a readonly database")

    monkeypatch.setattr(Collection, "modify", refused)
    store = ChunkStore(settings)
    assert "keeps its narrower search (attempt to write a readonly database)" in capsys.readouterr().err
    vectors = _unit_vectors(50, seed=4)
    _store_units(store, [f"u{i:02d}" for i in range(50)], vectors)
    assert store.query_units(vectors[7], 1)[0][0] == "u07"
