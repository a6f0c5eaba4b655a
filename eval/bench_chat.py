"""Benchmark the web chat under concurrent users: latency per user count, errors, and no cross-talk.

Usage: .venv/bin/python eval/bench_chat.py [--home DIR] [--users 1 5 20 50] [--questions 10]
       .venv/bin/python eval/bench_chat.py --users 50 --seconds 60 --ingest   (the load test of `make stress`)
Starts `kvisa chat --no-ingest` on an ingested index (KVISA_HOME, or --home) on 127.0.0.1. Every question is
first asked alone; then N gradio_client users at once each ask `--questions` dev questions (each from its own
offset), or keep asking for `--seconds`; every answer must equal one the question got alone (before, or
after the documents that `--ingest` adds through the chat meanwhile). Figures: eval/results/*.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.benchmarks import free_port, save  # noqa: E402
from eval.gold import load_gold  # noqa: E402
from eval.metrics import percentile  # noqa: E402


def _start(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen([sys.executable, "-m", "kvisa.cli", "chat", "--no-ingest", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("kvisa chat did not start")


def _user(url: str, questions: list[str], until: float = 0.0) -> list[tuple[str, str | None, float]]:
    """One user's session: (question, answer or None on error, seconds) per question; with `until` (a
    monotonic time), the questions again and again until then."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    out = []
    for i in itertools.count():
        if (until and time.monotonic() >= until) or (not until and i == len(questions)):
            break
        question = questions[i % len(questions)]
        started = time.perf_counter()
        try:
            answer, _ = client.predict(question, api_name="/chat")
        except Exception:  # counted as an error; the run goes on
            answer = None
        out.append((question, answer, time.perf_counter() - started))
    return out


# Documents on made-up topics, added through the chat while the users ask: an ingest under load.
_FILLER = ("# The {name} permit\n\nThe {name} permit is a fictional document written for a load test. "
           "It costs {n} tokens.\n")


def _ingest_meanwhile(url: str, folder: Path, until: float) -> int:
    """Add a new small document through the chat's /add_document every second until `until`; returns how
    many were added."""
    from gradio_client import Client, handle_file

    client, added = Client(url, verbose=False), 0
    while time.monotonic() < until:
        path = folder / f"load-test-permit-{added}.md"
        path.write_text(_FILLER.format(name=f"Quarnel-{added}", n=100 + added), encoding="utf-8")
        if client.predict(handle_file(str(path)), api_name="/add_document").startswith("✓"):
            added += 1
        time.sleep(1.0)
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("KVISA_HOME", ROOT / ".kvisa")))
    parser.add_argument("--users", type=int, nargs="+", default=[1, 5, 20, 50])
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=0.0, help="keep every user asking this long")
    parser.add_argument("--ingest", action="store_true", help="add documents through the chat meanwhile")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.out = args.out or ROOT / "eval" / "results" / ("chat_load.json" if args.seconds else "chat_concurrency.json")
    questions = [item.question for item in load_gold(ROOT / "eval" / "gold_dev.jsonl")]
    port = free_port()
    process = _start(args.home, port)
    url = f"http://127.0.0.1:{port}/"
    rows = []
    try:
        alone = {q: {a} for q, a, _ in _user(url, questions)}
        for n in args.users:
            sessions = [[questions[(u * 7 + i) % len(questions)] for i in range(args.questions)] for u in range(n)]
            started, until = time.perf_counter(), (time.monotonic() + args.seconds if args.seconds else 0.0)
            with ThreadPoolExecutor(max_workers=n + 1) as pool, tempfile.TemporaryDirectory() as scratch:
                adding = pool.submit(_ingest_meanwhile, url, Path(scratch), until) if args.ingest and until else None
                results = [r for session in pool.map(_user, [url] * n, sessions, [until] * n) for r in session]
                added = adding.result() if adding else 0
            wall = time.perf_counter() - started
            if added:  # the new documents may move a ranking: an answer may also be the one given after them
                for q, a, _ in _user(url, questions):
                    alone[q].add(a)
            latencies = [s for _, a, s in results if a is not None]
            rows.append({"users": n, "questions": len(results), "errors": sum(a is None for _, a, _ in results),
                         "mismatches": sum(a is not None and a not in alone[q] for q, a, _ in results),
                         "documents_added_meanwhile": added, "seconds": round(wall, 1),
                         "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
                         "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
                         "throughput_qps": round(len(results) / wall, 2)})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        process.terminate()
        process.wait(30)
    result = {"rows": rows, "load_average": os.getloadavg()[0], "cores": os.cpu_count(),
              "command": f"python eval/bench_chat.py --users {' '.join(map(str, args.users))} "
                         + (f"--seconds {args.seconds:g}" + (" --ingest" if args.ingest else "") if args.seconds
                            else f"--questions {args.questions}")}
    save(result, args.out)


if __name__ == "__main__":
    main()
