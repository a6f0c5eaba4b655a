"""Server mode: the same corpus ingest against a real `chroma run` server on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.embedding import get_embedder
from ingest.pipeline import ingest_sources, list_documents
from ingest.store import open_store
from kvisa.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port, stop_process, wait_for_http

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A real Chroma server process; yields (port, its data directory) and stops it afterwards."""
    data, port = tmp_path_factory.mktemp("chroma-server"), free_port()
    log = (data.parent / "chroma-server.log").open("wb")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, 60, f"chroma run (log: {log.name})")
        yield port, data
    finally:
        stop_process(server, grace=20)
        log.close()


def test_the_corpus_ingests_into_a_chroma_server(chroma_server: tuple[int, Path], tmp_path: Path) -> None:
    port, data = chroma_server
    settings = Settings(home=tmp_path / "home", corpus_dir=PROJECT_ROOT / "corpus",
                        chroma_host="127.0.0.1", chroma_port=port)
    report = ingest_sources([str(settings.corpus_dir)], settings, progress=False)
    assert report.ok, report.errors
    assert len(report.added) == 8
    assert {e.doc_id for e in list_documents(settings)} == set(report.added)
    assert not settings.chroma_dir.exists()  # nothing was written to an embedded store

    store = open_store(settings)
    stored_docs = {c.metadata["doc_id"] for c in store.all_chunks()}
    assert stored_docs == set(report.added)
    assert store.count() == sum(e.chunks for e in list_documents(settings)) == report.chunks_written
    assert any(data.iterdir())  # the server persisted it in its own directory

    embedder = get_embedder(settings.embed_model, settings.embed_batch_size)
    hits = store.query_chunks(embedder.encode_query("Does the K visa require an employer?"), k=3)
    assert "prc-k-visa-ministries-qa" in [chunk_id.split(":")[0] for chunk_id, _ in hits]

    again = ingest_sources([str(settings.corpus_dir)], settings, progress=False)
    assert (again.chunks_written, len(again.unchanged)) == (0, 8)
    assert store.count() == report.chunks_written

