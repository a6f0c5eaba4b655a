"""Benchmark the OpenAI-compatible API: time to first token and to the whole answer, streamed and not.

Usage: .venv/bin/python eval/bench_api.py [--home DIR] [--rounds 3] [--out eval/results/api.json]
Starts `kvisa serve` on an ingested index (KVISA_HOME, or --home) and asks every dev question through the
official `openai` client. Figures are medians from one run; the load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.benchmarks import free_port, save  # noqa: E402
from eval.gold import load_gold  # noqa: E402
from eval.metrics import percentile  # noqa: E402


def _start(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen([sys.executable, "-m", "kvisa.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("kvisa serve did not start")


def _stream(client: openai.OpenAI, question: str) -> tuple[float, float]:
    """(seconds to the first content piece, seconds to the end) of one streamed answer."""
    started, first = time.perf_counter(), None
    for chunk in client.chat.completions.create(model="kvisa", stream=True,
                                                messages=[{"role": "user", "content": question}]):
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started


def _whole(client: openai.OpenAI, question: str) -> float:
    started = time.perf_counter()
    client.chat.completions.create(model="kvisa", messages=[{"role": "user", "content": question}])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("KVISA_HOME", ROOT / ".kvisa")))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "api.json")
    args = parser.parse_args()
    questions = [item.question for item in load_gold(ROOT / "eval" / "gold_dev.jsonl")]
    process, base = _start(args.home)
    try:
        client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0)
        _whole(client, questions[0])  # the first request warms nothing up that a user would not wait for
        first, streamed, whole = [], [], []
        for _ in range(args.rounds):
            for question in questions:
                ttft, total = _stream(client, question)
                first.append(ttft)
                streamed.append(total)
                whole.append(_whole(client, question))
    finally:
        process.terminate()
        process.wait(15)

    def ms(values: list[float]) -> dict[str, float]:
        return {"p50": round(percentile(values, 50) * 1000, 1), "p95": round(percentile(values, 95) * 1000, 1)}

    result = {"backend": "extractive", "requests": len(first), "questions": "eval/gold_dev.jsonl",
              "time_to_first_token_ms": ms(first), "streamed_total_ms": ms(streamed),
              "non_streamed_ms": ms(whole), "load_average": os.getloadavg()[0],
              "command": f"python eval/bench_api.py --rounds {args.rounds}"}
    save(result, args.out)


if __name__ == "__main__":
    main()
