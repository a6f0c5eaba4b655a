"""The lexical index on disk: a start reads it, not Chroma, and tokenises nothing; an add tokenises only new items."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rag.lexical_store
from ingest.manifest import open_manifest
from ingest.pipeline import ingest_sources, remove_document
from ingest.query_encoder import get_query_encoder
from ingest.store import ChunkStore, open_store
from kvisa.settings import Settings
from rag.lexical_store import ITEMS_FILE, TokenTable, cache_dir
from rag.retrieve import Filters, HybridRetriever, LexicalIndex, build_lexical, refresh_lexical_index
from tests.conftest import CORPUS, make_settings

QUERIES = ["K visa employer invitation", "H-1B weighted selection wage level", "K字签证 青年科技人才",
           "Zorble permit fee", "proclamation entry fee 100,000"]
NOTE = "# Zorble permit\n\nThe Zorble permit costs 40 quatloos and lasts 2 years.\n\n## Renewal\n\nRenew it online.\n"


@pytest.fixture
def tokenised(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the lexical index tokenises, in order."""
    texts: list[str] = []
    real = rag.lexical_store.tokenize

    def counting(text: str) -> tuple[str, ...]:
        texts.append(text)
        return real(text)

    monkeypatch.setattr(rag.lexical_store, "tokenize", counting)
    return texts


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "home")
    sources = [str(CORPUS / "us-h1b-weighted-selection-rule.md"), str(CORPUS / "prc-decree-814-k-visa-zh.md"),
               str(CORPUS / "prc-k-visa-ministries-qa.md")]
    assert ingest_sources(sources, settings, progress=False).ok
    refresh_lexical_index(settings)  # what `kvisa ingest` does after writing
    return settings


def results(index: LexicalIndex) -> list[list[tuple[str, float]]]:
    out = []
    for query in QUERIES:
        terms = tuple(rag.lexical_store.tokenize(query))
        out.append(index.search(terms, 10, Filters()))
        out.append(index.search_units(terms, 10, Filters()))
    return out


def test_a_start_after_ingest_reads_the_saved_index(settings: Settings, tokenised: list[str]) -> None:
    retriever = HybridRetriever(settings, get_query_encoder(settings))
    loaded = retriever.lexical
    assert tokenised == [] and loaded.loaded  # nothing tokenised: read from KVISA_HOME/cache/lexical-*/
    tokenised.clear()
    rebuilt = LexicalIndex(loaded.chunks, list(loaded.unit_by_id.values()))
    assert len(tokenised) == len(loaded.chunks) + len(loaded.units)  # what every start used to do
    assert results(loaded) == results(rebuilt)
    assert [loaded.idf(t) for t in ("visa", "employ", "zzz")] == [rebuilt.idf(t) for t in ("visa", "employ", "zzz")]


def test_an_add_tokenises_only_the_new_document(settings: Settings, tokenised: list[str], tmp_path: Path) -> None:
    retriever = HybridRetriever(settings, get_query_encoder(settings))
    before = retriever.lexical
    note = tmp_path / "zorble-permit.md"
    note.write_text(NOTE, encoding="utf-8")
    assert ingest_sources([str(note)], settings, progress=False).ok
    after = retriever.lexical  # the next question of a running process
    new = [c for c in after.chunks if c.metadata["doc_id"] == "zorble-permit"]
    new_units = [u for u in after.units if u.metadata["doc_id"] == "zorble-permit"]
    assert new and len(tokenised) == len(new) + len(new_units)  # only the new document's chunks and units
    assert len(after.chunks) == len(before.chunks) + len(new)
    assert after.search(rag.lexical_store.tokenize("Zorble quatloos"), 3, Filters())[0][0] == new[0].chunk_id
    assert results(after) == results(LexicalIndex(after.chunks, after.units))  # as a from-scratch build ranks

    tokenised.clear()
    remove_document("zorble-permit", settings)
    assert len(retriever.lexical.chunks) == len(before.chunks) and tokenised == []  # a removal tokenises nothing
    retriever.wait_for_save()  # a running process saves in the background
    restarted = HybridRetriever(settings, get_query_encoder(settings)).lexical  # the rebuild was saved
    assert restarted.loaded and tokenised == []
    assert results(restarted) == results(before)


