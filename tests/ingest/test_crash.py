"""Crash safety: kill a real ingest in the middle of writing, re-run it, and find no duplicate or half document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from ingest.chunking import Chunker
from ingest.embedding import get_embedder
from ingest.failpoints import ENV as FAILPOINT_ENV
from ingest.loaders import load_path
from ingest.manifest import Manifest
from ingest.pipeline import ingest_sources
from ingest.store import ChunkStore, open_store
from kvisa.settings import Settings
from tests.ingest.chroma_client import forget_client

N_DOCS = 30
TOPICS = ["K visa", "H-1B petition", "Z visa", "weighted selection", "entry fee", "talent program"]


def policy_note(i: int, revision: int = 0) -> str:
    """A small generated document with two sections, distinct per i and per revision."""
    topic = TOPICS[i % len(TOPICS)]
    parts = [f"# Policy note {i} on the {topic}\n"]
    for s in range(2):
        parts.append(f"## Part {s} of note {i}\n")
        parts.append(f"Rule {i}.{s} of the {topic} applies from {2020 + s}. It covers case {i * 7 + s}.\n")
    if revision:
        parts.append(f"## Amendment {revision}\n\nAmendment {revision} changes rule {i} of the {topic}.\n")
    return "\n".join(parts)


def write_notes(folder: Path, revision: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_DOCS):
        (folder / f"note-{i:02d}.md").write_text(policy_note(i, revision), encoding="utf-8")
    return folder


def ingest_in_process(home: Path, *sources: str) -> None:
    """The same pipeline the CLI runs. With no source it only opens the index, which sweeps crash remains."""
    forget_client(home)
    report = ingest_sources(list(sources), Settings(home=home), progress=False)
    forget_client(home)
    assert report.ok, report.errors


def manifest_docs(home: Path) -> dict[str, dict]:
    """The documents the manifest lists: its file and the journal after it."""
    return {doc_id: asdict(e) for doc_id, e in Manifest.load(Settings(home=home).manifest_path).entries.items()}


def kill_at(home: Path, folder: Path, point: str, nth: int, *command: str) -> None:
    """Run `kvisa ingest folder` (or `kvisa COMMAND`) and have it SIGKILL itself the nth time it reaches a
    failpoint (ingest/failpoints.py): after a write's intent ("claimed"), after a document's units are stored
    ("units"), after its chunks ("stored"), after its manifest entry ("recorded"), after a removal is recorded
    ("forgotten"), after the old version is deleted ("deleted"). Where it dies is exact, not a race with a timer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                FAILPOINT_ENV: f"{point}:{nth}"})
    args = list(command) or ["ingest", str(folder)]
    result = subprocess.run([sys.executable, "-m", "kvisa.cli", *args], env=env, cwd=home.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    assert result.returncode == -signal.SIGKILL, f"the ingest was not killed at {point}:{nth}"


def assert_index_matches_manifest(home: Path, expected_chunks: dict[str, int] | None = None) -> None:
    """Every manifest document has exactly its chunks, all of its current version; nothing else is stored."""
    forget_client(home)
    store = open_store(Settings(home=home))
    chunks = store.chunks.get(include=["metadatas"])
    units = store.units.get(include=["metadatas"])
    forget_client(home)
    manifest = manifest_docs(home)
    assert len(chunks["ids"]) == len(set(chunks["ids"])) == sum(e["chunks"] for e in manifest.values())
    per_doc: dict[str, list[dict]] = {}
    for meta in chunks["metadatas"]:
        per_doc.setdefault(meta["doc_id"], []).append(meta)
    assert set(per_doc) == set(manifest)
    for doc_id, metas in per_doc.items():
        entry = manifest[doc_id]
        assert {m["content_hash"] for m in metas} == {entry["content_hash"]}, doc_id
        assert sorted(m["chunk_index"] for m in metas) == list(range(entry["chunks"])), doc_id
    if expected_chunks is not None:
        assert {d: e["chunks"] for d, e in manifest.items()} == expected_chunks
    assert {m["chunk_id"] for m in units["metadatas"]} == set(chunks["ids"])  # no chunk without units, no orphan


@pytest.fixture(scope="module")
def expected_chunks(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, int]]:
    """Chunk counts of a clean ingest, per revision of the notes, from the same chunker in-process."""
    settings = Settings(home=tmp_path_factory.mktemp("unused"))
    embedder = get_embedder(settings.embed_model, settings.embed_batch_size)
    chunker = Chunker(embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap)
    out = {}
    for revision in (0, 1):
        folder = write_notes(tmp_path_factory.mktemp(f"plan{revision}"), revision)
        out[revision] = {p.stem: len(chunker.run(load_path(p, settings))) for p in sorted(folder.iterdir())}
    return out


