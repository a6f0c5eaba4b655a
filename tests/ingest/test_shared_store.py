"""Several kvisa processes with different KVISA_HOMEs on one `chroma run` server share one index and lose nothing."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from gradio_client import Client

from eval.stress_kills import check
from ingest.manifest import Manifest
from ingest.pipeline import Indexer, index_generation, ingest_sources, list_documents
from ingest.store import ChunkStore, open_store
from kvisa.settings import Settings
from tests.conftest import free_port, stop_process, wait_for_http
from tests.ingest.test_cli_ingest import run_kvisa, write_docs
from tests.ingest.test_server_mode import chroma_server  # noqa: F401  (the real server fixture)

NOTES = {
    "wobble-permit.md": "# Wobble permit\n\nThe Wobble permit costs 12 zorkmids and is valid for 3 years.\n",
    "quill-visa.md": "# Quill visa\n\nThe Quill visa is issued by the Office of Feathers within 9 days.\n",
    "lantern-card.md": "# Lantern card\n\nThe Lantern card lets holders work for 18 months in Glimmer.\n",
}
MEMO = "# Harbor memo\n\nThe Harbor pass requires a sponsor letter signed by the port captain.\n"
_collections = itertools.count()


class Replicas:
    """Two KVISA_HOMEs (two app replicas) on one server, in a collection of their own."""

    def __init__(self, port: int, root: Path) -> None:
        self.root = root
        self.env = {"KVISA_CHROMA_HOST": "127.0.0.1", "KVISA_CHROMA_PORT": str(port),
                    "KVISA_COLLECTION": f"shared{next(_collections)}-{os.getpid()}"}
        self.homes = {"a": root / "home-a", "b": root / "home-b"}

    def run(self, replica: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        result = run_kvisa(self.homes[replica], *args, cwd=self.root, **self.env, **env)
        assert result.returncode == 0, result.stderr
        return result

    def start(self, replica: str, *args: str, **env: str) -> subprocess.Popen:
        """`kvisa ARGS` in the background."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
        clean.update({"KVISA_HOME": str(self.homes[replica]), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                      **self.env, **env})
        return subprocess.Popen([sys.executable, "-m", "kvisa.cli", *args], env=clean, cwd=self.root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def docs(self, replica: str) -> dict[str, dict]:
        """`kvisa docs list --json` of one replica, by doc_id."""
        return {e["doc_id"]: e for e in json.loads(self.run(replica, "docs", "list", "--json").stdout)}

    def settings(self, replica: str) -> Settings:
        return Settings(home=self.homes[replica], chroma_host="127.0.0.1",
                        chroma_port=int(self.env["KVISA_CHROMA_PORT"]), collection=self.env["KVISA_COLLECTION"])


@pytest.fixture
def replicas(chroma_server: tuple[int, Path], tmp_path: Path) -> Replicas:  # noqa: F811
    return Replicas(chroma_server[0], tmp_path)


def wait_until_stopped(process: subprocess.Popen, timeout: float = 300) -> None:
    """Wait for a process to SIGSTOP itself at its failpoint (ingest/failpoints.py)."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert process.poll() is None, f"it exited ({process.returncode}) before its failpoint: {process.stderr.read()}"
        assert time.monotonic() < deadline, "it never reached its failpoint"
        time.sleep(0.2)


def test_a_document_added_through_one_replica_is_answered_by_the_other(replicas: Replicas) -> None:
    notes = write_docs(replicas.root / "notes", NOTES)
    replicas.run("a", "ingest", str(notes))
    port = free_port()
    chat = replicas.start("a", "chat", "--no-ingest", "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, chat, timeout=120, what="kvisa chat")
        client = Client(url, verbose=False)
        answer, _ = client.predict("How much does the Wobble permit cost?", api_name="/chat")
        assert "12 zorkmids" in answer

        # The data loss: a second home adding a document used to sweep everything it did not list.
        memo = write_docs(replicas.root / "memo", {"harbor-memo.md": MEMO}) / "harbor-memo.md"
        replicas.run("b", "add", str(memo))
        answer, citations = client.predict("What does the Harbor pass require?", api_name="/chat")
        assert "sponsor letter" in answer and citations[0]["doc_id"] == "harbor-memo"  # replica a's next question
        assert replicas.docs("a") == replicas.docs("b")
        assert set(replicas.docs("b")) == {"wobble-permit", "quill-visa", "lantern-card", "harbor-memo"}
        answer, _ = client.predict("Who issues the Quill visa?", api_name="/chat")
        assert "Office of Feathers" in answer  # a's own documents survived b's sweep

        replicas.run("b", "docs", "remove", "harbor-memo")
        own = write_docs(replicas.root / "b-notes", {"quill-visa.md": NOTES["quill-visa.md"]})
        replicas.run("b", "ingest", str(own), "--sync")  # b's sync of its own folder removes nothing of a's
        assert replicas.docs("a") == replicas.docs("b")
        assert set(replicas.docs("a")) == {"wobble-permit", "quill-visa", "lantern-card"}
        _, citations = client.predict("What does the Harbor pass require?", api_name="/chat")
        assert "harbor-memo" not in {c["doc_id"] for c in citations}
    finally:
        stop_process(chat)
    check(replicas.settings("a"))  # every listed document whole, nothing else stored


# a writes harbor-memo (new) first, then quill-visa (changed): held at the 1st or 2nd pass of a failpoint.
@pytest.mark.parametrize("point", ["units:1", "stored:1", "stored:2", "recorded:2"])
def test_no_sweep_deletes_a_write_in_flight(replicas: Replicas, point: str) -> None:
    """Replica a is held at an exact step of adding one document or updating another while replica b starts
    (and sweeps), adds and removes; then a goes on. Every write lands whole, nothing else is lost."""
    notes = write_docs(replicas.root / "notes", NOTES)
    replicas.run("a", "ingest", str(notes))
    (notes / "quill-visa.md").write_text(NOTES["quill-visa.md"] + "\nThe fee is 4 quills.\n", encoding="utf-8")
    write_docs(notes, {"harbor-memo.md": MEMO})
    held = replicas.start("a", "ingest", str(notes), KVISA_FAILPOINT=f"{point}:stop")
    try:
        wait_until_stopped(held)
        other = write_docs(replicas.root / "other", {"tide-notice.md": "# Tide notice\n\nTides rise at noon.\n"})
        replicas.run("b", "add", str(other / "tide-notice.md"))
        replicas.run("b", "docs", "remove", "lantern-card")
    finally:
        held.send_signal(signal.SIGCONT)
    assert held.wait(timeout=300) == 0, held.stderr.read()
    check(replicas.settings("b"))
    replicas.run("b", "ingest", str(notes))  # puts back lantern-card, which a's earlier snapshot still listed
    assert set(replicas.docs("b")) == {"wobble-permit", "quill-visa", "harbor-memo", "tide-notice", "lantern-card"}
    assert "fee is 4 quills" in replicas.run("a", "ask", "What is the Quill visa fee?").stdout
    check(replicas.settings("b"))


def test_two_concurrent_ingests_of_different_documents_both_land(replicas: Replicas) -> None:
    first = write_docs(replicas.root / "first", NOTES)
    second = write_docs(replicas.root / "second", {
        f"notice-{i}.md": f"# Notice {i}\n\nNotice {i} sets a fee of {10 + i} zorkmids for permit {i}.\n"
        for i in range(3)})
    replicas.run("a", "docs", "list")  # creates the shared manifest, so the generation below starts from it
    before = index_generation(replicas.settings("a"))
    runs = [replicas.start("a", "ingest", str(first)), replicas.start("b", "ingest", str(second))]
    for process in runs:
        assert process.wait(timeout=600) == 0, process.stderr.read()
    expected = {"wobble-permit", "quill-visa", "lantern-card", "notice-0", "notice-1", "notice-2"}
    assert set(replicas.docs("a")) == set(replicas.docs("b")) == expected
    assert index_generation(replicas.settings("b")) == before + 6  # one change each, none lost
    assert {e.doc_id for e in list_documents(replicas.settings("b"))} == expected
    check(replicas.settings("a"))


@pytest.mark.parametrize(("point", "command"), [
    ("units", "ingest"), ("stored", "ingest"), ("recorded", "ingest"), ("forgotten", "remove")])
def test_a_killed_write_is_swept_by_the_other_replica(replicas: Replicas, point: str, command: str) -> None:
    """A replica killed at a failpoint leaves remains; the other replica's next run sweeps them at once (the dead
    writer's claim is seen dead on this host) and the index again matches the manifest."""
    notes = write_docs(replicas.root / "notes", NOTES)
    replicas.run("a", "ingest", str(notes))
    (notes / "wobble-permit.md").write_text(NOTES["wobble-permit.md"] + "\nRenewal costs 5 zorkmids.\n",
                                             encoding="utf-8")
    args = ["ingest", str(notes)] if command == "ingest" else ["docs", "remove", "quill-visa"]
    killed = replicas.start("a", *args, KVISA_FAILPOINT=f"{point}:1")
    assert killed.wait(timeout=300) == -signal.SIGKILL, killed.stderr.read()
    Indexer(replicas.settings("b"), progress=False)  # what every writing run does first: sweep
    check(replicas.settings("b"))
    replicas.run("b", "ingest", str(notes))
    check(replicas.settings("b"))
    assert {"wobble-permit", "lantern-card"} <= set(replicas.docs("a"))


def test_a_failed_write_in_a_process_that_lives_on_is_swept_at_once(replicas: Replicas,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A web chat's upload that fails half written (here: after its chunks are stored, before the manifest lists
    them) must not wait for its claim's lease: the other replica's next sweep deletes what it left."""
    notes = write_docs(replicas.root / "notes", NOTES)
    replicas.run("a", "ingest", str(notes))

    def server_went_away(*_: object) -> None:
        raise RuntimeError("the server went away")

    (notes / "quill-visa.md").write_text(NOTES["quill-visa.md"] + "\nThe fee is 4 quills.\n", encoding="utf-8")
    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(Indexer, "_record", server_went_away)
        ingest_sources([str(notes / "quill-visa.md")], replicas.settings("a"), progress=False)
    stored, _ = open_store(replicas.settings("b")).versions_of(["quill-visa"])
    assert len(set(stored.values())) == 2  # the old version, and the new one no manifest lists
    indexer = Indexer(replicas.settings("b"), progress=False)  # this process, and so the writer, still runs
    assert indexer.manifest.intents() == (set(), [])
    check(replicas.settings("b"))


def test_a_start_on_the_server_reads_only_the_documents_of_dead_claims(replicas: Replicas,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep visits what a dead writer claimed, never every item's hash, and settles the dead claim."""
    notes = write_docs(replicas.root / "notes", NOTES)
    replicas.run("a", "ingest", str(notes))  # the first start swept the (empty) index in full and marked it
    (notes / "quill-visa.md").write_text(NOTES["quill-visa.md"] + "\nThe fee is 4 quills.\n", encoding="utf-8")
    killed = replicas.start("a", "ingest", str(notes), KVISA_FAILPOINT="stored:1")
    assert killed.wait(timeout=300) == -signal.SIGKILL, killed.stderr.read()

    def whole(*_: object) -> None:
        raise AssertionError("the sweep read every item's hash")

    with monkeypatch.context() as patch:
        patch.setattr(ChunkStore, "chunk_hashes", whole)
        patch.setattr(ChunkStore, "unit_hashes", whole)
        indexer = Indexer(replicas.settings("b"), progress=False)
    assert indexer.manifest.intents() == (set(), [])  # the dead claim is settled
    check(replicas.settings("b"))
    assert "quill-visa" in replicas.docs("a")


def test_a_manifest_file_from_before_the_shared_manifest_is_moved_to_the_server(replicas: Replicas) -> None:
    """An index that an older kvisa wrote to a server (its manifest in one KVISA_HOME's file) is never swept by
    another home: that home refuses with one line until the home that holds the file has moved it over."""
    import chromadb

    settings = replicas.settings("a")
    result = ingest_sources([str(write_docs(replicas.root / "notes", NOTES))], settings, progress=False)
    assert result.ok, result.errors
    entries = {e.doc_id: e for e in list_documents(settings)}
    Manifest(settings.manifest_path, entries, 7).save()  # what an older kvisa kept under KVISA_HOME
    client = chromadb.HttpClient(host="127.0.0.1", port=settings.chroma_port)
    for suffix in ("manifest", "log"):
        client.delete_collection(f"{settings.collection}-{suffix}")
    chunks = client.get_collection(settings.collection).count()

    refused = run_kvisa(replicas.homes["b"], "add", str(replicas.root / "notes" / "quill-visa.md"), **replicas.env)
    assert refused.returncode != 0 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "older kvisa" in refused.stderr and "KVISA_HOME that ingested them" in refused.stderr
    assert client.get_collection(settings.collection).count() == chunks  # nothing swept

    assert replicas.docs("a") == replicas.docs("b") == {d: asdict(e) for d, e in entries.items()}
    assert not settings.manifest_path.exists() and settings.manifest_path.with_suffix(".json.imported").exists()
    check(replicas.settings("b"))
