"""The lexical index on disk: a start reads it instead of tokenising, and an add tokenises only the new document."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag.lexical_store
from ingest.pipeline import ingest_sources, remove_document
from ingest.query_encoder import get_query_encoder
from kvisa.settings import Settings
from rag.lexical_store import cache_dir
from rag.retrieve import Filters, HybridRetriever, LexicalIndex, refresh_lexical_index
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
