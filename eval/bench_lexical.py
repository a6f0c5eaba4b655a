"""The lexical index at scale: full build, start from the saved index, add or remove one document (no Chroma, no model).

Usage: .venv/bin/python eval/bench_lexical.py [--chunks 10000]

Chunks of four unique sentences (corpus sentences with a case number, so tokenize's cache never helps),
each sentence also a unit, built in memory; prints one line of seconds. "rebuild" is what an add cost before
the index was updated in place (every item re-indexed from known tokens); "add" and "remove" are the updates.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.store import StoredChunk, StoredUnit
from kvisa.settings import PROJECT_ROOT
from rag.jieba_cache import load_jieba
from rag.lexical_store import load_latest, save
from rag.retrieve import LexicalIndex


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
    options = parser.parse_args()
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
    save(base, 1, *full.row_ids(), full.vocabulary, full.chunk_bm25, full.unit_bm25)
    saved = time.perf_counter() - started
    started = time.perf_counter()
    assert LexicalIndex(chunks, units, saved=load_latest(base)).loaded
    loaded = time.perf_counter() - started
    c, u = document(options.chunks, 10, pool, rng)
    started = time.perf_counter()
    LexicalIndex(chunks + c, units + u, full.vocabulary)
    rebuilt = time.perf_counter() - started
    started = time.perf_counter()
    added = full.updated(c, u, set())
    add_s = time.perf_counter() - started
    started = time.perf_counter()
    added.updated([], [], {(f"doc{options.chunks}", f"h{options.chunks}")})
    remove_s = time.perf_counter() - started
    print(f"{len(chunks)} chunks, {len(units)} units: full build {built:.1f} s; save {saved:.2f} s; start from the "
          f"saved index {loaded:.2f} s; a 10-chunk document: rebuild {rebuilt:.2f} s, add {add_s:.3f} s, "
          f"remove {remove_s:.3f} s")

if __name__ == "__main__":
    main()
