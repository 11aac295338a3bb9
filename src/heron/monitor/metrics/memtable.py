"""Hot state: cells touched since the last flush, held column-wise in memory.

Each cell has one row (a dict maps the packed cell key to it; one entry per cell, never per
datapoint). Sketch buckets are kept as packed ``row << 32 | key`` integers: a sorted, reduced
*main* run plus a *tail* of recently applied runs that is folded in once it grows (a stable sort
of two sorted runs is linear), so applying a delta is a handful of numpy calls.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np
import numpy.typing as npt

from heron.monitor.metrics import sketch
from heron.monitor.metrics.ingest import Delta, unpack_cell_key
from heron.monitor.metrics.periods import CellSet

_OFFSET = np.int64(2**31)
_LOW = np.int64(0xFFFFFFFF)
_TAIL_MAX = 1 << 17


class MemTable:
    """Cells not yet merged into the database, with their sketches."""

    cell: sketch.I64
    n: sketch.F64
    s: sketch.F64
    mn: sketch.F64
    mx: sketch.F64
    flags: npt.NDArray[np.uint8]

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}
        self.size = 0
        self._alloc(1024)
        self._main = np.empty(0, np.int64)
        self._main_counts = np.empty(0, np.float64)
        self._tail: list[sketch.I64] = []
        self._tail_counts: list[sketch.F64] = []
        self._tail_size = 0
        self._sorted: tuple[sketch.I64, sketch.I64] | None = None  # (cell keys sorted, rows)

    def _alloc(self, capacity: int) -> None:
        old = self.size
        cell, n, s = np.empty(capacity, np.int64), np.zeros(capacity), np.zeros(capacity)
        mn, mx = np.full(capacity, np.inf), np.full(capacity, -np.inf)
        flags = np.zeros(capacity, np.uint8)
        if old:
            cell[:old], n[:old], s[:old] = self.cell[:old], self.n[:old], self.s[:old]
            mn[:old], mx[:old], flags[:old] = self.mn[:old], self.mx[:old], self.flags[:old]
        self.cell, self.n, self.s, self.mn, self.mx, self.flags = cell, n, s, mn, mx, flags

    def __len__(self) -> int:
        return self.size

    @property
    def bucket_count(self) -> int:
        """Sketch entries held (main plus unfolded tail)."""
        return len(self._main) + self._tail_size

    def apply(self, delta: Delta) -> None:
        """Merge a delta's cells and buckets into memory."""
        keys = delta.cells.tolist()
        # map() calls dict.get(key, -1) without a Python frame per cell.
        rows = np.fromiter(map(self._rows.get, keys, repeat(-1)), np.int64, len(keys))
        new = rows < 0
        count_new = int(new.sum())
        if count_new:
            if self.size + count_new > len(self.cell):
                self._alloc(max(2 * len(self.cell), self.size + count_new))
            fresh = np.arange(self.size, self.size + count_new, dtype=np.int64)
            rows[new] = fresh
            self.cell[fresh] = delta.cells[new]
            self._rows.update(zip(delta.cells[new].tolist(), fresh.tolist(), strict=False))
            self.size += count_new
            self._sorted = None
        self.n[rows] += delta.n
        self.s[rows] += delta.s
        self.mn[rows] = np.minimum(self.mn[rows], delta.mn)
        self.mx[rows] = np.maximum(self.mx[rows], delta.mx)
        self.flags[rows] |= delta.flags
        if len(delta.buckets):
            packed = (rows[delta.buckets >> 32] << 32) | (delta.buckets & _LOW)
            self._tail.append(packed)
            self._tail_counts.append(delta.bucket_counts)
            self._tail_size += len(packed)
            if self._tail_size > _TAIL_MAX:
                self._fold()

    def _fold(self) -> None:
        """Fold the tail into the sorted, reduced main run."""
        if not self._tail:
            return
        keys = np.concatenate([self._main, *self._tail])
        counts = np.concatenate([self._main_counts, *self._tail_counts])
        self._main, self._main_counts = sketch.reduce_unsorted(keys, counts)
        self._tail, self._tail_counts, self._tail_size = [], [], 0

    def _buckets(self, rows: sketch.I64) -> tuple[sketch.I64, sketch.F64]:
        """Packed buckets (sorted, reduced) of ascending ``rows``."""
        if self._tail_size > _TAIL_MAX // 4:
            self._fold()
        lo = np.searchsorted(self._main, rows << 32)
        hi = np.searchsorted(self._main, (rows + 1) << 32)
        lengths = hi - lo
        total = int(lengths.sum())
        idx = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        keys, counts = self._main[idx], self._main_counts[idx]
        if self._tail:
            tail = np.concatenate(self._tail)
            pick = np.isin(tail >> 32, rows)
            if pick.any():
                keys = np.concatenate([keys, tail[pick]])
                counts = np.concatenate([counts, np.concatenate(self._tail_counts)[pick]])
                keys, counts = sketch.reduce_unsorted(keys, counts)
        return keys, counts

    def _cellset(self, rows: sketch.I64) -> CellSet:
        keys, counts = self._buckets(rows)
        offsets = np.searchsorted(keys >> 32, np.append(rows, rows[-1] + 1 if len(rows) else 0))
        _, _, t = unpack_cell_key(self.cell[rows])
        return CellSet(
            t, self.n[rows], self.s[rows], self.mn[rows], self.mx[rows], self.flags[rows],
            offsets.astype(np.int64), ((keys & _LOW) - _OFFSET).astype(np.int32), counts,
        )  # fmt: skip

    def select(self, series: sketch.I64, t0: int, t1: int) -> tuple[sketch.I64, CellSet]:
        """Cells of any of ``series`` starting in [t0, t1): (series per cell, cells), in row
        order."""
        if not self.size:
            return np.empty(0, np.int64), CellSet.empty()
        if self._sorted is None:
            # Rebuilt only when new cells arrived: a query of 500 series then finds each one
            # by binary search instead of scanning every cell 500 times.
            order = np.argsort(self.cell[: self.size], kind="stable")
            self._sorted = (self.cell[order], order.astype(np.int64))
        keys, order = self._sorted
        series = np.unique(series)
        a = np.searchsorted(keys, series << 36)
        b = np.searchsorted(keys, (series + 1) << 36)
        lengths = b - a
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if len(ends) else 0
        rows = order[np.repeat(a - ends + lengths, lengths) + np.arange(total, dtype=np.int64)]
        _, _, t = unpack_cell_key(self.cell[rows])
        keep = (t >= t0) & (t < t1)
        rows = np.sort(rows[keep])
        return self.cell[rows] >> 36, self._cellset(rows)

    def drain(self) -> tuple[sketch.I64, CellSet]:
        """Every cell (packed keys, cells) for a flush; the caller clears afterwards."""
        rows = np.arange(self.size, dtype=np.int64)
        return self.cell[: self.size].copy(), self._cellset(rows)

    def clear(self) -> None:
        """Forget everything (after a flush committed it to the database)."""
        self.__init__()  # type: ignore[misc]