def test_a_damaged_cache_is_rebuilt(settings: Settings, tokenised: list[str]) -> None:
    for path in cache_dir(settings).glob("gen-*/flat.npy"):
        path.write_bytes(b"not an npz")
    index = HybridRetriever(settings, get_query_encoder(settings)).lexical
    assert not index.loaded and len(tokenised) == len(index.chunks) + len(index.units)


@pytest.mark.parametrize("damage", ["missing", "older layout", "damaged"])
def test_an_index_saved_without_readable_items_still_spares_tokenising(settings: Settings, tokenised: list[str],
                                                                       damage: str) -> None:
    for path in cache_dir(settings).glob(f"gen-*/{ITEMS_FILE}"):
        if damage == "damaged":
            path.write_bytes(b'{"chunks": [')
            continue
        path.unlink()
        if damage == "older layout":  # one object per item, as saved before the columns
            path.with_name("items.json").write_text('{"chunks": [{"chunk_id": "a", "text": "", "metadata": {}}], '
                                                    '"units": []}', encoding="utf-8")
    retriever = HybridRetriever(settings, get_query_encoder(settings))
    assert retriever.lexical.chunks and tokenised == []  # items read from Chroma, token ids from the saved index
    if damage != "damaged":  # saved again, with the items in the current layout, for the next start
        retriever.wait_for_save()
        assert HybridRetriever(settings, get_query_encoder(settings)).lexical.loaded


def test_a_loaded_index_keeps_one_copy_of_each_repeated_metadata_value(settings: Settings) -> None:
    """A document's units all carry its id, content hash and section: at 100k chunks a copy per unit was a third
    of the items' memory."""
    index = HybridRetriever(settings, get_query_encoder(settings)).lexical
    assert index.loaded
    first, *others = [u for u in index.units if u.metadata["doc_id"] == "us-h1b-weighted-selection-rule"]
    chunk = index.by_id[first.metadata["chunk_id"]]
    for key in ("doc_id", "content_hash"):
        assert all(u.metadata[key] is first.metadata[key] for u in others)
        assert chunk.metadata[key] is first.metadata[key]
    assert first.metadata["chunk_id"] is chunk.chunk_id  # and the id the row list already holds


def _items(index: LexicalIndex) -> tuple[list, list]:
    def typed(metadata: dict) -> list:  # 1, 1.0 and True compare equal; Chroma's key order varies by process
        return sorted((key, type(value).__name__, value) for key, value in metadata.items())

    return (sorted((c.chunk_id, c.text, typed(c.metadata)) for c in index.chunks),
            sorted((u.unit_id, u.text, typed(u.metadata)) for u in index.units))


