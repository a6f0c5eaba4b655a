"""The real corpus in a real Chroma index: documents, metadata, clean chunks, window limits and retrieval."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ingest.chunking import HARD_TOKEN_LIMIT, Chunker
from ingest.embedding import get_embedder
from ingest.loaders import load_path
from ingest.pipeline import list_documents
from ingest.store import open_store
from kvisa.settings import PROJECT_ROOT, Settings
from tests.conftest import make_settings

CORPUS = PROJECT_ROOT / "corpus"
EXPECTED_DOC_IDS = {
    "k-visa-article",
    "prc-decree-814-k-visa-zh",
    "prc-entry-exit-regulations-visa-categories",
    "prc-k-visa-ministries-qa",
    "us-h1b-proclamation-faq-and-fact-sheet",
    "us-h1b-program-basics",
    "us-h1b-weighted-selection-rule",
    "us-proclamation-10973",
}
# Every word of the two advertising lines in k-visa-article.txt that the article itself never uses.
AD_WORDS = ("industrial monitor direct", "iecex", "c1d2", "anti-glare", "high-brightness",
            "aerospace-grade", "rugged", "industry-leading", "preferred supplier", "manufacturing engineers")


def expected_metadata(doc_id: str) -> dict[str, str]:
    """What the source files themselves say: front matter of a .md, or the .meta.yaml sidecar."""
    md = CORPUS / f"{doc_id}.md"
    if md.exists():
        front = re.match(r"\A---\n(.*?)\n---\n", md.read_text(encoding="utf-8"), re.DOTALL)
        assert front, f"{md} has no front matter"
        return {k: str(v) for k, v in yaml.safe_load(front.group(1)).items()}
    sidecar = yaml.safe_load((CORPUS / f"{doc_id}.meta.yaml").read_text(encoding="utf-8"))
    return {"language": "en", "source_url": "", **{k: str(v) for k, v in sidecar.items()}}


@pytest.fixture(scope="module")
def stored(corpus_settings: Settings) -> dict[str, list]:
    """doc_id -> its stored chunks in chunk order, read back from Chroma."""
    by_doc: dict[str, list] = {}
    for chunk in open_store(corpus_settings).all_chunks():
        by_doc.setdefault(chunk.metadata["doc_id"], []).append(chunk)
    return {d: sorted(cs, key=lambda c: c.metadata["chunk_index"]) for d, cs in by_doc.items()}


def test_the_eight_corpus_documents_are_listed_with_their_metadata(corpus_settings: Settings) -> None:
    entries = {e.doc_id: e for e in list_documents(corpus_settings)}
    assert set(entries) == EXPECTED_DOC_IDS
    for doc_id, entry in entries.items():
        want = expected_metadata(doc_id)
        assert entry.title == want["title"]
        assert entry.language == want["language"]
        assert entry.jurisdiction == want["jurisdiction"]
        assert entry.source_url == want["source_url"]
        assert entry.chunks > 0
    assert entries["prc-decree-814-k-visa-zh"].language == "zh"
    assert entries["k-visa-article"].title.startswith("China launches the K visa")


def test_every_chunk_carries_its_documents_metadata(corpus_settings: Settings, stored: dict[str, list]) -> None:
    assert set(stored) == EXPECTED_DOC_IDS
    manifest = {e.doc_id: e for e in list_documents(corpus_settings)}
    for doc_id, chunks in stored.items():
        want = expected_metadata(doc_id)
        assert len(chunks) == manifest[doc_id].chunks
        for chunk in chunks:
            meta = chunk.metadata
            assert (meta["doc_id"], meta["title"], meta["language"]) == (doc_id, want["title"], want["language"])
            assert (meta["jurisdiction"], meta["source_url"]) == (want["jurisdiction"], want["source_url"])
            assert meta["content_hash"] == manifest[doc_id].content_hash


def test_no_advertising_text_reaches_any_chunk(stored: dict[str, list]) -> None:
    for chunks in stored.values():
        for chunk in chunks:
            lowered = chunk.text.lower()
            assert not [w for w in AD_WORDS if w in lowered], chunk.chunk_id
    # The article around the advertisements is still there.
    article = " ".join(c.text for c in stored["k-visa-article"])
    assert "without requiring employer sponsorship" in article


def test_chunk_offsets_point_into_the_cleaned_document(corpus_settings: Settings, stored: dict[str, list]) -> None:
    for doc_id, chunks in stored.items():
        doc = load_path(_source_file(doc_id), corpus_settings)
        for chunk in chunks:
            start, end = chunk.metadata["start"], chunk.metadata["end"]
            assert chunk.text == doc.text[start:end], chunk.chunk_id


def test_every_embedded_text_fits_the_model_window(corpus_settings: Settings, stored: dict[str, list]) -> None:
    embedder = get_embedder(corpus_settings.embed_model, corpus_settings.embed_batch_size)
    chunker = Chunker(embedder.count_tokens, corpus_settings.chunk_tokens, corpus_settings.chunk_overlap)
    for doc_id, chunks in stored.items():
        planned = chunker.run(load_path(_source_file(doc_id), corpus_settings))
        # The chunker is deterministic, so re-running it shows exactly what was embedded and stored.
        assert [(c.start, c.end) for c in planned] == [(c.metadata["start"], c.metadata["end"]) for c in chunks]
        embedded = [c.embed_text for c in planned] + [u.context for c in planned for u in c.units]
        longest = max(embedder.count_tokens(embedded))
        assert longest <= HARD_TOKEN_LIMIT, (doc_id, longest)


def test_vector_search_alone_finds_the_ministries_qa_for_the_employer_question(
    corpus_settings: Settings,
) -> None:
    embedder = get_embedder(corpus_settings.embed_model, corpus_settings.embed_batch_size)
    store = open_store(corpus_settings)
    hits = store.query_chunks(embedder.encode_query("Does the K visa require an employer?"), k=3)
    assert len(hits) == 3
    top_docs = [cid.split(":")[0] for cid, _ in hits]
    assert "prc-k-visa-ministries-qa" in top_docs, hits


def test_a_search_for_more_than_the_store_holds_returns_all_it_holds(corpus_settings: Settings,
                                                                     tmp_path: Path) -> None:
    """The store asks Chroma for k neighbours without counting first (a count reads every row): Chroma must
    return fewer, not fail, when there are fewer, down to none."""
    vector = get_embedder(corpus_settings.embed_model, corpus_settings.embed_batch_size).encode_query("K visa")
    store = open_store(corpus_settings)
    assert len(store.query_chunks(vector, k=store.count() + 50)) == store.count()
    assert len(store.query_units(vector, k=store.units.count() + 50)) == store.units.count()
    empty = open_store(make_settings(tmp_path / "empty"))
    assert empty.query_chunks(vector, k=5) == [] and empty.query_units(vector, k=5) == []


def _source_file(doc_id: str) -> Path:
    return next(p for p in CORPUS.iterdir() if p.stem == doc_id and not p.name.endswith(".meta.yaml"))
