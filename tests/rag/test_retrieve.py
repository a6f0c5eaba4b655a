"""Hybrid retrieval: dense + BM25 over the real corpus, Chinese tokenisation, filters, and freshness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.embedding import get_embedder
from ingest.pipeline import ingest_sources, remove_document
from kvisa.settings import Settings
from rag.retrieve import Filters, HybridRetriever
from rag.terms import tokenize


@pytest.fixture(scope="module")
def retriever(corpus_settings: Settings) -> HybridRetriever:
    return HybridRetriever(corpus_settings, get_embedder(corpus_settings.embed_model))


def test_a_chinese_question_finds_the_chinese_document(retriever: HybridRetriever) -> None:
    passages, _ = retriever.retrieve("国务院令第814号是在哪次会议上通过的？", top_k=3)
    assert passages[0].doc_id == "prc-decree-814-k-visa-zh"
    assert "第63次常务会议" in " ".join(p.text for p in passages)


def test_an_english_question_with_a_chinese_term_reaches_text_that_uses_it(retriever: HybridRetriever) -> None:
    passages, _ = retriever.retrieve("Which ordinary visa category is the K字签证?", top_k=6)
    assert any("K字签证" in p.text for p in passages)


def test_a_chinese_unit_is_also_described_by_the_english_of_its_words(retriever: HybridRetriever) -> None:
    retrieved = retriever.evidence("国务院令第814号的《决定》从哪一天起施行？", top_k=3)
    unit = next(u for u in retrieved.units if "施行" in u.text)
    assert "施行" in unit.terms
    assert unit.terms & set(tokenize("put into effect, implement")), sorted(unit.terms)
    english = next(u for u in retrieved.units if not re.search(r"[\u4e00-\u9fff]", u.text))
    assert english.terms == frozenset(tokenize(english.text))  # an English unit is read as written


def test_fused_ranking_returns_top_k_distinct_chunks_best_first(retriever: HybridRetriever) -> None:
    passages, vector = retriever.retrieve("When does the weighted selection final rule take effect?", top_k=5)
    assert len(passages) == 5 and len({p.chunk_id for p in passages}) == 5
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert passages[0].doc_id == "us-h1b-weighted-selection-rule"
    assert vector.shape == (384,)


@pytest.mark.parametrize(
    ("filters", "key", "value"),
    [
        (Filters(language="zh"), "language", "zh"),
        (Filters(jurisdiction="US"), "jurisdiction", "US"),
        (Filters(doc_id="k-visa-article"), "doc_id", "k-visa-article"),
    ],
)
def test_filters_restrict_both_retrievers(retriever: HybridRetriever, filters: Filters, key: str, value: str) -> None:
    passages, _ = retriever.retrieve("Who may get a K visa and who signed the decree?", top_k=8, filters=filters)
    assert passages and all(p.metadata[key] == value for p in passages)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bm25_stays_in_step_with_chroma_after_add_update_and_remove(tmp_settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    note = _write(docs, "zorblax.md", "# Zorblax visa\n\nThe Zorblax visa fee is 42 quatloos.\n")
    _write(docs, "other.md", "# Other\n\nNothing about that here, only tea and biscuits.\n")
    assert ingest_sources([str(docs)], tmp_settings, progress=False).ok
    retriever = HybridRetriever(tmp_settings, get_embedder(tmp_settings.embed_model))

    def lexical_hits(term: str) -> set[str]:
        return {cid.split(":")[0] for cid, _ in retriever.lexical.search((term,), 5, Filters())}

    assert lexical_hits("quatloo") == {"zorblax"}
    note.write_text("# Zorblax visa\n\nThe Zorblax visa fee is now 50 grivniks.\n", encoding="utf-8")
    ingest_sources([str(note)], tmp_settings, progress=False)
    assert lexical_hits("quatloo") == set() and lexical_hits("grivnik") == {"zorblax"}
    remove_document("zorblax", tmp_settings)
    assert lexical_hits("grivnik") == set()
    assert {p.doc_id for p in retriever.retrieve("Zorblax visa fee", top_k=5)[0]} == {"other"}
