"""Scale benchmark: ingest rate, warm and cold question time, RSS, disk and adding a document, by index size.

Usage: .venv/bin/python eval/bench_scale.py [--sizes 1000 10000 100000] [--modes embedded server]
       [--questions 40] [--cold-runs 3] [--out eval/results] [--work DIR [--replay-all]] [--synthetic-vectors]

For each size (chunks) it writes a synthetic corpus (eval/scale_corpus.py: policy notices with known answers),
ingests it through the real pipeline, embedded or into a `chroma run` server, then in a separate process (as
a chat would run) asks sampled questions through the Assistant, records recall@k and latency, its peak RSS,
and adds one more notice. Results merge into scale.json by (size, mode, synthetic or not); scale.md and
scale.png are redrawn from all of them. Machines are noisy: compare ratios and medians from one run.

--synthetic-vectors stores a stand-in vector per text instead of embedding it (a 100k pass embeds ~490k texts:
about ten hours here): everything but the encoder at that size. Dense retrieval then sees random document
vectors, so recall means nothing; the query encoder and the add of one more notice still embed for real.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval import scale_corpus, scale_report
from eval.benchmarks import free_port
from eval.metrics import percentile
from ingest.embedding import Embedder
from kvisa.settings import PROJECT_ROOT, Settings

CHUNKS_PER_NOTICE = 6  # one chunk per article, as ingest/chunking.py cuts these notices
BATCH_DOCS = 200  # notices per ingest call: bounds the ingest process's memory at any size
PLAIN_SUBSET = 2000  # texts timed with plain SentenceTransformer.encode in the same run


class Recorder:
    """Wraps Embedder.encode: counts texts and encode seconds, keeps the first texts, and can save every
    call's vectors or replay them (the second store mode at large sizes, where a pass costs hours), or
    return synthetic stand-ins instead of calling the model."""

    def __init__(self, vectors: Path | None = None, replay: bool = False, synthetic: bool = False) -> None:
        self.texts: list[str] = []
        self.count, self.seconds, self.calls = 0, 0.0, 0
        self.vectors, self.replay, self.synthetic = vectors, replay, synthetic
        self._original = Embedder.encode

    def __enter__(self) -> Recorder:
        recorder, original = self, self._original

        def encode(embedder: Embedder, texts: list[str], progress: bool = False) -> np.ndarray:
            started = time.perf_counter()
            if recorder.synthetic:
                vectors = synthetic_vectors(texts, embedder.model.get_sentence_embedding_dimension())
            elif recorder.replay:
                vectors = recorder._replayed(texts)
            else:
                vectors = original(embedder, texts, False)
            recorder.seconds += time.perf_counter() - started
            recorder._keep(texts, vectors)
            return vectors

        Embedder.encode = encode  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        Embedder.encode = self._original  # type: ignore[method-assign]

    def _path(self) -> Path:
        assert self.vectors is not None
        return self.vectors / f"call-{self.calls:05d}.npz"

    def _replayed(self, texts: list[str]) -> np.ndarray:
        saved = np.load(self._path())
        if str(saved["digest"]) != _digest(texts):
            raise SystemExit("replayed vectors do not match the texts: the corpus or the chunker changed")
        return saved["vectors"]

    def _keep(self, texts: list[str], vectors: np.ndarray) -> None:
        if self.vectors is not None and not (self.replay or self.synthetic):
            self.vectors.mkdir(parents=True, exist_ok=True)
            np.savez(self._path(), vectors=vectors, digest=np.array(_digest(texts)))
        self.calls += 1
        self.count += len(texts)
        self.texts += texts[: max(0, PLAIN_SUBSET - len(self.texts))]


def _digest(texts: list[str]) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()


def synthetic_vectors(texts: list[str], dimension: int) -> np.ndarray:
    """A unit-length float32 vector per text, seeded by the first 8 bytes of its sha256: the same text always
    gets the same vector, unrelated texts unrelated (random) ones."""
    out = np.empty((len(texts), dimension), dtype=np.float32)
    for i, text in enumerate(texts):
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(dimension)
        out[i] = vector / np.linalg.norm(vector)
    return out


def plain_rate(texts: list[str], settings: Settings) -> tuple[float, float]:
    """Texts per wall second and per CPU second of plain SentenceTransformer.encode on `texts` (warmed up)."""
    from ingest.embedding import get_embedder

    # The very SentenceTransformer the pipeline loaded, called directly: the same weights, no second load.
    model = get_embedder(settings.embed_model, settings.embed_batch_size).model
    model.encode(texts[:64], batch_size=settings.embed_batch_size)
    started, cpu = time.perf_counter(), time.process_time()
    model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - started), len(texts) / (time.process_time() - cpu)


def start_chroma(path: Path) -> tuple[subprocess.Popen, int]:
    from tests.conftest import wait_for_http

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, 60, "chroma run")
    return server, port


def kvisa_env(home: Path, port: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    if port is not None:
        env.update({"KVISA_CHROMA_HOST": "127.0.0.1", "KVISA_CHROMA_PORT": str(port)})
    return env


def ingest(paths: list[Path], settings: Settings, recorder: Recorder) -> dict[str, Any]:
    """Ingest in batches through the pipeline, then save the lexical index (as `kvisa ingest` does)."""
    from ingest.pipeline import ingest_sources
    from rag.retrieve import refresh_lexical_index

    started, cpu = time.perf_counter(), time.process_time()
    with recorder:
        for a in range(0, len(paths), BATCH_DOCS):
            report = ingest_sources([str(p) for p in paths[a : a + BATCH_DOCS]], settings, progress=False)
            if not report.ok:
                raise SystemExit(f"ingest failed: {report.errors[:3]}")
            print(f"ingest: {min(a + BATCH_DOCS, len(paths))}/{len(paths)} notices, {recorder.count} texts, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    written = time.perf_counter() - started
    refresh_lexical_index(settings)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"ingest_s": round(total, 1), "lexical_refresh_s": round(total - written, 2), "texts": recorder.count,
            "encode_s": round(recorder.seconds, 1), "ingest_texts_per_s": round(recorder.count / total, 1),
            "ingest_texts_per_cpu_s": round(recorder.count / cpu, 2)}


def cold_asks(question: str, env: dict[str, str], runs: int) -> list[float]:
    """Wall seconds of `kvisa ask` in new processes; one untimed run first warms the page cache."""
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "kvisa.cli", "ask", question], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"kvisa ask failed: {done.stderr.strip()[-500:]}")
        if i:
            times.append(round(time.perf_counter() - started, 2))
    return times


def disk_mb(*paths: Path) -> float:
    return round(sum(f.stat().st_size for p in paths for f in p.rglob("*") if f.is_file()) / 2**20, 1)


def run_one(size: int, mode: str, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    """Ingest `size` chunks' worth of notices in `mode`, then measure questions, cold asks, disk and an add."""
    n_docs = math.ceil(size / CHUNKS_PER_NOTICE)
    docs = work / f"docs-{size}"
    paths = sorted(docs.glob("*.md")) or scale_corpus.write(scale_corpus.generate(n_docs, options.seed), docs)
    home, server, port = work / f"{mode}-{size}", None, None
    if mode == "server":
        server, port = start_chroma(work / f"chroma-{size}")
    try:
        settings = Settings(home=home, **({"chroma_host": "127.0.0.1", "chroma_port": port} if port else {}))
        synthetic = options.synthetic_vectors
        replay = (not synthetic and (mode == "server" or options.replay_all) and size >= options.reuse_from
                  and (work / f"vectors-{size}").is_dir())
        keep = work / f"vectors-{size}" if size >= options.reuse_from and not synthetic else None
        recorder = Recorder(keep, replay, synthetic)
        result: dict[str, Any] = {"size": size, "mode": mode, "notices": n_docs, **ingest(paths, settings, recorder)}
        result["vectors"] = "synthetic" if synthetic else "replayed" if replay else "encoded"
        result["vectors_reused"] = replay
        if synthetic:  # the encoder never ran: nothing to compare with plain encode
            result.update({"plain_texts_per_s": None, "plain_texts_per_cpu_s": None, "plain_subset_texts": 0,
                           "ingest_ratio": None, "ingest_cpu_ratio": None})
        else:
            wall, cpu = plain_rate(recorder.texts, settings)
            result.update({"plain_texts_per_s": round(wall, 1), "plain_texts_per_cpu_s": round(cpu, 2),
                           "plain_subset_texts": len(recorder.texts)})
            # On a shared machine the CPU-second ratio is the steadier one: other work slows both wall rates
            # unequally.
            result["ingest_ratio"] = None if replay else round(result["ingest_texts_per_s"] / wall, 3)
            result["ingest_cpu_ratio"] = None if replay else round(result["ingest_texts_per_cpu_s"] / cpu, 3)
        env = kvisa_env(home, port)
        child = subprocess.run([sys.executable, __file__, "--child", json.dumps(
            {"n_docs": n_docs, "questions": options.questions, "seed": options.seed, "work": str(work)})],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=7200)
        if child.returncode != 0:
            raise SystemExit(f"question process failed: {child.stderr.strip()[-800:]}")
        result.update(json.loads(child.stdout.strip().splitlines()[-1]))
        first = scale_corpus.questions(scale_corpus.generate(n_docs, options.seed), 1, options.seed)[0][2]
        result["cold_ask_runs_s"] = cold_asks(first.question, env, options.cold_runs) if options.cold_runs else []
        result["cold_ask_median_s"] = statistics.median(result["cold_ask_runs_s"] or [math.nan])
        store = [work / f"chroma-{size}"] if port else [home / "chroma"]
        result["index_disk_mb"] = disk_mb(*store, *(home / "cache").glob("lexical-*"))  # Chroma + lexical index
        result["home_disk_mb"] = disk_mb(home)  # KVISA_HOME: also the ONNX query encoder (models/, ~90 MB)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    return result


