"""The in-memory lexical side of retrieval: chunks and units by id, BM25 over each, updated one version at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ingest.store import StoredChunk, StoredUnit
from rag.bm25 import BM25
from rag.lexical_store import Saved, Vocabulary

Version = tuple[str, str]  # (doc_id, content_hash)
_COMPACT_SLACK = 1000  # dropped rows tolerated beyond the live ones before rows are renumbered


def chunk_text(chunk: StoredChunk) -> str:
    return f"{chunk.metadata.get('title', '')}\n{chunk.metadata.get('section', '')}\n{chunk.text}"


def unit_text(unit: StoredUnit) -> str:
    """What a unit is searched by: its table header, its text, what its acronyms stand for."""
    return f"{unit.metadata.get('header', '')} {unit.text} {unit.metadata.get('expands', '')}"


def version_of(metadata: dict[str, Any]) -> Version:
    return metadata["doc_id"], metadata["content_hash"]


def _doc_units(units: Iterable[StoredUnit]) -> list[StoredUnit]:
    """A document's units in text order; a unit repeated by chunk overlap is kept once (its first chunk's)."""
    out: list[StoredUnit] = []
    seen: set[int] = set()
    for unit in sorted(units, key=lambda u: (u.metadata["start"], u.unit_id)):
        if unit.metadata["start"] not in seen:
            seen.add(unit.metadata["start"])
            out.append(unit)
    return out


class _Rows:
    """Items in BM25 row order; a dropped item leaves None in its row until the rows are compacted."""

    def __init__(self, items: list[Any], key: str) -> None:
        self.items: list[Any] = items
        self.key = key
        self.row = {getattr(item, key): i for i, item in enumerate(items) if item is not None}

    def live(self) -> list[Any]:
        return [item for item in self.items if item is not None]

    def changed(self, gone: list[str], new: list[Any]) -> _Rows:
        out = _Rows.__new__(_Rows)
        out.key, out.items, out.row = self.key, list(self.items), dict(self.row)
        for item_id in gone:
            out.items[out.row.pop(item_id)] = None
        for item in new:
            out.row[getattr(item, self.key)] = len(out.items)
            out.items.append(item)
        return out


class LexicalIndex:
    """Everything retrieval keeps in memory: chunks and units by id, BM25 over each, units in document order.

    Token ids come from `vocabulary` (a previous generation's) or are made here, for new items only.
    `saved` (read from disk) is used as it is when it holds exactly these chunks and units: `loaded` is then
    True and nothing is tokenised. `updated` makes the next generation's index from this one at the cost of
    the changed documents only; this one stays valid for a question already using it.
    """

    def __init__(self, chunks: list[StoredChunk], units: list[StoredUnit], vocabulary: Vocabulary | None = None,
                 saved: Saved | None = None) -> None:
        self.vocabulary = vocabulary or (saved.vocabulary if saved else Vocabulary())
        self.by_id = {c.chunk_id: c for c in chunks}
        # A unit that speaks to a model ("ignore previous instructions") is never evidence (ingest/guard.py).
        units = [u for u in units if u.metadata.get("chunk_id") in self.by_id and not u.metadata.get("instruction")]
        self.unit_by_id = {u.unit_id: u for u in units}
        same = (saved is not None and set(saved.chunk_ids) - {""} == set(self.by_id)
                and set(saved.unit_ids) - {""} == set(self.unit_by_id))
        # Loaded: nothing to save. An index saved without items is saved again, with them, for the next start.
        self.loaded = same and saved is not None and saved.items is not None
        if saved is not None and same:
            chunks = [self.by_id.get(i) for i in saved.chunk_ids]  # BM25 rows are in the saved order
            units = [self.unit_by_id.get(i) for i in saved.unit_ids]
            self.chunk_bm25, self.unit_bm25 = saved.chunk_bm25, saved.unit_bm25
        else:
            self.chunk_bm25 = BM25.build([self.vocabulary.tokens(c.chunk_id, chunk_text(c)) for c in chunks])
            self.unit_bm25 = BM25.build([self.vocabulary.tokens(u.unit_id, unit_text(u)) for u in units])
            self.vocabulary.keep(set(self.by_id) | set(self.unit_by_id))
        self._chunks, self._units = _Rows(chunks, "chunk_id"), _Rows(units, "unit_id")
        self.units_by_chunk: dict[str, list[StoredUnit]] = defaultdict(list)
        by_doc: dict[str, list[StoredUnit]] = defaultdict(list)
        for unit in (u for u in units if u is not None):
            self.units_by_chunk[unit.metadata["chunk_id"]].append(unit)
            by_doc[unit.metadata["doc_id"]].append(unit)
        self.doc_units = {doc_id: _doc_units(found) for doc_id, found in by_doc.items()}
        self.versions: dict[Version, list[str]] = defaultdict(list)
        for chunk in (c for c in chunks if c is not None):
            self.versions[version_of(chunk.metadata)].append(chunk.chunk_id)

    def rows(self) -> tuple[list[StoredChunk | None], list[StoredUnit | None]]:
        """Chunks and units in BM25 row order, None for a dropped row: what lexical_store.save writes."""
        return self._chunks.items, self._units.items

    @property
    def chunks(self) -> list[StoredChunk]:
        return self._chunks.live()

    @property
    def units(self) -> list[StoredUnit]:
        return self._units.live()

    def updated(self, chunks: list[StoredChunk], units: list[StoredUnit], gone: set[Version]) -> LexicalIndex:
        """This index with the versions `gone` dropped and the given chunks and units (new versions) added."""
        out = LexicalIndex.__new__(LexicalIndex)
        out.loaded, out.vocabulary = False, self.vocabulary
        gone_chunks = [cid for version in gone for cid in self.versions.get(version, [])]
        gone_units = [u.unit_id for cid in gone_chunks for u in self.units_by_chunk.get(cid, [])]
        out.by_id = dict(self.by_id)
        for cid in gone_chunks:
            del out.by_id[cid]
        out.by_id.update((c.chunk_id, c) for c in chunks)
        units = [u for u in units if u.metadata.get("chunk_id") in out.by_id and not u.metadata.get("instruction")]
        out.unit_by_id = dict(self.unit_by_id)
        for uid in gone_units:
            del out.unit_by_id[uid]
        out.unit_by_id.update((u.unit_id, u) for u in units)
        out.chunk_bm25 = self._bm25_after(self.chunk_bm25, self._chunks, gone_chunks, chunks, chunk_text)
        out.unit_bm25 = self._bm25_after(self.unit_bm25, self._units, gone_units, units, unit_text)
        out._chunks, out._units = self._chunks.changed(gone_chunks, chunks), self._units.changed(gone_units, units)
        for item_id in (*gone_chunks, *gone_units):  # memory follows the index, not its history
            self.vocabulary.items.pop(item_id, None)
        out._regroup(self, gone, gone_chunks, chunks, units)
        out._compact()
        return out

    def _bm25_after(self, bm25: BM25, rows: _Rows, gone: list[str], new: list[Any], text: Any) -> BM25:
        """`bm25` without the rows of `gone` and with `new` appended: the cost of these items only."""
        dropped = bm25.dropped([rows.row[i] for i in gone], [self.vocabulary.items[i] for i in gone])
        key = rows.key
        return dropped.added([self.vocabulary.tokens(getattr(item, key), text(item)) for item in new])

    def _regroup(self, old: LexicalIndex, gone: set[Version], gone_chunks: list[str], chunks: list[StoredChunk],
                 units: list[StoredUnit]) -> None:
        """units_by_chunk, doc_units and versions: `old`'s, with only the changed documents' entries redone.

        Every container is a copy and every changed entry a new list: `old` stays whole for a question using it.
        The manifest lists one version per document, so a document's units are those of its new version.
        """
        self.units_by_chunk = defaultdict(list, old.units_by_chunk)
        for cid in gone_chunks:
            self.units_by_chunk.pop(cid, None)
        by_doc: dict[str, list[StoredUnit]] = defaultdict(list)
        for unit in units:
            cid = unit.metadata["chunk_id"]
            self.units_by_chunk[cid] = [*self.units_by_chunk.get(cid, []), unit]
            by_doc[unit.metadata["doc_id"]].append(unit)
        self.versions = defaultdict(list, {v: ids for v, ids in old.versions.items() if v not in gone})
        for chunk in chunks:
            version = version_of(chunk.metadata)
            self.versions[version] = [*self.versions.get(version, []), chunk.chunk_id]
        gone_docs = {doc_id for doc_id, _ in gone}
        self.doc_units = {d: found for d, found in old.doc_units.items() if d not in gone_docs}
        self.doc_units.update((d, _doc_units(found)) for d, found in by_doc.items())

    def _compact(self) -> None:
        """Renumber the rows once dropped ones outnumber live ones: memory and query time follow the index."""
        for name, rows_name in (("chunk_bm25", "_chunks"), ("unit_bm25", "_units")):
            bm25: BM25 = getattr(self, name)
            if bm25.n_rows - bm25.n_live > bm25.n_live + _COMPACT_SLACK:
                compacted, _ = bm25.compacted()
                rows: _Rows = getattr(self, rows_name)
                setattr(self, name, compacted)
                setattr(self, rows_name, _Rows(rows.live(), rows.key))

    def idf(self, term: str) -> float:
        return self.chunk_bm25.idf(self.vocabulary.index.get(term))

    def _term_ids(self, query_terms: tuple[str, ...]) -> list[int]:
        return [i for i in (self.vocabulary.index.get(t) for t in query_terms) if i is not None]

    def search(self, query_terms: tuple[str, ...], k: int, filters: Any) -> list[tuple[str, float]]:
        rows = self._chunks.items
        hits = self.chunk_bm25.top(self._term_ids(query_terms), k, lambda i: filters.accepts(rows[i].metadata),
                                   lambda i: rows[i].chunk_id)
        return [(rows[i].chunk_id, score) for i, score in hits]

    def search_units(self, query_terms: tuple[str, ...], k: int, filters: Any) -> list[tuple[str, float]]:
        rows = self._units.items

        def accepts(i: int) -> bool:
            return filters.accepts(self.by_id[rows[i].metadata["chunk_id"]].metadata)

        hits = self.unit_bm25.top(self._term_ids(query_terms), k, accepts, lambda i: rows[i].unit_id)
        return [(rows[i].unit_id, score) for i, score in hits]

    def following(self, unit: Any, n: int, max_gap: int) -> list[StoredUnit]:
        """Up to n units right after `unit` in its document, with only a line break or list marker between."""
        out: list[StoredUnit] = []
        end = int(unit.metadata["end"])
        for other in self.doc_units.get(unit.metadata["doc_id"], []):
            start = int(other.metadata["start"])
            if start <= end:
                continue
            if start - end > max_gap or len(out) == n:
                break
            out.append(other)
            end = int(other.metadata["end"])
        return out
