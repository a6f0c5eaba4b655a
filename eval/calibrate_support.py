"""Calibrate rag.verify's support threshold on the dev gold set: gold answers vs their own and other sources.

Supported pairs: each sentence of a gold reference answer with the best-scoring passage (chunk) of its gold
source documents. Unsupported pairs: the same sentence with the best-scoring passage of every other
document. The threshold that best separates the two (balanced accuracy) is printed, for a few lexical
weights, with the current rag.verify settings marked.

    .venv/bin/python eval/calibrate_support.py [--gold eval/gold_dev.jsonl] [--home DIR]

Result on eval/gold_dev.jsonl (43 answer sentences, 134 passages in 8 documents; 43 supported and 292
unsupported pairs), 2026-11-29:

    lexical weight 0.3: best threshold 0.528, balanced accuracy 0.934
    lexical weight 0.5: best threshold 0.543, balanced accuracy 0.946 (supported kept 0.930,
                        unsupported dropped 0.962; supported median 0.822, unsupported median 0.145)
    lexical weight 0.7: best threshold 0.559, balanced accuracy 0.948

The weights differ by less than one pair, so rag.verify uses 0.5 and SUPPORT_THRESHOLD = 0.54. Every
threshold from 0.50 to 0.60 keeps >= 0.907 of the supported and drops >= 0.949 of the unsupported pairs.
Most "unsupported" pairs above the threshold are really supported: the White House fact sheet repeats
the proclamation's figures. The supported pairs below it are "Yes." and two Chinese sentences that
combine two documents (the embedding model is English-only, so Chinese relies on lexical support).

When the index at --home (default: a temporary folder) is empty, the corpus is ingested into it first.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from ingest.embedding import get_embedder
from ingest.pipeline import ingest_sources
from ingest.store import ChunkStore, StoredChunk
from kvisa.settings import PROJECT_ROOT, Settings
from rag import verify
from rag.verify import combine, lexical_support, passage_sentences, strip_markers

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


def load_chunks(home: Path | None) -> tuple[Settings, list[StoredChunk]]:
    """The stored passages of an index, ingesting the corpus first when the index is empty."""
    settings = Settings(home=home or Path(tempfile.mkdtemp(prefix="kvisa-calibrate-")))
    if ChunkStore(settings).count() == 0:
        report = ingest_sources([str(PROJECT_ROOT / "corpus")], settings, progress=False)
        assert report.ok, report.errors
    return settings, ChunkStore(settings).all_chunks()


def gold_sentences(gold: Path) -> list[tuple[str, set[str]]]:
    """(answer sentence, gold source doc_ids) for every answerable item."""
    out = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else None
        if item and item["answerable"] and item["answer"]:
            out.extend((s, set(item["sources"])) for s in verify.answer_sentences(item["answer"]))
    return out


def pair_parts(sentences: list[str], chunks: list[StoredChunk], embedder) -> tuple[np.ndarray, ...]:
    """Similarity, lexical and number shares for every (sentence, chunk) pair, from one encode call."""
    units = [passage_sentences(c.text) or [c.text] for c in chunks]
    flat = [u for us in units for u in us]
    vectors = embedder.encode([strip_markers(s) for s in sentences] + flat)
    sent_vecs, unit_vecs = vectors[: len(sentences)], vectors[len(sentences) :]
    owner = np.repeat(np.arange(len(chunks)), [len(us) for us in units])
    sims = sent_vecs @ unit_vecs.T
    similarity = np.full((len(sentences), len(chunks)), -1.0)
    for j in range(len(chunks)):
        similarity[:, j] = sims[:, owner == j].max(axis=1)
    lexical = np.zeros_like(similarity)
    numbers = np.ones_like(similarity)
    for i, sentence in enumerate(sentences):
        for j, chunk in enumerate(chunks):
            context = f"{chunk.metadata.get('title', '')}\n{chunk.metadata.get('section', '')}\n{chunk.text}"
            lexical[i, j], numbers[i, j] = lexical_support(strip_markers(sentence), context)
    return similarity, lexical, numbers


def best_threshold(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """(threshold, balanced accuracy) maximising the mean of the two recall rates."""
    best = (0.5, 0.0)
    for t in np.unique(np.concatenate([pos, neg])):
        accuracy = ((pos >= t).mean() + (neg < t).mean()) / 2
        if accuracy > best[1]:
            best = (float(t), float(accuracy))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=PROJECT_ROOT / "eval" / "gold_dev.jsonl")
    parser.add_argument("--home", type=Path, default=None, help="KVISA_HOME with the corpus already ingested")
    parser.add_argument("--show", action="store_true", help="print the misclassified pairs")
    args = parser.parse_args()
    current_weight = verify.LEXICAL_WEIGHT
    settings, chunks = load_chunks(args.home)
    embedder = get_embedder(settings.embed_model, settings.embed_batch_size)
    items = gold_sentences(args.gold)
    similarity, lexical, numbers = pair_parts([s for s, _ in items], chunks, embedder)
    doc_of = np.array([c.metadata["doc_id"] for c in chunks])
    print(f"{len(items)} gold answer sentences, {len(chunks)} passages in {len(set(doc_of))} documents")
    print(f"current: LEXICAL_WEIGHT={verify.LEXICAL_WEIGHT} SUPPORT_THRESHOLD={verify.SUPPORT_THRESHOLD}")
    for weight in WEIGHTS:
        verify.LEXICAL_WEIGHT = weight
        scores = np.vectorize(combine)(lexical, numbers, similarity)
        pos = []
        per_doc: dict[str, list[float]] = defaultdict(list)
        for i, (_, sources) in enumerate(items):
            own = np.isin(doc_of, list(sources))
            pos.append(scores[i, own].max())
            for doc in set(doc_of) - sources:
                per_doc[doc].append(scores[i, doc_of == doc].max())
        pos_arr, neg_arr = np.array(pos), np.array([v for vs in per_doc.values() for v in vs])
        threshold, accuracy = best_threshold(pos_arr, neg_arr)
        print(f"weight {weight:.1f}: supported median {np.median(pos_arr):.3f} (min {pos_arr.min():.3f}), "
              f"unsupported median {np.median(neg_arr):.3f} (max {neg_arr.max():.3f}); best threshold "
              f"{threshold:.3f}: balanced accuracy {accuracy:.3f}, supported kept {(pos_arr >= threshold).mean():.3f}, "
              f"unsupported dropped {(neg_arr < threshold).mean():.3f} (n={len(pos_arr)}/{len(neg_arr)})")
        if weight == current_weight:
            report_current(pos_arr, neg_arr, items, per_doc, args.show)
    verify.LEXICAL_WEIGHT = current_weight


def report_current(pos: np.ndarray, neg: np.ndarray, items, per_doc: dict[str, list[float]], show: bool) -> None:
    """Accuracy around the configured threshold, and (with --show) the pairs it gets wrong."""
    for t in np.arange(0.40, 0.66, 0.025):
        print(f"    threshold {t:.3f}: supported kept {(pos >= t).mean():.3f}, "
              f"unsupported dropped {(neg < t).mean():.3f}")
    if not show:
        return
    threshold = verify.SUPPORT_THRESHOLD
    for (sentence, sources), score in zip(items, pos, strict=True):
        if score < threshold:
            print(f"  supported but low {score:.3f} {sorted(sources)}: {sentence}")
    for doc, scores in per_doc.items():
        others = [(s, it) for s, it in zip(scores, [it for it in items if doc not in it[1]], strict=True)]
        for score, (sentence, _) in others:
            if score >= threshold:
                print(f"  other document {doc} scores {score:.3f}: {sentence}")


if __name__ == "__main__":
    main()
