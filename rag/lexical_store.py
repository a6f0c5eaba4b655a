"""The lexical index's vocabulary, and the index on disk: every item's token ids, texts and metadata, by generation."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ingest.processes import process_alive
from ingest.store import StoredChunk, StoredUnit
from kvisa.settings import Settings
from rag.bm25 import BM25
from rag.terms import tokenize

Items = tuple[list[StoredChunk], list[StoredUnit]]
EMPTY = "_empty_"  # term id 0: the one token of an item with none (rag/bm25.py)
_FORMAT = 2  # 2: rag/bm25.py's statistics and postings (1 held bm25s models); the items file was added later
# Texts and metadata by column. A generation saved with an older items file (items.json: one object per item) is
# saved again under this name by the next process that reads it, which reads the items from Chroma meanwhile.
ITEMS_FILE = "items-by-column.json"


class TokenTable(MutableMapping[str, np.ndarray]):
    """Item id -> token ids. Those read from disk stay in the one flat array they were saved as (an array view
    per item costs ~110 bytes: 50 MB at 100k chunks); items added since are kept apart. A removed item's
    tokens stay in the flat array until the next start reads a newer save."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray, ids: list[str]) -> None:
        self._flat, self._offsets = flat, offsets
        self._saved: dict[str, int] = {item: i for i, item in enumerate(ids)}
        self._added: dict[str, np.ndarray] = {}

    def __getitem__(self, item: str) -> np.ndarray:
        at = self._saved.get(item)
        if at is None:
            return self._added[item]
        return self._flat[self._offsets[at] : self._offsets[at + 1]]

    def __setitem__(self, item: str, tokens: np.ndarray) -> None:
        self._saved.pop(item, None)
        self._added[item] = tokens

    def __delitem__(self, item: str) -> None:
        if self._saved.pop(item, None) is None:
            del self._added[item]

    def __iter__(self) -> Iterator[str]:
        yield from self._saved
        yield from self._added

    def __len__(self) -> int:
        return len(self._saved) + len(self._added)


class Vocabulary:
    """Token ids of every chunk and unit seen, tokenised once each.

    Chunk and unit ids carry their document's content hash, so an id's tokens never change: an add
    tokenises only the new document's items, and a process start reads them all from disk.
    """

    def __init__(self, terms: list[str] | None = None, items: MutableMapping[str, np.ndarray] | None = None) -> None:
        self.terms = terms or [EMPTY]
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.items: MutableMapping[str, np.ndarray] = items if items is not None else {}

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


@dataclass
class Saved:
    """A lexical index read from disk: item ids in BM25 row order ("" for a dropped row), vocabulary, models,
    and the live items themselves, so a start need not read every chunk and unit back from Chroma."""

    generation: int
    chunk_ids: list[str]
    unit_ids: list[str]
    vocabulary: Vocabulary
    chunk_bm25: BM25
    unit_bm25: BM25
    items: Items | None  # None: saved without them, or damaged (its tokens still serve)
    store_id: str  # the Chroma collections it was read from: a store made anew under the same path differs


def cache_dir(settings: Settings) -> Path:
    """One folder per index (store, collection) and tokenizer: a change of rag/terms.py, or of rag/dictionary.py
    (which writes traditional characters in simplified form for it), invalidates it."""
    where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.chroma_dir)
    tokenizer = hashlib.sha256(b"".join(Path(__file__).with_name(name).read_bytes()
                                        for name in ("terms.py", "dictionary.py"))).hexdigest()
    key = hashlib.sha256(f"{_FORMAT}|{where}|{settings.collection}|{tokenizer}".encode()).hexdigest()[:16]
    return settings.home / "cache" / f"lexical-{key}"


def save(base: Path, generation: int, store_id: str, chunk_rows: list[StoredChunk | None],
         unit_rows: list[StoredUnit | None], vocabulary: Vocabulary, chunk_bm25: BM25, unit_bm25: BM25) -> None:
    """Write generation `generation` into a new folder, renamed into place whole; older generations go.

    The rows are the items in BM25 row order, None for a dropped row: the models are saved as they are, so an
    add costs a write of the arrays, never a re-sort of every posting.
    """
    base.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(base)
    tmp = base / f".tmp-{os.getpid()}-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        chunks, units = [c for c in chunk_rows if c], [u for u in unit_rows if u]
        chunk_ids = [c.chunk_id if c else "" for c in chunk_rows]
        unit_ids = [u.unit_id if u else "" for u in unit_rows]
        ids = [i for i in (*chunk_ids, *unit_ids) if i]
        items = [vocabulary.items[i] for i in ids]
        offsets = np.cumsum([0, *(len(t) for t in items)], dtype=np.int64)
        flat = np.concatenate(items) if items else np.zeros(0, dtype=np.int32)
        np.save(tmp / "flat.npy", flat)
        np.save(tmp / "offsets.npy", offsets)
        # Plain lines, not JSON: at 100k chunks this file holds ~600k ids, and lines read and write fastest. The
        # token ids' items are its non-empty lines, in order.
        (tmp / "rows.txt").write_text("\n".join([*chunk_ids, *unit_ids]), encoding="utf-8")
        _write_items(tmp / ITEMS_FILE, chunks, units)
        np.savez(tmp / "chunks.npz", **chunk_bm25.arrays())
        np.savez(tmp / "units.npz", **unit_bm25.arrays())
        (tmp / "terms.json").write_text(json.dumps(vocabulary.terms, ensure_ascii=False), encoding="utf-8")
        meta = {"format": _FORMAT, "generation": generation, "chunks": len(chunk_rows), "units": len(unit_rows),
                "items": len(ids), "store": store_id}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        target = base / f"gen-{generation}"
        if target.is_dir() and not (target / ITEMS_FILE).exists():
            shutil.rmtree(target, ignore_errors=True)  # saved with no items file or an older one: replaced
        os.replace(tmp, target)
    except OSError:  # another process saved this generation first, or the disk is full: it stays a cache
        shutil.rmtree(tmp, ignore_errors=True)
        return
    for old in base.glob("gen-*"):
        if old.name != f"gen-{generation}":
            shutil.rmtree(old, ignore_errors=True)


