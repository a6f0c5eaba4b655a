"""Stress: kill real ingests, adds, updates and removes at random failpoints, and check nothing is lost.

Usage: .venv/bin/python eval/stress_kills.py [--trials 100] [--server] [--seed 0] [--out eval/results/...]

Each trial runs one `kvisa` command in a subprocess that SIGKILLs itself at a random failpoint
(ingest/failpoints.py: after a write's intent, after a document's units, after its chunks, after its
manifest entry, after a removal is recorded, after the old version is deleted) or, when the random count
is past the command's work, completes. Then a fresh run must complete, and: no chunk id is stored twice;
every manifest document has exactly its chunks, all of its current version, with their units; nothing
else is stored; the lexical index holds the same chunks.
With --server the index lives in a `chroma run` server started for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.pipeline import ingest_sources, list_documents
from ingest.store import open_store
from kvisa.settings import PROJECT_ROOT, Settings
from rag.retrieve import LexicalIndex

POINTS = {"ingest": ("claimed", "units", "stored", "recorded", "deleted"),
          "add": ("claimed", "units", "stored", "recorded", "deleted"), "remove": ("claimed", "forgotten", "deleted")}
N_DOCS = 12


def note(i: int, revision: int) -> str:
    return (f"# Note {i}\n\n## Part A\n\nRule {i} applies from {2020 + revision}. It covers case {i * 7}.\n\n"
            f"## Part B\n\nRevision {revision} of note {i} sets fee {100 + revision} for case {i}.\n")


def check(settings: Settings) -> None:
    """The invariants after a killed command and a completed run."""
    store = open_store(settings)
    chunks = store.chunks.get(include=["metadatas"])
    units = store.units.get(include=["metadatas"])
    manifest = {e.doc_id: e for e in list_documents(settings)}
    ids = chunks["ids"]
    assert len(ids) == len(set(ids)), "a chunk id is stored twice"
    per_doc: dict[str, list[dict]] = {}
    for meta in chunks["metadatas"]:
        per_doc.setdefault(meta["doc_id"], []).append(meta)
    assert set(per_doc) == set(manifest), f"stored {sorted(per_doc)} but the manifest lists {sorted(manifest)}"
    for doc_id, metas in per_doc.items():
        assert {m["content_hash"] for m in metas} == {manifest[doc_id].content_hash}, f"{doc_id} is half old"
        assert sorted(m["chunk_index"] for m in metas) == list(range(manifest[doc_id].chunks)), f"{doc_id} is half"
    assert {m["chunk_id"] for m in units["metadatas"]} == set(ids), "units and chunks disagree"
    lexical = LexicalIndex(store.all_chunks(), store.all_units())
    assert set(lexical.by_id) == set(ids), "the lexical index and Chroma disagree"


def run(args: list[str], env: dict[str, str], failpoint: str) -> bool:
    """Run `kvisa ARGS` with a failpoint; True when it was killed there."""
    result = subprocess.run([sys.executable, "-m", "kvisa.cli", *args], env={**env, "KVISA_FAILPOINT": failpoint},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return result.returncode == -9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--server", action="store_true", help="use a `chroma run` server")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    work = Path(tempfile.mkdtemp(prefix="kvisa-stress-"))
    folder, home = work / "notes", work / "home"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    server = None
    if options.server:
        from tests.conftest import free_port, wait_for_http

        port = free_port()
        server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(work / "chroma"),
                                   "--host", "127.0.0.1", "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, 60, "chroma run")
        env.update({"KVISA_CHROMA_HOST": "127.0.0.1", "KVISA_CHROMA_PORT": str(port)})
    settings = Settings(home=home, **({"chroma_host": "127.0.0.1", "chroma_port": int(env["KVISA_CHROMA_PORT"])}
                                      if options.server else {}))
    revision = {i: 0 for i in range(N_DOCS)}
    for i in range(N_DOCS):
        (folder / f"note-{i:02d}.md").write_text(note(i, 0), encoding="utf-8")
    kills, started, log = 0, time.perf_counter(), []
    try:
        assert ingest_sources([str(folder)], settings, progress=False).ok  # the notes, before any trial
        for trial in range(options.trials):
            operation = rng.choice(["ingest", "ingest", "add", "remove"])
            if operation == "ingest":  # an update of a random third of the notes
                for i in rng.sample(range(N_DOCS), N_DOCS // 3):
                    revision[i] += 1
                    (folder / f"note-{i:02d}.md").write_text(note(i, revision[i]), encoding="utf-8")
                args = ["ingest", str(folder)]
            elif operation == "add":
                extra = work / f"extra-{trial}.md"
                extra.write_text(note(1000 + trial, 0), encoding="utf-8")
                args = ["add", str(extra)]
            else:
                present = [e.doc_id for e in list_documents(settings)]
                if not present:
                    continue
                args = ["docs", "remove", rng.choice(present)]
            # An add or a remove writes one document: only its first pass through a failpoint can kill it.
            point = f"{rng.choice(POINTS[operation])}:{rng.randint(1, 4) if operation == 'ingest' else 1}"
            killed = run(args, env, point)
            kills += killed
            # The next run completes, and everything agrees.
            report = ingest_sources([str(folder)], settings, progress=False)
            assert report.ok, report.errors
            check(settings)
            log.append({"trial": trial, "operation": operation, "failpoint": point, "killed": killed})
            print(f"trial {trial + 1}/{options.trials}: {operation} at {point}: "
                  f"{'killed' if killed else 'completed'}; index consistent", flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    summary = {"mode": "server" if options.server else "embedded", "trials": len(log), "kills": kills,
               "losses": 0, "seconds": round(time.perf_counter() - started, 1), "seed": options.seed,
               "command": " ".join(["eval/stress_kills.py", *sys.argv[1:]])}
    print(json.dumps(summary))
    out = options.out or PROJECT_ROOT / "eval" / "results" / f"stress_kills_{summary['mode']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "trials": log}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
