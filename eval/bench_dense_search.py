"""Dense search breadth: recall and time of Chroma's HNSW at its default ef_search (100) and at kvisa's (SEARCH_EF).

Usage: .venv/bin/python eval/bench_dense_search.py [--sizes 20000 100000] [--out eval/results/dense_search.json]

For each size, that many clustered random unit vectors (384 dimensions, 200 clusters: real embeddings
cluster by topic) are stored twice in an embedded Chroma, once per search breadth, and 100 queries near
stored vectors ask for their 40 nearest, as kvisa asks for twice the 20 it keeps. Recall@20 is the share of
the exact 20 nearest (by numpy) among the first 20 returned; ms is the mean wall time of one query. Both
breadths run in one process, one after the other, so their times compare on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.store import SEARCH_EF
from kvisa.settings import PROJECT_ROOT

DEFAULT_EF = 100  # Chroma's own
QUERIES = 100


def vectors(n: int, rng: np.random.Generator, spread: float) -> np.ndarray:
    centers = rng.standard_normal((200, 384)).astype(np.float32)
    points = centers[rng.integers(0, len(centers), n)] + spread * rng.standard_normal((n, 384)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def measure(size: int, folder: str) -> dict[str, dict[str, float]]:
    import chromadb

    rng = np.random.default_rng(size)
    stored = vectors(size, rng, 0.6)
    queries = stored[rng.integers(0, size, QUERIES)] + 0.3 * rng.standard_normal((QUERIES, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    client = chromadb.PersistentClient(path=folder)
    result = {}
    for ef in (DEFAULT_EF, SEARCH_EF):
        collection = client.create_collection(f"bench-{ef}", embedding_function=None,
                                              configuration={"hnsw": {"space": "cosine", "ef_search": ef}})
        for start in range(0, size, 5000):
            collection.add(ids=[str(i) for i in range(start, min(size, start + 5000))],
                           embeddings=stored[start : start + 5000])
        collection.query(query_embeddings=[queries[0].tolist()], n_results=40)  # load the index first
        recall, started = [], time.perf_counter()
        for query in queries:
            got = collection.query(query_embeddings=[query.tolist()], n_results=40, include=["distances"])
            exact = set(np.argsort(-(stored @ query))[:20].tolist())
            recall.append(len(exact & {int(i) for i in got["ids"][0][:20]}) / 20)
        result[f"ef_search_{ef}"] = {"recall_at_20": round(float(np.mean(recall)), 4),
                                     "query_ms": round((time.perf_counter() - started) / QUERIES * 1000, 2)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "dense_search.json")
    args = parser.parse_args()
    runs = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            runs[str(size)] = measure(size, folder)
        print(size, json.dumps(runs[str(size)]), flush=True)
    args.out.write_text(json.dumps({"what": __doc__.splitlines()[0], "queries": QUERIES, "runs": runs}, indent=1)
                        + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