def _remove_abandoned(base: Path) -> None:
    """Delete the half-written saves of processes that ended: a save runs in a daemon thread, so a `kvisa ask`
    that answers and exits leaves its folder (the size of the index: 280 MB at 100k chunks). A folder named
    before saves carried their pid goes once it is an hour old."""
    for tmp in base.glob(".tmp-*"):
        with suppress(OSError):
            if _abandoned(tmp):
                shutil.rmtree(tmp, ignore_errors=True)


def _abandoned(tmp: Path) -> bool:
    pid = tmp.name.split("-")[1]
    if pid.isdigit():
        return not process_alive(int(pid))
    return time.time() - tmp.stat().st_mtime > 3600


def load_latest(base: Path) -> Saved | None:
    """The newest generation saved under `base`, or None (nothing saved, or unreadable: then it is rebuilt)."""
    found = sorted(base.glob("gen-*"), key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else -1)
    if not found:
        return None
    try:
        with _collector_paused():
            return _load(found[-1])
    except Exception:  # a damaged cache is rebuilt, never an error
        return None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a load makes ~0.5M objects at 10k chunks, none of them in a cycle:
    the collector would otherwise walk the growing heap (every imported module's objects too) again and again.
    Measured at 10k chunks: a cold `kvisa ask` 3.6 s instead of 4.2 s (medians of 5, load average 5.3-5.7)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _load(folder: Path) -> Saved:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta["format"] != _FORMAT:
        raise ValueError("old format")
    flat, offsets = np.load(folder / "flat.npy"), np.load(folder / "offsets.npy")
    rows = _lines(folder / "rows.txt")
    n = meta["chunks"]
    chunk_ids, unit_ids = [i for i in rows[:n] if i], [i for i in rows[n:] if i]  # "" marks a dropped row
    ids = [*chunk_ids, *unit_ids]
    if len(ids) != meta["items"] or len(offsets) != len(ids) + 1 or len(rows) != meta["chunks"] + meta["units"]:
        raise ValueError("torn files")
    vocabulary = Vocabulary(json.loads((folder / "terms.json").read_text(encoding="utf-8")),
                            TokenTable(flat, offsets, ids))
    models = [BM25.from_arrays(dict(np.load(folder / f"{name}.npz"))) for name in ("chunks", "units")]
    saved_items = _read_items(folder / ITEMS_FILE, chunk_ids, unit_ids)
    return Saved(int(meta["generation"]), rows[:n], rows[n:], vocabulary, *models, saved_items, meta.get("store", ""))


def _write_items(path: Path, chunks: list[StoredChunk], units: list[StoredUnit]) -> None:
    """The live rows' texts and metadata, in row order, by column, as one orjson file (it reads fastest of the
    formats tried). Each string value is written once, in a table the columns point into: a load then keeps one
    copy of a document's id, hash, title and section for all its chunks and units, where one copy per item was
    a third of the items' memory."""
    strings: dict[str, int] = {}
    columns = {"chunks": _columns(chunks, strings), "units": _columns(units, strings)}
    path.write_bytes(orjson.dumps({**columns, "strings": list(strings)}))


def _columns(items: list[StoredChunk] | list[StoredUnit], strings: dict[str, int]) -> dict[str, Any]:
    """Texts, and per metadata key its values: indices into `strings` (-1 where an item lacks the key) when
    every value is a string, else the values themselves (null where missing; Chroma never stores a null)."""
    metadata: dict[str, Any] = {}
    for key in sorted({key for item in items for key in item.metadata}):
        values = [item.metadata.get(key) for item in items]
        if all(value is None or isinstance(value, str) for value in values):
            metadata[key] = {"strings": [-1 if v is None else strings.setdefault(v, len(strings)) for v in values]}
        else:
            metadata[key] = {"values": values}
    return {"text": [item.text for item in items], "metadata": metadata}


def _read_items(path: Path, chunk_ids: list[str], unit_ids: list[str]) -> Items | None:
    """The saved items, or None when the file is missing (saved before it existed), of an older layout or
    damaged: the token ids are still used then, and only the items are read from Chroma, so none of these cases
    re-tokenises anything."""
    try:
        blob = orjson.loads(path.read_bytes())
        ids = {chunk_id: chunk_id for chunk_id in chunk_ids}  # a unit's chunk_id: the row list's own string
        strings = [ids.get(value, value) for value in blob["strings"]]
        chunks = [StoredChunk(*item) for item in _rows(blob["chunks"], chunk_ids, strings)]
        units = [StoredUnit(*item) for item in _rows(blob["units"], unit_ids, strings)]
    except (OSError, ValueError, KeyError, TypeError, IndexError):  # orjson's decode error is a ValueError
        return None
    return chunks, units


def _rows(columns: dict[str, Any], ids: list[str], strings: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    metadata: list[dict[str, Any]] = [{} for _ in ids]
    for key, column in columns["metadata"].items():
        if "strings" in column:
            for item, at in zip(metadata, column["strings"], strict=True):
                if at >= 0:
                    item[key] = strings[at]
        else:
            for item, value in zip(metadata, column["values"], strict=True):
                if value is not None:
                    item[key] = value
    return zip(ids, columns["text"], metadata, strict=True)


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []
