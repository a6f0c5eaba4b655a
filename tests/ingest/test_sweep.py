"""The start-of-ingest sweep (ingest/sweep.py): exact after a crash at any step, and reading only what changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import ingest.store
from ingest.manifest import Manifest
from ingest.pipeline import Indexer, ingest_sources
from ingest.store import ChunkStore, open_store
from kvisa.settings import Settings
from tests.ingest.chroma_client import forget_client
from tests.ingest.test_cli_ingest import run_kvisa
from tests.ingest.test_crash import (
    SimulatedCrash,
    _crash,
    assert_index_matches_manifest,
    ingest_in_process,
    kill_at,
    manifest_docs,
    policy_note,
    write_notes,
)

# Where a write dies, and which version the manifest then holds. "claimed": its intent written, nothing
# stored; "units", "stored": the new version's units, then its chunks stored; "recorded": listed, the old
# version not yet deleted; "deleted": the old version deleted, the intent not yet settled.
UPDATE_POINTS = {"claimed": "old", "units": "old", "stored": "old", "recorded": "new", "deleted": "new"}
REMOVE_POINTS = ["claimed", "forgotten", "deleted"]


def manifest_of(home: Path) -> Manifest:
    return Manifest.load(Settings(home=home).manifest_path)


@pytest.fixture(scope="module")
def notes_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """30 notes ingested once: (notes folder, KVISA_HOME); tests work on copies of the home."""
    root = tmp_path_factory.mktemp("sweep")
    folder, home = write_notes(root / "notes"), root / "home"
    ingest_in_process(home, str(folder))
    return folder, home


@pytest.fixture
def home(notes_index: tuple[Path, Path], tmp_path: Path) -> Iterator[Path]:
    import shutil

    copy = tmp_path / "home"
    shutil.copytree(notes_index[1], copy)
    yield copy
    forget_client(copy)


@pytest.mark.parametrize(("point", "kept"), list(UPDATE_POINTS.items()))
def test_a_kill_at_each_step_of_an_update_leaves_exactly_the_recorded_version(point: str, kept: str, home: Path,
                                                                            tmp_path: Path) -> None:
    old_hash = manifest_docs(home)["note-07"]["content_hash"]
    note = tmp_path / "edited" / "note-07.md"
    note.parent.mkdir()
    note.write_text(policy_note(7, revision=1), encoding="utf-8")
    kill_at(home, note.parent, point, 1, "add", str(note))
    assert manifest_of(home).pending  # the write's intent outlived it
    ingest_in_process(home)  # the next start sweeps
    assert_index_matches_manifest(home)
    assert (manifest_docs(home)["note-07"]["content_hash"] == old_hash) == (kept == "old")
    assert not manifest_of(home).pending and len(manifest_docs(home)) == 30


@pytest.mark.parametrize("point", REMOVE_POINTS)
def test_a_kill_at_each_step_of_a_remove_leaves_the_document_whole_or_gone(point: str, home: Path) -> None:
    kill_at(home, home, point, 1, "docs", "remove", "note-03")
    ingest_in_process(home)
    assert_index_matches_manifest(home)
    assert ("note-03" in manifest_docs(home)) == (point == "claimed") and not manifest_of(home).pending


class Reads:
    """Counts the items read from Chroma, and fails on a read of every item's hash."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = 0
        real = ingest.store.get_all

        def counted(*args: object, **kwargs: object) -> dict:
            got = real(*args, **kwargs)
            self.rows += len(got["ids"])
            return got

        def whole(*_: object) -> None:
            raise AssertionError("the sweep read every item's hash")

        monkeypatch.setattr(ingest.store, "get_all", counted)
        monkeypatch.setattr(ChunkStore, "chunk_hashes", whole)
        monkeypatch.setattr(ChunkStore, "unit_hashes", whole)


def items_of(home: Path, doc_id: str) -> int:
    forget_client(home)
    store = open_store(Settings(home=home))
    count = sum(len(c.get(where={"doc_id": doc_id})["ids"]) for c in (store.chunks, store.units))
    forget_client(home)
    return count


def test_a_start_reads_only_the_documents_of_interrupted_writes(home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    total = open_store(Settings(home=home)).count() + open_store(Settings(home=home)).units.count()
    forget_client(home)
    note = tmp_path / "note-11.md"
    note.write_text(policy_note(11, revision=2), encoding="utf-8")
    with monkeypatch.context() as patch:  # dies with the new version stored, not listed
        patch.setattr(Manifest, "record", _crash)
        with pytest.raises(SimulatedCrash):
            ingest_sources([str(note)], Settings(home=home), progress=False)
    both_versions = items_of(home, "note-11")
    reads = Reads(monkeypatch)
    forget_client(home)
    Indexer(Settings(home=home), progress=False)
    assert 0 < reads.rows == both_versions < total / 5  # that document's items, not the index's
    reads.rows = 0
    Indexer(Settings(home=home), progress=False)
    assert reads.rows == 0  # nothing pending: nothing read
    monkeypatch.undo()
    assert_index_matches_manifest(home)


def _crash_before_recording(home: Path, note: Path, number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new revision of a note stored, and the process killed before the manifest lists it."""
    note.write_text(policy_note(number, revision=1), encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(Manifest, "record", _crash)
        with pytest.raises(SimulatedCrash):
            ingest_sources([str(note)], Settings(home=home), progress=False)


def test_an_index_written_before_intents_is_swept_in_full_once(home: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_before_recording(home, tmp_path / "note-05.md", 5, monkeypatch)
    # What the kvisa before intents left: the manifest file alone (no mark, no pending intent), orphans stored.
    path = Settings(home=home).manifest_path
    entries = manifest_docs(home)
    path.write_text(json.dumps({"generation": 40, "documents": list(entries.values())}), encoding="utf-8")
    path.with_suffix(".journal").unlink()
    assert not manifest_of(home).tracks_intents()
    forget_client(home)
    Indexer(Settings(home=home), progress=False)  # the full sweep
    assert_index_matches_manifest(home)
    assert manifest_of(home).tracks_intents() and manifest_docs(home) == entries
    assert manifest_of(home).current_generation() == 40
    Reads(monkeypatch)
    forget_client(home)
    Indexer(Settings(home=home), progress=False)  # marked: no full read again


def test_kvisa_docs_sweep_deletes_remains_no_intent_leads_to(home: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_before_recording(home, tmp_path / "note-09.md", 9, monkeypatch)
    forget_client(home)
    both = items_of(home, "note-09")  # the recorded version and the new one, stored but not listed
    manifest = manifest_of(home)
    manifest.settle(manifest.intents()[1])  # as a kvisa without intents would have left it: nothing pending
    ingest_in_process(home)
    assert items_of(home, "note-09") == both  # an ingest's start has no intent leading it there
    result = run_kvisa(home, "docs", "sweep")
    assert result.returncode == 0, result.stderr
    assert_index_matches_manifest(home)
    assert result.stdout.strip() == f"swept {both - items_of(home, 'note-09')} chunks and units"
    assert 0 < items_of(home, "note-09") < both