def test_a_start_on_a_current_saved_index_reads_no_item_from_chroma(settings: Settings, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(settings)
    manifest = open_manifest(settings, store.client)
    from_chroma = build_lexical(store, manifest, tmp_path / "no-cache", manifest.current_generation(), None)

    def unread(_: ChunkStore) -> list:
        raise AssertionError("read every item back from Chroma")

    monkeypatch.setattr(ChunkStore, "all_chunks", unread)
    monkeypatch.setattr(ChunkStore, "all_units", unread)
    cold = HybridRetriever(settings, get_query_encoder(settings)).lexical
    assert cold.loaded and _items(cold) == _items(from_chroma)  # the same texts and metadata, types included
    assert results(cold) == results(from_chroma)
    unit = next(u for u in cold.units if cold.following(u, 3, 40))
    assert [u.unit_id for u in cold.following(unit, 3, 40)] == [u.unit_id for u in from_chroma.following(unit, 3, 40)]
    assert ({c: [u.unit_id for u in us] for c, us in cold.units_by_chunk.items()}
            == {c: [u.unit_id for u in us] for c, us in from_chroma.units_by_chunk.items()})


def test_a_start_reads_from_chroma_only_what_was_listed_since_the_save(settings: Settings, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    for name in ("all_chunks", "all_units", "items_of_versions"):
        real = getattr(ChunkStore, name)
        monkeypatch.setattr(ChunkStore, name, lambda store, *a, _n=name, _r=real: reads.append(_n) or _r(store, *a))
    note = tmp_path / "zorble-permit.md"
    note.write_text(NOTE, encoding="utf-8")
    assert ingest_sources([str(note)], settings, progress=False).ok  # another process's add: nothing re-saved
    remove_document("prc-k-visa-ministries-qa", settings)
    reads.clear()
    retriever = HybridRetriever(settings, get_query_encoder(settings))
    index = retriever.lexical
    assert reads == ["items_of_versions"]  # the note's version alone
    assert {c.metadata["doc_id"] for c in index.chunks} == {"zorble-permit", "us-h1b-weighted-selection-rule",
                                                             "prc-decree-814-k-visa-zh"}
    store = open_store(settings)
    manifest = open_manifest(settings, store.client)
    from_chroma = build_lexical(store, manifest, tmp_path / "no-cache", manifest.current_generation(), None)
    assert _items(index) == _items(from_chroma) and results(index) == results(from_chroma)
    retriever.wait_for_save()
    reads.clear()
    assert HybridRetriever(settings, get_query_encoder(settings)).lexical.loaded and reads == []
    # A store deleted and made anew under the same path has new collections: the saved copies are not used.
    monkeypatch.setattr(ChunkStore, "store_id", property(lambda _: "another store"))
    assert HybridRetriever(settings, get_query_encoder(settings)).lexical.chunks
    assert reads == ["all_chunks", "all_units"]


def test_a_token_table_reads_saved_items_from_one_flat_array_and_keeps_new_ones_apart() -> None:
    table = TokenTable(np.array([1, 2, 3, 4, 5], dtype=np.int32), np.array([0, 2, 2, 5]), ["a", "b", "c"])
    assert [table[i].tolist() for i in ("a", "b", "c")] == [[1, 2], [], [3, 4, 5]]
    table["d"] = np.array([9], dtype=np.int32)
    table["a"] = np.array([7], dtype=np.int32)  # an id's tokens never change in use, but a write still wins
    del table["b"]
    assert table.pop("c").tolist() == [3, 4, 5] and table.get("c") is None
    assert sorted(table) == ["a", "d"] and len(table) == 2 and table["a"].tolist() == [7]


def test_a_save_deletes_the_half_written_saves_of_processes_that_ended(settings: Settings, tmp_path: Path) -> None:
    """A save runs in a daemon thread: a `kvisa ask` that answers and exits leaves a folder as large as the index."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    base = cache_dir(settings)
    left = {"ended": base / f".tmp-{ended.stdout.strip()}-0a1b", "running": base / f".tmp-{os.getpid()}-2c3d",
            "old, unnamed": base / ".tmp-4e5f", "new, unnamed": base / ".tmp-6a7b"}
    for folder in left.values():
        folder.mkdir()
        (folder / "flat.npy").write_bytes(b"half")
    os.utime(left["old, unnamed"], (time.time() - 7200, time.time() - 7200))
    note = tmp_path / "zorble-permit.md"
    note.write_text(NOTE, encoding="utf-8")
    assert ingest_sources([str(note)], settings, progress=False).ok
    retriever = HybridRetriever(settings, get_query_encoder(settings))
    assert retriever.lexical.chunks
    retriever.wait_for_save()
    assert {name for name, folder in left.items() if folder.exists()} == {"running", "new, unnamed"}
