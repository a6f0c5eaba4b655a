"""The real `kvisa` command line: ingest, add, docs list/remove, idempotence, --sync and every bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.store import open_store
from kvisa.settings import Settings
from tests.conftest import http_site
from tests.data.bad.samples import KINDS, BadSite, closed_port, make
from tests.ingest.chroma_client import forget_client

KVISA = [sys.executable, "-m", "kvisa.cli"]
TINY_DOCS = {
    "k-visa-basics.md": "---\ntitle: K visa basics\njurisdiction: PRC\nsource_url: https://example.org/k\n---\n\n"
                        "# K visa basics\n\n## Eligibility\n\nThe K visa is for young science and technology "
                        "talent. No employer invitation is needed.\n",
    "h1b-fee.txt": "The H-1B fee is $100,000 for new petitions. It was set by a proclamation in September 2025.\n",
    "visa-page.html": "<html><head><title>Visa page</title><script>var junk = 1;</script></head><body>"
                      "<nav>Menu</nav><main><h1>Visa page</h1><p>Visas are issued by consulates abroad.</p>"
                      "</main></body></html>",
}


def run_kvisa(home: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """Run the kvisa CLI in a subprocess whose only state is `home`."""
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    clean_env.update({"KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", **env})
    return subprocess.run([*KVISA, *args], env=clean_env, cwd=cwd or home.parent, capture_output=True,
                          text=True, timeout=300)


def index_state(home: Path) -> tuple[int, int, bytes, bytes]:
    """(chunks, evidence units, manifest bytes, its journal's bytes): everything that must not move on bad input."""
    forget_client(home)  # always read what the subprocess left on disk
    store = open_store(Settings(home=home))
    path = Settings(home=home).manifest_path
    journal = path.with_suffix(".journal")
    state = (store.chunks.count(), store.units.count(), path.read_bytes(),
             journal.read_bytes() if journal.exists() else b"")
    forget_client(home)
    return state


def stored_chunks(home: Path) -> dict[str, dict]:
    """chunk_id -> metadata of every chunk in the index at `home`."""
    forget_client(home)
    chunks = {c.chunk_id: c.metadata for c in open_store(Settings(home=home)).all_chunks()}
    forget_client(home)
    return chunks


def docs_list(home: Path) -> dict[str, dict]:
    result = run_kvisa(home, "docs", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["doc_id"]: entry for entry in json.loads(result.stdout)}


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of three tiny documents and a home where the CLI ingested them once."""
    root = tmp_path_factory.mktemp("cli")
    folder = write_docs(root / "docs", TINY_DOCS)
    result = run_kvisa(root / "home", "ingest", str(folder))
    assert result.returncode == 0, result.stderr
    assert "added 3" in result.stdout
    return folder, root / "home"


@pytest.fixture
def home(tiny_corpus: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the tiny index, so each test may change it."""
    return Path(shutil.copytree(tiny_corpus[1], tmp_path / "home"))


def test_ingesting_the_same_folder_twice_writes_nothing(tiny_corpus: tuple[Path, Path], home: Path) -> None:
    before = index_state(home)
    result = run_kvisa(home, "ingest", str(tiny_corpus[0]))
    assert result.returncode == 0, result.stderr
    assert "unchanged 3" in result.stdout and "0 chunks written" in result.stdout
    assert index_state(home) == before


def test_a_changed_document_replaces_all_of_its_old_chunks(home: Path, tmp_path: Path) -> None:
    old = stored_chunks(home)
    old_fee = {cid for cid, meta in old.items() if meta["doc_id"] == "h1b-fee"}
    edited = write_docs(tmp_path / "edited", {"h1b-fee.txt": TINY_DOCS["h1b-fee.txt"] + "\n## Exceptions\n\n"
                                              "The Secretary of Homeland Security may grant exceptions.\n"})
    result = run_kvisa(home, "add", str(edited / "h1b-fee.txt"))
    assert result.returncode == 0, result.stderr
    assert "updated 1" in result.stdout
    new = stored_chunks(home)
    new_fee = {cid: meta for cid, meta in new.items() if meta["doc_id"] == "h1b-fee"}
    manifest = docs_list(home)["h1b-fee"]
    assert not old_fee & set(new_fee)  # no old chunk survives
    assert len(new_fee) == manifest["chunks"] == 2
    assert {meta["content_hash"] for meta in new_fee.values()} == {manifest["content_hash"]}
    assert len(new) == len(old) - len(old_fee) + len(new_fee)


def test_sync_removes_the_document_of_a_deleted_file(tmp_path: Path) -> None:
    folder = write_docs(tmp_path / "docs", {k: TINY_DOCS[k] for k in ("k-visa-basics.md", "h1b-fee.txt")})
    home = tmp_path / "home"
    assert run_kvisa(home, "ingest", str(folder)).returncode == 0
    (folder / "h1b-fee.txt").unlink()
    without_sync = run_kvisa(home, "ingest", str(folder))
    assert "removed 0" in without_sync.stdout and "h1b-fee" in docs_list(home)
    result = run_kvisa(home, "ingest", str(folder), "--sync")
    assert result.returncode == 0, result.stderr
    assert "removed 1" in result.stdout
    assert set(docs_list(home)) == {"k-visa-basics"}
    assert {meta["doc_id"] for meta in stored_chunks(home).values()} == {"k-visa-basics"}


def test_sync_works_when_the_folder_was_first_given_as_a_relative_path(tmp_path: Path) -> None:
    folder = write_docs(tmp_path / "docs", {k: TINY_DOCS[k] for k in ("k-visa-basics.md", "h1b-fee.txt")})
    home = tmp_path / "home"
    assert run_kvisa(home, "ingest", "docs", cwd=tmp_path).returncode == 0
    (folder / "h1b-fee.txt").unlink()
    result = run_kvisa(home, "ingest", str(folder), "--sync", cwd=home.parent.parent)
    assert "removed 1" in result.stdout, result.stdout + result.stderr
    assert set(docs_list(home)) == {"k-visa-basics"}


def test_docs_list_json_describes_every_document(home: Path, tiny_corpus: tuple[Path, Path]) -> None:
    result = run_kvisa(home, "docs", "list", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert isinstance(entries, list) and len(entries) == 3
    by_id = {e["doc_id"]: e for e in entries}
    assert by_id["k-visa-basics"]["title"] == "K visa basics"
    assert by_id["visa-page"]["title"] == "Visa page"
    chunks = stored_chunks(home)
    for entry in entries:
        assert {"doc_id", "title", "language", "chunks", "source"} <= set(entry)
        assert entry["language"] == "en"
        assert entry["chunks"] == sum(1 for m in chunks.values() if m["doc_id"] == entry["doc_id"])
        assert Path(entry["source"]).resolve().parent == tiny_corpus[0].resolve()


def test_docs_remove_deletes_a_document_and_its_chunks(home: Path) -> None:
    result = run_kvisa(home, "docs", "remove", "visa-page")
    assert result.returncode == 0, result.stderr
    assert set(docs_list(home)) == {"k-visa-basics", "h1b-fee"}
    assert "visa-page" not in {m["doc_id"] for m in stored_chunks(home).values()}
    before = index_state(home)
    missing = run_kvisa(home, "docs", "remove", "visa-page")
    assert missing.returncode != 0
    assert missing.stderr.startswith("kvisa: error:") and missing.stderr.count("\n") == 1
    assert index_state(home) == before


@pytest.fixture(scope="module")
def bad_site() -> Iterator[str]:
    with http_site(BadSite) as url:
        yield url


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_gives_one_error_line_and_leaves_the_index_unchanged(kind: str, home: Path, tmp_path: Path,
                                                                      bad_site: str) -> None:
    """Every kind of tests/data/bad/README.md: one line, a non-zero exit, the index as it was."""
    argument, env = make(kind, tmp_path, bad_site)
    before = index_state(home)
    result = run_kvisa(home, "add", argument, **env)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvisa: error:"), result.stderr
    assert Path(argument).name in lines[0] or argument in lines[0]
    assert index_state(home) == before


def test_a_file_that_changes_while_it_is_read_is_refused(home: Path, tmp_path: Path) -> None:
    """Held right after reading (failpoint "read"), the file is rewritten: the add is refused, nothing stored."""
    from tests.ingest.test_shared_store import wait_until_stopped

    growing = write_docs(tmp_path / "new", {"growing.md": "# Growing\n\nThe first half of a note.\n"}) / "growing.md"
    before = index_state(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                "KVISA_FAILPOINT": "read:1:stop"})
    held = subprocess.Popen([*KVISA, "add", str(growing)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_until_stopped(held)
        growing.write_text("# Growing\n\nThe first half of a note. And the second half, written meanwhile.\n")
        held.send_signal(signal.SIGCONT)
        _, stderr = held.communicate(timeout=300)
    finally:
        held.kill()
    assert held.returncode != 0
    lines = stderr.splitlines()
    assert len(lines) == 1 and "growing.md: the file changed while it was being read" in lines[0], stderr
    assert index_state(home) == before


def test_adding_several_files_adds_the_good_ones_and_reports_the_bad_one(home: Path, tmp_path: Path) -> None:
    folder = write_docs(tmp_path / "new", {
        "q-visa.txt": "The Q visa is for family members of Chinese citizens. It allows family reunion.\n",
        "empty.md": "",
        "z-visa.txt": "The Z visa is for foreigners who work in China. It needs a work permit.\n",
    })
    result = run_kvisa(home, "add", *(str(folder / n) for n in ("q-visa.txt", "empty.md", "z-visa.txt")))
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("kvisa: error:")]
    assert len(errors) == 1 and "empty.md" in errors[0]  # stderr also shows embedding progress
    assert "added 2" in result.stdout
    assert set(docs_list(home)) == {"k-visa-basics", "h1b-fee", "visa-page", "q-visa", "z-visa"}


def test_hostile_file_names_get_safe_document_ids(tmp_path: Path) -> None:
    folder = write_docs(tmp_path / "docs", {
        "..%2f..%2fetc.txt": "The K visa started in October 2025. It needs no employer.\n",
        "Visa notes – draft (v2).txt": "H-1B rules changed in 2025. A fee applies to new petitions.\n",
        "签证说明.txt": "K字签证自2025年10月1日起施行。申请人不需要雇主邀请。\n",
    })
    home = tmp_path / "home"
    # Named one by one: a folder ingest would skip '..%2f..%2fetc.txt' as a hidden file.
    result = run_kvisa(home, "add", *(str(p) for p in sorted(folder.iterdir())))
    assert result.returncode == 0, result.stderr
    ids = set(docs_list(home))
    assert len(ids) == 3
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", doc_id) for doc_id in ids), ids
    assert "visa-notes-draft-v2" in ids
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "home"]  # nothing written outside home


def test_an_unreachable_chroma_server_is_one_error_line(tmp_path: Path) -> None:
    note = write_docs(tmp_path / "docs", {"h1b-fee.txt": TINY_DOCS["h1b-fee.txt"]}) / "h1b-fee.txt"
    result = run_kvisa(tmp_path / "home", "add", str(note), KVISA_CHROMA_HOST="127.0.0.1",
                       KVISA_CHROMA_PORT=str(closed_port()))
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvisa: error: cannot open the Chroma store"), result.stderr
    assert not (tmp_path / "home" / "chroma").exists()
