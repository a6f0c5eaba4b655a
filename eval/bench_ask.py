"""Benchmark: warm in-process `extractive` answer latency over the questions of a gold file.

Usage: python eval/bench_ask.py [--gold eval/gold_dev.jsonl] [--rounds 3]
Uses the index under KVISA_HOME (run `kvisa ingest` first). Prints p50/p95 and where the time goes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from eval.metrics import percentile  # the harness's own, so both report the same p50/p95
from kvisa.settings import get_settings
from rag.assistant import get_assistant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path("eval/gold_dev.jsonl"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.gold.read_text(encoding="utf-8").splitlines()]
    assistant = get_assistant(get_settings())
    assistant.ask(questions[0])  # warm: model, BM25 index, Chroma caches
    totals: list[float] = []
    steps: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for question in questions:
            started = time.perf_counter()
            answer = assistant.ask(question, backend="extractive")
            totals.append((time.perf_counter() - started) * 1000)
            for step, ms in answer.timings.items():
                steps.setdefault(step, []).append(ms)
    print(f"{len(questions)} questions x {args.rounds} rounds, extractive backend, warm, in process")
    print(f"latency ms: p50 {percentile(totals, 50):.1f}  p95 {percentile(totals, 95):.1f}  "
          f"mean {statistics.mean(totals):.1f}  max {max(totals):.1f}")
    for step, values in steps.items():
        print(f"  {step:<9} p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms")


if __name__ == "__main__":
    main()