def test_a_killed_first_ingest_is_completed_by_the_next_run(tmp_path: Path, expected_chunks: dict) -> None:
    folder, home = write_notes(tmp_path / "notes"), tmp_path / "home"
    # Each run writes only what the killed one left: 30 documents, then 30, then 16 (nth stays within them).
    for point, nth in (("units", 1), ("stored", N_DOCS // 2), ("recorded", 10)):
        kill_at(home, folder, point, nth)
        ingest_in_process(home)  # the next run starts by sweeping what the killed one left
        assert_index_matches_manifest(home)
    ingest_in_process(home, str(folder))
    assert_index_matches_manifest(home, expected_chunks[0])


def test_a_killed_update_leaves_every_document_whole(tmp_path: Path, expected_chunks: dict) -> None:
    folder, home = write_notes(tmp_path / "notes"), tmp_path / "home"
    ingest_in_process(home, str(folder))
    write_notes(folder, revision=1)  # every document changes
    # Each run writes only what the killed one left: 30 changed documents, then 29, then 20.
    for point, nth in (("units", 2), ("stored", N_DOCS // 3), ("recorded", N_DOCS // 2)):
        kill_at(home, folder, point, nth)
        ingest_in_process(home)
        assert_index_matches_manifest(home)  # each note is wholly old or wholly new, never half
    ingest_in_process(home, str(folder))
    assert_index_matches_manifest(home, expected_chunks[1])


class SimulatedCrash(BaseException):
    """Raised at one precise step of a write, standing in for the process dying there."""


def _crash(*args, **kwargs) -> None:
    raise SimulatedCrash


# Each step of replacing a document: a crash right there must leave one whole version of it.
CRASH_POINTS = {
    "while writing the new chunks": (ChunkStore, "add_document"),
    "while deleting the old chunks": (ChunkStore, "delete_chunks"),
    "while recording the new version": (Manifest, "record"),
    "while settling the intent": (Manifest, "settle"),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_crash_at_each_step_of_an_update_leaves_one_whole_version(point: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder, home = tmp_path / "notes", tmp_path / "home"
    folder.mkdir()
    note = folder / "note.md"
    note.write_text(policy_note(1), encoding="utf-8")
    ingest_in_process(home, str(note))
    old_hash = manifest_docs(home)["note"]["content_hash"]
    note.write_text(policy_note(1, revision=1), encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(*CRASH_POINTS[point], _crash)
        with pytest.raises(SimulatedCrash):
            ingest_sources([str(note)], Settings(home=home), progress=False)
    ingest_in_process(home)
    assert_index_matches_manifest(home)
    assert manifest_docs(home)["note"]["chunks"] > 0
    ingest_in_process(home, str(note))
    assert manifest_docs(home)["note"]["content_hash"] != old_hash
    assert_index_matches_manifest(home)


def test_a_killed_remove_leaves_no_orphan_chunks(tmp_path: Path, expected_chunks: dict) -> None:
    folder, home = write_notes(tmp_path / "notes"), tmp_path / "home"
    ingest_in_process(home, str(folder))
    kill_at(home, folder, "forgotten", 1, "docs", "remove", "note-03")  # forgotten, chunks still stored
    ingest_in_process(home)  # the sweep deletes them
    assert "note-03" not in manifest_docs(home)
    assert_index_matches_manifest(home, {d: n for d, n in expected_chunks[0].items() if d != "note-03"})