def peak_rss_mb() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux carries it over exec from the forking parent,
    so a child of a process that loaded torch would report the parent's size."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    if "VmHWM:" not in status:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: no exec carry-over there
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def child(config: dict[str, Any]) -> None:
    """The question process: a fresh Assistant on the index, sampled questions, peak RSS, then one add."""
    from ingest.embedding import get_embedder
    from ingest.pipeline import ingest_sources
    from rag.assistant import get_assistant

    settings = Settings()
    started = time.perf_counter()
    assistant = get_assistant(settings)
    assistant.warm_up()
    ready_s = time.perf_counter() - started
    notices = scale_corpus.generate(config["n_docs"] + 1, config["seed"])
    asked = scale_corpus.questions(notices[:-1], config["questions"], config["seed"])
    latencies, found, correct = [], 0, 0
    for doc_id, _, fact in asked:
        value = fact.answer.split()[0]
        began = time.perf_counter()
        answer = assistant.ask(fact.question)
        latencies.append((time.perf_counter() - began) * 1000)
        found += any(p.doc_id == doc_id and value in p.text for p in answer.retrieved[: settings.top_k])
        correct += value in answer.text
    rss_mb = peak_rss_mb()
    chunks, units = assistant.retriever.store.count(), assistant.retriever.store.units.count()
    get_embedder(settings.embed_model, settings.embed_batch_size)  # a chat has it loaded after its first add
    path = scale_corpus.write(notices[-1:], Path(config["work"]) / f"added-{os.getpid()}")[0]
    with Recorder() as recorder:
        began = time.perf_counter()
        report = ingest_sources([str(path)], settings, progress=False)
        add_s = time.perf_counter() - began
    fact = notices[-1].facts[0]
    began = time.perf_counter()
    answer = assistant.ask(fact.question)  # the next question: the lexical index takes in the new notice here
    next_ms = (time.perf_counter() - began) * 1000
    print(json.dumps({
        "chunks": chunks, "units": units,
        "start_s": round(ready_s, 2), "questions": len(asked), "recall_at_k": round(found / len(asked), 3),
        "top_k": settings.top_k, "answer_has_value": round(correct / len(asked), 3),
        "warm_p50_ms": round(percentile(latencies, 50) or 0, 1),
        "warm_p95_ms": round(percentile(latencies, 95) or 0, 1),
        "question_rss_mb": round(rss_mb, 1), "add_ok": report.ok, "add_s": round(add_s, 2),
        "add_embed_s": round(recorder.seconds, 2), "add_without_embed_s": round(add_s - recorder.seconds, 2),
        "add_next_question_ms": round(next_ms, 1),
        "add_found": any(p.doc_id == notices[-1].doc_id for p in answer.retrieved[: settings.top_k]),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="Chunks per index.")
    parser.add_argument("--modes", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    parser.add_argument("--questions", type=int, default=40, help="Sampled questions per run (warm latency, recall).")
    parser.add_argument("--cold-runs", type=int, default=3, help="Timed cold `kvisa ask` runs (median); 0: none.")
    parser.add_argument("--reuse-from", type=int, default=100000,
                        help="From this size on, the second mode replays the first mode's vectors.")
    parser.add_argument("--replay-all", action="store_true",
                        help="Every mode replays the vectors an earlier run saved in --work (from --reuse-from on): "
                             "questions, cold asks and adds measured again without hours of embedding.")
    parser.add_argument("--synthetic-vectors", action="store_true",
                        help="Store a deterministic random unit vector per text instead of embedding it: storage, "
                             "indexes, RSS, disk, warm latency and the add without hours of embedding; no ingest "
                             "ratio, and recall means nothing (the query encoder and the add still embed).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, help="Working folder (default: a temporary one, removed after).")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(json.loads(options.child))
        return
    with tempfile.TemporaryDirectory(prefix="kvisa-scale-") as tmp:
        work = options.work or Path(tmp)
        for size in options.sizes:
            for mode in options.modes:
                load_before = os.getloadavg()[0]
                result = run_one(size, mode, work, options)
                result["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
                merged = scale_report.merge(options.out / "scale.json", result, {
                    "cpus": os.cpu_count(), "python": platform.python_version()})
                scale_report.write(merged, options.out)
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
