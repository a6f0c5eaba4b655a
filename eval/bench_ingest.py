"""Ingest benchmark: corpus ingest and re-ingest time, chunk count, and pipeline vs plain embedding throughput.

Run: .venv/bin/python eval/bench_ingest.py [--reps 3] [--corpus corpus/]

Everything is measured in one run on this machine, so compare the ratio, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest.embedding import Embedder, get_embedder, resolve_model
from ingest.pipeline import ingest_sources, list_documents
from ingest.store import open_store
from kvisa.settings import PROJECT_ROOT, Settings  # also keeps every library offline


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_cli_ingest(home: Path, corpus: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of `kvisa ingest CORPUS` in a fresh process (imports and model load included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env["KVISA_HOME"] = str(home)
    started, cpu_started = time.perf_counter(), _children_cpu()
    result = subprocess.run([sys.executable, "-m", "kvisa.cli", "ingest", str(corpus)], env=env,
                            capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu_started
    if result.returncode != 0:
        sys.exit(f"kvisa ingest failed: {result.stderr.strip().splitlines()[-1]}")
    return elapsed, cpu, result.stdout.strip().splitlines()[-1]


def texts_the_pipeline_embeds(settings: Settings, corpus: Path) -> tuple[list[str], float]:
    """Run an in-process ingest into a fresh home, recording every text handed to Embedder.encode."""
    recorded: list[str] = []
    original = Embedder.encode

    def recording_encode(self: Embedder, texts: list[str], progress: bool = False):
        recorded.extend(texts)
        return original(self, texts, progress)

    Embedder.encode = recording_encode  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        report = ingest_sources([str(corpus)], settings, progress=False)
        elapsed = time.perf_counter() - started
    finally:
        Embedder.encode = original  # type: ignore[method-assign]
    if not report.ok:
        sys.exit(f"ingest failed: {report.errors}")
    return recorded, elapsed


def texts_per_second(encode, texts: list[str]) -> tuple[float, float]:
    """Texts per wall second and per CPU second (the latter is steadier on a shared machine)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    encode(texts)
    return len(texts) / (time.perf_counter() - started), len(texts) / (time.process_time() - cpu_started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "corpus")
    parser.add_argument("--reps", type=int, default=3, help="Repetitions of each throughput measurement.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kvisa-bench-") as tmp:
        cli_home = Path(tmp) / "cli-home"
        full_s, full_cpu, full_line = timed_cli_ingest(cli_home, args.corpus)
        again_s, again_cpu, again_line = timed_cli_ingest(cli_home, args.corpus)
        cli_settings = Settings(home=cli_home)
        store = open_store(cli_settings)
        n_docs, n_chunks, n_units = len(list_documents(cli_settings)), store.count(), store.units.count()

        settings = Settings(home=Path(tmp) / "inproc-home")
        get_embedder(settings.embed_model, settings.embed_batch_size)  # load the model outside the timing
        texts, inproc_s = texts_the_pipeline_embeds(settings, args.corpus)

    from sentence_transformers import SentenceTransformer

    pipeline = get_embedder(settings.embed_model, settings.embed_batch_size)
    plain = SentenceTransformer(str(resolve_model(settings.embed_model)), device="cpu")
    pipeline.encode(texts[:64])  # warm both up once
    plain.encode(texts[:64])
    pipeline_runs, plain_runs = [], []
    for _ in range(args.reps):  # interleaved, so a busy moment on the machine hits both
        pipeline_runs.append(texts_per_second(pipeline.encode, texts))
        plain_runs.append(texts_per_second(plain.encode, texts))
    pipeline_rates, plain_rates = [w for w, _ in pipeline_runs], [w for w, _ in plain_runs]
    pipe_med, plain_med = statistics.median(pipeline_rates), statistics.median(plain_rates)
    pipe_cpu = statistics.median(c for _, c in pipeline_runs)
    plain_cpu = statistics.median(c for _, c in plain_runs)

    load = os.getloadavg()[0]
    rows = [
        ("documents", f"{n_docs}"),
        ("chunks", f"{n_chunks}"),
        ("evidence units", f"{n_units}"),
        ("texts embedded (chunks + units)", f"{len(texts)}"),
        ("full ingest, fresh KVISA_HOME (CLI)", f"{full_s:.1f} s wall, {full_cpu:.1f} s CPU   [{full_line}]"),
        ("re-ingest, unchanged corpus (CLI)", f"{again_s:.1f} s wall, {again_cpu:.1f} s CPU   [{again_line}]"),
        ("full ingest in-process, model loaded", f"{inproc_s:.1f} s"),
        (f"pipeline Embedder.encode, median of {args.reps}", f"{pipe_med:.1f} texts/s  {_fmt(pipeline_rates)}"),
        (f"plain SentenceTransformer.encode, median of {args.reps}", f"{plain_med:.1f} texts/s  {_fmt(plain_rates)}"),
        ("throughput ratio pipeline / plain (wall)", f"{pipe_med / plain_med:.2f}"),
        ("per CPU second: pipeline, plain, ratio", f"{pipe_cpu:.1f}, {plain_cpu:.1f} texts/CPU-s, "
                                                    f"ratio {pipe_cpu / plain_cpu:.2f}"),
        ("machine load average (1 min) at the end", f"{load:.2f} on {os.cpu_count()} cores"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def _fmt(rates: list[float]) -> str:
    return "(" + ", ".join(f"{r:.1f}" for r in rates) + ")"


if __name__ == "__main__":
    main()
