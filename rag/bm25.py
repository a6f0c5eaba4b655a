"""BM25 kept as running statistics, so adding or dropping items costs only those items, at any index size."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.5  # Lucene's (and bm25s's) defaults: scores match a bm25s index of the same items
B = 0.75
EMPTY_ID = 0  # an item with no tokens counts as one EMPTY token, as bm25s would index it


@dataclass(frozen=True)
class Segment:
    """Postings of some rows, term-major: rows[starts[i]:starts[i+1]] hold terms[i], tfs alongside.

    Segments are never changed once made, so an older index sharing them with a newer one stays valid.
    """

    terms: np.ndarray  # sorted unique term ids
    starts: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray

    @property
    def size(self) -> int:
        return len(self.rows)

    @classmethod
    def of(cls, term_ids: np.ndarray, rows: np.ndarray) -> Segment:
        """From one (term, row) pair per token occurrence; repeated pairs become term frequencies."""
        first = int(rows.min(initial=0))
        span = int(rows.max(initial=0)) - first + 1
        # One int64 key per pair sorts far faster than a two-key lexsort; unique counts give the frequencies.
        pairs, counts = np.unique(term_ids.astype(np.int64) * span + (rows - first), return_counts=True)
        return cls._grouped(pairs // span, (pairs % span + first).astype(np.int32), counts.astype(np.float32))

    @classmethod
    def _grouped(cls, term_ids: np.ndarray, rows: np.ndarray, tfs: np.ndarray) -> Segment:
        """From postings already sorted by term."""
        new_term = np.ones(len(term_ids), dtype=bool)
        new_term[1:] = term_ids[1:] != term_ids[:-1]
        firsts = np.flatnonzero(new_term)
        return cls(term_ids[firsts], np.append(firsts, len(term_ids)), rows, tfs)

    def expanded_terms(self) -> np.ndarray:
        return np.repeat(self.terms, np.diff(self.starts))

    @staticmethod
    def combined(segments: Sequence[Segment], renumber: np.ndarray | None = None) -> Segment:
        """One segment with the postings of all; with `renumber`, row r becomes renumber[r] (dropped when -1)."""
        terms = np.concatenate([s.expanded_terms() for s in segments])
        rows = np.concatenate([s.rows for s in segments])
        tfs = np.concatenate([s.tfs for s in segments])
        if renumber is not None:
            live = renumber[rows] >= 0
            terms, rows, tfs = terms[live], renumber[rows[live]].astype(np.int32), tfs[live]
        order = np.argsort(terms, kind="stable")
        return Segment._grouped(terms[order], rows[order], tfs[order])

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        i = int(np.searchsorted(self.terms, term_id))
        if i == len(self.terms) or self.terms[i] != term_id:
            return self.rows[:0], self.tfs[:0]
        return self.rows[self.starts[i] : self.starts[i + 1]], self.tfs[self.starts[i] : self.starts[i + 1]]


_NO_SEGMENT = Segment._grouped(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))


class BM25:
    """Okapi BM25 (Lucene's variant) over rows of token ids.

    Document frequencies, lengths and the live-row count are kept up to date as rows come and go, and
    idf and the average length are computed from them at query time: an add or a drop never rescores
    the other rows. A dropped row stays in its segment, masked, until `compacted` renumbers the rows.
    Methods that change the index return a new BM25; the old one stays valid for a question in flight.
    """

    def __init__(self) -> None:
        self.lengths = np.zeros(0, dtype=np.float32)  # tokens per row (as scored)
        self.alive = np.zeros(0, dtype=bool)
        self.df = np.zeros(0, dtype=np.int64)  # live rows holding each term id
        self.total = 0.0  # tokens in live rows
        self.segments: list[Segment] = []
        self._norm: np.ndarray | None = None  # per-row length normalisation, made on the first query

    @property
    def n_rows(self) -> int:
        return len(self.alive)

    @property
    def n_live(self) -> int:
        return int(self.alive.sum())

    @classmethod
    def build(cls, docs: Sequence[np.ndarray]) -> BM25:
        return cls().added(docs)

    def _copy(self) -> BM25:
        out = BM25()
        out.lengths, out.alive, out.df, out.total = self.lengths, self.alive.copy(), self.df.copy(), self.total
        out.segments = list(self.segments)
        return out

    def added(self, docs: Sequence[np.ndarray]) -> BM25:
        """A new index with `docs` as rows n_rows, n_rows + 1, ...: only their own postings are made."""
        out = self._copy()
        docs = [d if len(d) else np.array([EMPTY_ID], dtype=np.int32) for d in docs]
        if not docs:
            return out
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        flat = np.concatenate(docs).astype(np.int32)
        rows = np.repeat(np.arange(self.n_rows, self.n_rows + len(docs), dtype=np.int32), lengths.astype(np.int64))
        segment = Segment.of(flat, rows)
        out.df = _grown(out.df, int(flat.max()) + 1)
        out.df[segment.terms] += np.diff(segment.starts)  # one posting per (term, row): each is one document
        out.lengths = np.concatenate([self.lengths, lengths])
        out.alive = np.concatenate([out.alive, np.ones(len(docs), dtype=bool)])
        out.total += float(lengths.sum())
        out.segments.append(segment)
        out._merge_small()
        return out

    def _merge_small(self) -> None:
        """Merge the newest segment into the one before while it is at least half its size: each posting is
        then merged O(log n) times in all, and a query visits O(log n) segments."""
        while len(self.segments) > 1 and 2 * self.segments[-1].size >= self.segments[-2].size:
            newest = self.segments.pop()
            self.segments[-1] = Segment.combined([self.segments[-1], newest])

    def dropped(self, rows: Sequence[int], docs: Sequence[np.ndarray]) -> BM25:
        """A new index without `rows` (whose token ids are `docs`): their statistics leave the totals."""
        out = self._copy()
        for row, doc in zip(rows, docs, strict=True):
            if not out.alive[row]:
                continue
            out.alive[row] = False
            out.total -= float(self.lengths[row])
            out.df[np.unique(doc if len(doc) else np.array([EMPTY_ID]))] -= 1
        return out

    def compacted(self) -> tuple[BM25, np.ndarray]:
        """Without dropped rows: the new index and, for each old row, its new row (-1 if dropped)."""
        renumber = np.cumsum(self.alive) - 1
        renumber[~self.alive] = -1
        out = BM25()
        out.df, out.total = self.df.copy(), self.total
        out.lengths, out.alive = self.lengths[self.alive], np.ones(self.n_live, dtype=bool)
        merged = Segment.combined([_NO_SEGMENT, *self.segments], renumber)
        out.segments = [merged] if merged.size else []
        return out, renumber

    def arrays(self) -> dict[str, np.ndarray]:
        """The whole state as named arrays (for np.savez): a load then needs no sorting at all."""
        out = {"lengths": self.lengths, "alive": self.alive, "df": self.df, "total": np.array([self.total])}
        for i, segment in enumerate(self.segments):
            out.update({f"{i}.terms": segment.terms, f"{i}.starts": segment.starts, f"{i}.rows": segment.rows,
                        f"{i}.tfs": segment.tfs})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> BM25:
        out = cls()
        out.lengths, out.alive, out.df = arrays["lengths"], arrays["alive"], arrays["df"]
        out.total = float(arrays["total"][0])
        n = sum(1 for name in arrays if name.endswith(".terms"))
        out.segments = [Segment(*(arrays[f"{i}.{part}"] for part in ("terms", "starts", "rows", "tfs")))
                        for i in range(n)]
        return out

    def idf(self, term_id: int | None) -> float:
        """Lucene's smoothed idf from the running counts; unseen terms weigh the most."""
        n = int(self.df[term_id]) if term_id is not None and term_id < len(self.df) else 0
        return math.log(1 + (max(1, self.n_live) - n + 0.5) / (n + 0.5))

    def scores(self, term_ids: Sequence[int]) -> np.ndarray:
        """One score per row (0 for dropped rows); a repeated query term counts again, as in bm25s."""
        out = np.zeros(self.n_rows, dtype=np.float64)
        if not self.n_live:
            return out
        if self._norm is None or len(self._norm) != self.n_rows:  # an index never changes once made: cache it
            self._norm = K1 * (1 - B + B * self.lengths / (self.total / self.n_live))
        norm = self._norm
        for term_id in term_ids:
            weight = self.idf(term_id) if term_id < len(self.df) and self.df[term_id] else 0.0
            if not weight:
                continue
            for segment in self.segments:
                rows, tfs = segment.postings(term_id)
                out[rows] += weight * tfs / (tfs + norm[rows])
        out[~self.alive] = 0.0
        return out

    def top(self, term_ids: Sequence[int], k: int, accepts: Callable[[int], bool],
            key: Callable[[int], str]) -> list[tuple[int, float]]:
        """(row, score) of the best k rows that `accepts(row)`, ties broken by `key(row)`: the order then
        depends on the items alone, never on the order they were added in."""
        scores = self.scores(term_ids)
        hits = np.flatnonzero(scores > 0)
        width = 4 * k + 16
        if len(hits) > width:  # most questions need only the best few of many hits: sort those first
            split = np.argpartition(-scores[hits], width)
            best, below = hits[split[:width]], float(scores[hits[split[width:]]].max())
            picked = self._picked(scores, best[np.argsort(-scores[best], kind="stable")], k, accepts)
            if len(picked) >= k and scores[picked[k - 1]] > below:  # nothing left out could rank or tie
                picked.sort(key=lambda row: (-scores[row], key(row)))
                return [(row, float(scores[row])) for row in picked[:k]]
        picked = self._picked(scores, hits[np.argsort(-scores[hits], kind="stable")], k, accepts)
        picked.sort(key=lambda row: (-scores[row], key(row)))
        return [(row, float(scores[row])) for row in picked[:k]]

    @staticmethod
    def _picked(scores: np.ndarray, ordered: np.ndarray, k: int, accepts: Callable[[int], bool]) -> list[int]:
        """Accepted rows in `ordered` (best first) down to the k-th accepted score, ties with it included."""
        picked: list[int] = []
        for row in ordered:
            if len(picked) >= k and scores[row] < scores[picked[k - 1]]:
                break  # past the k-th score: no tie with it left to consider
            if accepts(int(row)):
                picked.append(int(row))
        return picked


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    return array if len(array) >= size else np.concatenate([array, np.zeros(size - len(array), array.dtype)])
