"""Time adding one scale-corpus notice to an existing index, in a new process, outside and inside embedding.

Usage: .venv/bin/python eval/bench_add.py --home DIR [--start N] [--warm]

The notice is eval/scale_corpus.py's notice number N (pick one the index lacks). The model is loaded first,
as in a chat after its first add; --warm also runs one query on each collection first, so that Chroma has
loaded its vector indexes, as eval/bench_scale.py's question process has when it adds its notice. Prints one
JSON line: the add's seconds, of them embedding, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval import scale_corpus
from eval.bench_scale import Recorder
from ingest.embedding import get_embedder
from ingest.pipeline import ingest_sources
from ingest.store import open_store
from kvisa.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="The KVISA_HOME of the index.")
    parser.add_argument("--start", type=int, default=1_000_000, help="Which scale-corpus notice to add.")
    parser.add_argument("--warm", action="store_true", help="Query both collections before the add.")
    options = parser.parse_args()
    settings = Settings(home=options.home)
    embedder = get_embedder(settings.embed_model, settings.embed_batch_size)
    if options.warm:
        store, vector = open_store(settings), embedder.encode(["What is the application fee?"])[0]
        store.query_chunks(vector, 5), store.query_units(vector, 5)
    with tempfile.TemporaryDirectory() as tmp, Recorder() as recorder:
        path = scale_corpus.write(scale_corpus.generate(1, 0, start=options.start), Path(tmp))[0]
        began = time.perf_counter()
        report = ingest_sources([str(path)], settings, progress=False)
        add_s = time.perf_counter() - began
    embed_s = recorder.seconds
    print(json.dumps({"add_ok": report.ok, "added": report.added, "warm": options.warm, "add_s": round(add_s, 2),
                      "add_embed_s": round(embed_s, 2), "add_without_embed_s": round(add_s - embed_s, 2),
                      "load_average": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
