"""The embedded manifest's journal (ingest/journal.py): cheap per change, and whole after a crash at any byte."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest.manifest
from ingest.journal import Journal
from ingest.manifest import Manifest, ManifestEntry


def entry(i: int, revision: int = 0) -> ManifestEntry:
    return ManifestEntry(doc_id=f"doc-{i}", content_hash=f"h{i}-{revision}", title=f"Doc {i}", language="en",
                         chunks=i % 5 + 1, source=f"/notes/doc-{i}.md")


def marked(path: Path) -> Manifest:
    manifest = Manifest.load(path)
    manifest.mark_tracked()  # what the first sweep of an index does
    return manifest


def test_changes_append_to_the_journal_and_fold_into_the_file_now_and_then(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest.manifest, "_FOLD_AT", 50)
    saves: list[int] = []
    real = Manifest.save
    monkeypatch.setattr(Manifest, "save", lambda m: saves.append(m.seq) or real(m))
    manifest = marked(tmp_path / "manifest.json")
    for i in range(260):
        manifest.record(entry(i))
    assert saves == [0, 50, 100, 150, 200, 250]  # not one rewrite of every entry per document
    again = Manifest.load(tmp_path / "manifest.json")
    assert again.entries == manifest.entries and again.generation == manifest.generation == 260


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    manifest = marked(path)
    for i in range(3):
        manifest.record(entry(i))
    with open(path.with_suffix(".journal"), "a", encoding="utf-8") as journal:
        journal.write('{"seq": 4, "gen": 4, "op": "forget", "doc')  # the process died mid-line
    reopened = Manifest.load(path)
    assert set(reopened.entries) == {"doc-0", "doc-1", "doc-2"} and reopened.generation == 3
    reopened.forget("doc-1")
    assert set(Manifest.load(path).entries) == {"doc-0", "doc-2"} and Manifest.load(path).generation == 4
    assert all(line.startswith("{") and line.endswith("}")
               for line in path.with_suffix(".journal").read_text(encoding="utf-8").splitlines())


def test_a_crash_between_folding_and_emptying_the_journal_counts_nothing_twice(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "manifest.json"
    manifest = marked(path)
    for i in range(5):
        manifest.record(entry(i))
    manifest.forget("doc-2")

    def died(_: Journal) -> None:
        raise RuntimeError("killed after the file was replaced")

    with monkeypatch.context() as patch:
        patch.setattr(Journal, "clear", died)
        with pytest.raises(RuntimeError):
            manifest.save()
    reopened = Manifest.load(path)  # the file holds all six changes, the journal all six again
    assert set(reopened.entries) == {"doc-0", "doc-1", "doc-3", "doc-4"} and reopened.generation == 6
    reopened.record(entry(1, revision=1))  # first drops the folded lines
    again = Manifest.load(path)
    assert again.entries["doc-1"].content_hash == "h1-1" and again.generation == 7
    assert len(path.with_suffix(".journal").read_text(encoding="utf-8").splitlines()) == 1


def test_an_intent_stays_pending_until_its_write_finished(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    manifest = marked(path)
    with manifest.claim("doc-1", "h1-0"):
        manifest.record(entry(1))
        assert [doc for _, doc in Manifest.load(path).intents()[1]] == ["doc-1"]
    assert Manifest.load(path).intents() == (set(), [])
    with pytest.raises(KeyError), manifest.claim("doc-2", "h2-0"):
        raise KeyError("the write failed")
    live, dead = Manifest.load(path).intents()
    assert live == set() and [doc for _, doc in dead] == ["doc-2"]  # for the next start's sweep
    Manifest.load(path).settle(dead)
    assert Manifest.load(path).intents() == (set(), []) and Manifest.load(path).generation == 1


def test_a_file_from_before_intents_is_unmarked_and_its_journal_ignored(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    manifest = marked(path)
    manifest.record(entry(1))
    path.write_text('{"generation": 9, "documents": []}', encoding="utf-8")  # an older kvisa rewrote the file
    old = Manifest.load(path)
    assert not old.tracks_intents() and old.entries == {} and old.generation == 9
    old.record(entry(2))  # marks the file first, so the journal after it is read again
    assert Manifest.load(path).tracks_intents() and set(Manifest.load(path).entries) == {"doc-2"}
    assert Manifest.load(path).generation == 10


def test_a_reader_sees_every_appended_change(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    writer, reader = marked(path), Manifest.load(path)
    assert reader.current_generation() == 0
    writer.record(entry(1))
    assert reader.current_generation() == 1
    writer.record(entry(2))
    writer.forget("doc-1")
    assert reader.current_generation() == 3 and set(reader.reload()) == {"doc-2"}
