"""Benchmark: cold `kvisa ask` (a new process per question) and `kvisa chat` time to a served page.

Usage: python eval/bench_cold_start.py [--label after] [--runs 5] [--home DIR] [--out eval/results/cold_start.json]

Measures the code that `import kvisa` finds: run it with PYTHONPATH=/work/main (and --label before) to measure
another checkout. Each label gets a fresh KVISA_HOME ingested by that code unless --home is given. Results merge
into --out by label, with the machine's load average sampled while the label ran.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

import kvisa
from eval.benchmarks import free_port, stop

CODE = Path(kvisa.__file__).resolve().parent.parent  # the checkout under test (PYTHONPATH decides)
QUESTION = "What is the K visa?"


class LoadSampler:
    """Samples the 1-minute load average every second while the benchmark runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(1.0)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        return {"min": min(self.samples), "median": statistics.median(self.samples), "max": max(self.samples)}


def kvisa_env(home: Path) -> dict[str, str]:
    """The caller's environment minus KVISA_* settings, on `home`, importing the code under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "PYTHONPATH": str(CODE), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    return env


def kvisa_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kvisa.cli", *args]


def timed_ask(home: Path) -> float:
    """Wall seconds of one `kvisa ask` in a new process (cwd is the checkout: `-m` puts it first on sys.path)."""
    started = time.perf_counter()
    result = subprocess.run(kvisa_command("ask", QUESTION), env=kvisa_env(home), cwd=CODE, capture_output=True,
                            text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or "[1]" not in result.stdout:
        raise SystemExit(f"kvisa ask failed: {result.stderr.strip()[-500:]}")
    return elapsed


def timed_chat(home: Path) -> dict[str, float]:
    """Seconds from starting `kvisa chat` to the page answering 200, and to the first answer through the API."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen(kvisa_command("chat", "--port", str(port)), env=kvisa_env(home), cwd=CODE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit("kvisa chat exited before serving the page")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        ready = time.perf_counter() - started
        text, _ = Client(url, verbose=False).predict(QUESTION, api_name="/chat")
        answered = time.perf_counter() - started
        if "[1]" not in text:
            raise SystemExit(f"the chat's first answer has no citation: {text[:200]}")
        return {"ready_s": round(ready, 2), "first_answer_s": round(answered, 2)}
    finally:
        stop(process)


def ingest(home: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(kvisa_command("ingest"), env=kvisa_env(home), cwd=CODE, capture_output=True,
                            text=True, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"kvisa ingest failed: {result.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def measure(home: Path, runs: int, chat_runs: int) -> dict:
    timed_ask(home)  # untimed: the first process after ingest warms the page cache and writes .pyc files
    asks = [round(timed_ask(home), 2) for _ in range(runs)]
    chats = [timed_chat(home) for _ in range(chat_runs)]
    return {
        "ask_runs_s": asks, "ask_median_s": round(statistics.median(asks), 2),
        "chat_runs": chats,
        "chat_ready_median_s": round(statistics.median(c["ready_s"] for c in chats), 2),
        "chat_first_answer_median_s": round(statistics.median(c["first_answer_s"] for c in chats), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after", help="Name of this measurement in the JSON (before, after).")
    parser.add_argument("--runs", type=int, default=5, help="Cold `kvisa ask` runs.")
    parser.add_argument("--chat-runs", type=int, default=3, help="`kvisa chat` starts.")
    parser.add_argument("--home", type=Path, help="An ingested KVISA_HOME (default: a fresh one, ingested here).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cold_start.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kvisa-cold-") as tmp, LoadSampler() as load:
        home = args.home or Path(tmp) / "home"
        ingest_s = None if args.home else round(ingest(home), 1)
        result = {"code": str(CODE), "question": QUESTION, "ingest_s": ingest_s, **measure(home, args.runs,
                                                                                             args.chat_runs)}
    result["load_average_1min"] = load.summary()
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    results.setdefault("machine", {"cpus": os.cpu_count(), "python": platform.python_version()})
    results[args.label] = result
    if "before" in results and "after" in results:
        results["ratio_after_over_before"] = {
            key: round(results["after"][key] / results["before"][key], 3)
            for key in ("ask_median_s", "chat_ready_median_s", "chat_first_answer_median_s")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({args.label: result}, indent=1))


if __name__ == "__main__":
    main()
