"""BM25 over token ids, and the lexical index on disk: every item's token ids and both models, by index generation."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kvisa.settings import Settings
from rag.terms import tokenize

EMPTY = "_empty_"  # the one token of an item with none: bm25s cannot index an empty document
_FORMAT = 1


class Vocabulary:
    """Token ids of every chunk and unit seen, tokenised once each.

    Chunk and unit ids carry their document's content hash, so an id's tokens never change: an add
    tokenises only the new document's items, and a process start reads them all from disk.
    """

    def __init__(self, terms: list[str] | None = None, items: dict[str, np.ndarray] | None = None) -> None:
        self.terms = terms or [EMPTY]
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.items = items if items is not None else {}

    def tokens(self, item_id: str, text: str) -> np.ndarray:
        known = self.items.get(item_id)
        if known is None:
            known = np.fromiter((self._id(t) for t in tokenize(text)), dtype=np.int32)
            self.items[item_id] = known
        return known

    def _id(self, term: str) -> int:
        found = self.index.get(term)
        if found is None:
            found = self.index[term] = len(self.terms)
            self.terms.append(term)
        return found

    def keep(self, item_ids: set[str]) -> None:
        """Forget removed items, so memory follows the index rather than its history."""
        for gone in set(self.items) - item_ids:
            del self.items[gone]


class BM25:
    """bm25s over token ids, with document frequencies for idf weights."""

    def __init__(self, bm25: object, df: np.ndarray, n_docs: int) -> None:
        self.bm25 = bm25
        self.df = df
        self.n_docs = n_docs
        # bm25s keeps its own copy of the vocabulary as it was when indexed; later terms are unknown to it.
        self.vocab: dict[str, int] = getattr(bm25, "vocab_dict", None) or {}

    @classmethod
    def build(cls, docs: list[np.ndarray], vocabulary: Vocabulary) -> BM25:
        import bm25s
        from bm25s.tokenization import Tokenized

        bm25 = bm25s.BM25()
        if docs:  # bm25s cannot index nothing; an empty index simply finds nothing
            ids = [d.tolist() or [0] for d in docs]
            bm25.index(Tokenized(ids=ids, vocab=dict(vocabulary.index)), show_progress=False)
        df = np.zeros(len(vocabulary.terms), dtype=np.int64)
        for d in docs:
            df[np.unique(d)] += 1
        return cls(bm25, df, max(1, len(docs)))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms weigh the most."""
        i = self.vocab.get(term)
        n = int(self.df[i]) if i is not None and i < len(self.df) else 0
        return math.log(1 + (self.n_docs - n + 0.5) / (n + 0.5))

    def top(self, query_terms: tuple[str, ...], k: int, accepts) -> list[tuple[int, float]]:
        """(position, score) of the best k entries that `accepts(position)`."""
        known = [t for t in query_terms if t in self.vocab]
        if not known:
            return []
        scores = self.bm25.get_scores(known)
        hits = []
        for i in np.argsort(-scores):
            if scores[i] <= 0 or len(hits) >= k:
                break
            if accepts(int(i)):
                hits.append((int(i), float(scores[i])))
        return hits


@dataclass
class Saved:
    """A lexical index read from disk: item ids in BM25 row order, the vocabulary, both models."""

    generation: int
    chunk_ids: list[str]
    unit_ids: list[str]
    vocabulary: Vocabulary
    chunk_bm25: BM25 | None
    unit_bm25: BM25 | None


def cache_dir(settings: Settings) -> Path:
    """One folder per index (store, collection) and tokenizer: a change of rag/terms.py invalidates it."""
    where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.chroma_dir)
    tokenizer = hashlib.sha256(Path(__file__).with_name("terms.py").read_bytes()).hexdigest()
    key = hashlib.sha256(f"{_FORMAT}|{where}|{settings.collection}|{tokenizer}".encode()).hexdigest()[:16]
    return settings.home / "cache" / f"lexical-{key}"


def save(base: Path, generation: int, chunk_ids: list[str], unit_ids: list[str], vocabulary: Vocabulary,
         chunk_bm25: BM25, unit_bm25: BM25) -> None:
    """Write generation `generation` into a new folder, renamed into place whole; older generations go."""
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        items = [vocabulary.items[i] for i in (*chunk_ids, *unit_ids)]
        offsets = np.cumsum([0, *(len(t) for t in items)], dtype=np.int64)
        flat = np.concatenate(items) if items else np.zeros(0, dtype=np.int32)
        np.savez(tmp / "tokens.npz", flat=flat, offsets=offsets, chunk_df=chunk_bm25.df, unit_df=unit_bm25.df)
        for name, model in (("chunks", chunk_bm25), ("units", unit_bm25)):
            if model.vocab:
                model.bm25.save(str(tmp / name))
        meta = {"format": _FORMAT, "generation": generation, "chunk_ids": chunk_ids, "unit_ids": unit_ids,
                "terms": vocabulary.terms}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, base / f"gen-{generation}")
    except OSError:  # another process saved this generation first, or the disk is full: it stays a cache
        shutil.rmtree(tmp, ignore_errors=True)
        return
    for old in base.glob("gen-*"):
        if old.name != f"gen-{generation}":
            shutil.rmtree(old, ignore_errors=True)


def load_latest(base: Path) -> Saved | None:
    """The newest generation saved under `base`, or None (nothing saved, or unreadable: then it is rebuilt)."""
    found = sorted(base.glob("gen-*"), key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else -1)
    if not found:
        return None
    try:
        return _load(found[-1])
    except Exception:  # a damaged cache is rebuilt, never an error
        return None


def _load(folder: Path) -> Saved:
    import bm25s

    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta["format"] != _FORMAT:
        raise ValueError("old format")
    arrays = np.load(folder / "tokens.npz")
    flat, offsets = arrays["flat"], arrays["offsets"]
    ids = [*meta["chunk_ids"], *meta["unit_ids"]]
    items = {item: flat[offsets[i] : offsets[i + 1]] for i, item in enumerate(ids)}
    vocabulary = Vocabulary(meta["terms"], items)

    def model(name: str, df: np.ndarray, n: int) -> BM25:
        if not (folder / name).exists():
            return BM25(bm25s.BM25(), df, max(1, n))
        return BM25(bm25s.BM25.load(str(folder / name), mmap=True), df, max(1, n))

    return Saved(int(meta["generation"]), meta["chunk_ids"], meta["unit_ids"], vocabulary,
                 model("chunks", arrays["chunk_df"], len(meta["chunk_ids"])),
                 model("units", arrays["unit_df"], len(meta["unit_ids"])))
