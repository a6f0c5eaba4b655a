"""The lexical index at scale: full build, start from the saved index, add or remove one document (no Chroma, no model).

Usage: .venv/bin/python eval/bench_lexical.py [--chunks 10000] [--split-tokens]

Chunks of four unique sentences (corpus sentences with a case number, so tokenize's cache never helps),
each sentence also a unit, built in memory; prints one line of seconds. "rebuild" is what an add cost before
the index was updated in place (every item re-indexed from known tokens); "add" and "remove" are the updates
(medians of 5), "search" one BM25 search of chunks and of units. --split-tokens tokenises by whitespace (stop
words kept, so posting lists are longer than kvisa's): a 100k-chunk build then takes seconds, not an hour,
and the update costs, which never tokenise old items, are what they would be.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rag.lexical_store
from ingest.store import StoredChunk, StoredUnit
from kvisa.settings import PROJECT_ROOT
from rag.jieba_cache import load_jieba
from rag.lexical_store import load_latest, save
from rag.retrieve import Filters, LexicalIndex


def sentences() -> list[str]:
    texts = (p.read_text(encoding="utf-8").replace("\n", " ") for p in (PROJECT_ROOT / "corpus").glob("*.md"))
    return [s.strip() for t in texts for s in t.split(". ") if len(s) > 30]


def document(d: int, n: int, pool: list[str], rng: random.Random) -> tuple[list[StoredChunk], list[StoredUnit]]:
    chunks, units = [], []
    for i in range(n):
        cid = f"doc{d}:h{d}:{i:04d}"
        texts = [f"{rng.choice(pool)} case {d}-{i}-{k}" for k in range(4)]
        meta = {"doc_id": f"doc{d}", "content_hash": f"h{d}", "title": f"Note {d}", "section": "S", "start": i}
        chunks.append(StoredChunk(cid, " ".join(texts), meta))
        units += [StoredUnit(f"{cid}:{j:03d}", t, {**meta, "chunk_id": cid, "start": i * 10 + j, "header": ""})
                  for j, t in enumerate(texts)]
    return chunks, units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--split-tokens", action="store_true", help="Tokenise by whitespace (fast, for 100k).")
    options = parser.parse_args()
    if options.split_tokens:
        rag.lexical_store.tokenize = lambda text: tuple(text.lower().split())  # type: ignore[assignment]
    load_jieba(Path(tempfile.mkdtemp()))
    pool, rng = sentences(), random.Random(0)
    chunks, units = [], []
    for d in range(options.chunks // 10):
        c, u = document(d, 10, pool, rng)
        chunks += c
        units += u
    started = time.perf_counter()
    full = LexicalIndex(chunks, units)
    built = time.perf_counter() - started
    base = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    save(base, 1, "bench", *full.rows(), full.vocabulary, full.chunk_bm25, full.unit_bm25)
    saved = time.perf_counter() - started
    started = time.perf_counter()
    saved_index = load_latest(base)
    assert saved_index is not None and saved_index.items is not None
    assert LexicalIndex(*saved_index.items, saved=saved_index).loaded
    loaded = time.perf_counter() - started
    c, u = document(options.chunks, 10, pool, rng)
    started = time.perf_counter()
    LexicalIndex(chunks + c, units + u, full.vocabulary)
    rebuilt = time.perf_counter() - started
    index, adds, removes = full, [], []
    for k in range(5):
        c, u = document(options.chunks + 1 + k, 10, pool, rng)
        started = time.perf_counter()
        index = index.updated(c, u, set())
        adds.append(time.perf_counter() - started)
    for k in range(5):
        started = time.perf_counter()
        index = index.updated([], [], {(f"doc{k}", f"h{k}")})
        removes.append(time.perf_counter() - started)
    started = time.perf_counter()
    terms = tuple(rag.lexical_store.tokenize("employer visa fee wage level"))
    index.search(terms, 30, Filters())
    index.search_units(terms, 20, Filters())
    searched = time.perf_counter() - started
    print(f"{len(chunks)} chunks, {len(units)} units: full build {built:.1f} s; save {saved:.2f} s; start from the "
          f"saved index {loaded:.2f} s; a 10-chunk document: rebuild {rebuilt:.2f} s, add {statistics.median(adds):.3f}"
          f" s, remove {statistics.median(removes):.3f} s; search {searched * 1000:.0f} ms")

if __name__ == "__main__":
    main()
