"""Stored cells merged into query periods, and every statistic evaluated over them.

A *cell* is the aggregated state of one series over one storage bucket (1 s, 60 s, 300 s or
3600 s): SampleCount, Sum, Minimum, Maximum, flags, and its percentile sketch. ``CellSet`` holds
many cells column-wise (sketches packed CSR-style); ``PeriodView`` groups them into periods and
answers any ``Statistic`` with one vectorized pass (no Python loop over periods or buckets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from heron.monitor.metrics import sketch
from heron.monitor.metrics.statistics import Statistic

U8 = npt.NDArray[np.uint8]

#: Cell flag: a negative value was stored (percentiles refused, as CloudWatch does).
FLAG_NEGATIVE = 1
#: Cell flag: a statistic set with SampleCount > 1 and Minimum != Maximum was stored.
FLAG_UNBUCKETED = 2

_OFFSET = np.int64(2**31)


def _floor(x: sketch.F64) -> sketch.F64:
    """Floor that forgives the last-bit error of ``p / 100 * n`` (28.999999999999996 -> 29)."""
    return np.floor(x + 1e-9 * np.maximum(1.0, np.abs(x)))


@dataclass(frozen=True, slots=True)
class CellSet:
    """Cells column-wise; cell ``i``'s sketch is ``keys/counts[offsets[i]:offsets[i+1]]``."""

    t: sketch.I64
    n: sketch.F64
    s: sketch.F64
    mn: sketch.F64
    mx: sketch.F64
    flags: U8
    offsets: sketch.I64
    keys: sketch.I32
    counts: sketch.F64

    @staticmethod
    def empty() -> CellSet:
        """A set with no cells."""
        f = np.empty(0, np.float64)
        return CellSet(
            np.empty(0, np.int64), f, f, f, f, np.empty(0, np.uint8),
            np.zeros(1, np.int64), np.empty(0, np.int32), f,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.t)

    @staticmethod
    def concat(parts: list[CellSet]) -> CellSet:
        """All cells of ``parts`` in one set (order kept)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return CellSet.empty()
        if len(parts) == 1:
            return parts[0]
        sizes = np.cumsum([0] + [len(p.keys) for p in parts[:-1]])
        offsets = np.concatenate(
            [parts[0].offsets[:1]]
            + [p.offsets[1:] + base for p, base in zip(parts, sizes, strict=False)]
        )
        return CellSet(
            np.concatenate([p.t for p in parts]),
            np.concatenate([p.n for p in parts]),
            np.concatenate([p.s for p in parts]),
            np.concatenate([p.mn for p in parts]),
            np.concatenate([p.mx for p in parts]),
            np.concatenate([p.flags for p in parts]),
            offsets.astype(np.int64),
            np.concatenate([p.keys for p in parts]),
            np.concatenate([p.counts for p in parts]),
        )

    def take(self, rows: sketch.I64) -> CellSet:
        """The cells at ``rows`` (in that order, repeats allowed) with their sketches."""
        lengths = np.diff(self.offsets)[rows]
        ends = np.cumsum(lengths)
        # Bucket positions of each taken cell: its old start plus 0..length-1, all at once.
        idx = np.repeat(self.offsets[:-1][rows] - ends + lengths, lengths) + np.arange(
            int(ends[-1]) if len(ends) else 0
        )
        return CellSet(
            self.t[rows], self.n[rows], self.s[rows], self.mn[rows], self.mx[rows],
            self.flags[rows], np.concatenate(([0], ends)).astype(np.int64),
            self.keys[idx], self.counts[idx],
        )  # fmt: skip


class PeriodView:
    """``cells`` grouped into periods ``start_s + k * period_s`` (cells stamped by their start)."""

    def __init__(self, cells: CellSet, start_s: int, period_s: int) -> None:
        self._group(cells, (cells.t - start_s) // period_s)
        self.timestamps_s: sketch.I64 = start_s + self.periods * period_s

    @classmethod
    def keyed(cls, cells: CellSet, keys: sketch.I64) -> PeriodView:
        """Cells grouped by arbitrary ``keys`` (one per cell; ``periods`` holds them sorted).

        This answers many series' periods in one pass (key = series slot and period index);
        ``timestamps_s`` is then the key itself, to be decoded by the caller.
        """
        view = cls.__new__(cls)
        view._group(cells, keys)
        view.timestamps_s = view.periods
        return view

    def _group(self, cells: CellSet, index: sketch.I64) -> None:
        self._cells = cells
        if len(index) and bool((index[1:] > index[:-1]).all()):
            # One cell per period already in order (a period as wide as the cells, the
            # common query): the groups are the cells themselves, no sort or scatter needed.
            self.periods, self._inv = index, np.arange(len(index), dtype=np.int64)
            self.n, self.s = cells.n + 0.0, cells.s + 0.0  # as a sum from 0.0 would: -0.0 -> 0.0
            self.mn, self.mx = cells.mn.astype(np.float64), cells.mx.astype(np.float64)
            self.flags = cells.flags.astype(np.uint8)
            return
        self.periods, self._inv = np.unique(index, return_inverse=True)
        g = len(self.periods)
        self.n = sketch.bincount(self._inv, cells.n, g)
        self.s = sketch.bincount(self._inv, cells.s, g)
        self.mn = np.full(g, np.inf)
        np.minimum.at(self.mn, self._inv, cells.mn)
        self.mx = np.full(g, -np.inf)
        np.maximum.at(self.mx, self._inv, cells.mx)
        self.flags = np.zeros(g, np.uint8)
        np.bitwise_or.at(self.flags, self._inv, cells.flags)

    def __len__(self) -> int:
        return len(self.periods)

    @cached_property
    def _merged(self) -> tuple[sketch.I64, sketch.F64, sketch.F64, sketch.I64]:
        """Sketches merged per period: (group, clamped value, count, first index per group)."""
        c = self._cells
        per_cell = np.diff(c.offsets)
        group = np.repeat(self._inv.astype(np.int64), per_cell)
        combined = (group << 32) | (c.keys.astype(np.int64) + _OFFSET)
        combined, counts = sketch.reduce_unsorted(combined, c.counts)
        group = combined >> 32
        keys = (combined & 0xFFFFFFFF) - _OFFSET
        values = np.clip(sketch.values_of(keys), self.mn[group], self.mx[group])
        starts = np.searchsorted(group, np.arange(len(self.periods) + 1))
        return group, values, counts, starts.astype(np.int64)

    def evaluate(self, stat: Statistic) -> sketch.F64:
        """The statistic per period; NaN where CloudWatch would give no value."""
        if stat.kind == "SampleCount":
            return self.n.copy()
        if stat.kind == "Sum":
            return self.s.copy()
        if stat.kind == "Average":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(self.n > 0, self.s / self.n, np.nan)
        if stat.kind == "Minimum":
            return self.mn.copy()
        if stat.kind == "Maximum":
            return self.mx.copy()
        if len(self.periods) == 0:
            return np.empty(0, np.float64)
        out = self._extended(stat)
        out[self.flags != 0] = np.nan
        return out

    def _extended(self, stat: Statistic) -> sketch.F64:
        group, _values, counts, _starts = self._merged
        total = sketch.bincount(group, counts, len(self.periods))
        if stat.kind == "p":
            return self._percentile(float(stat.high or 0.0), total)
        if stat.percent:
            return self._rank_range(stat, total)
        return self._value_range(stat, total)

    @cached_property
    def _cum(self) -> tuple[sketch.F64, sketch.F64]:
        """Running count over all merged buckets, and the running count before each period."""
        _, _, counts, starts = self._merged
        cum = np.cumsum(counts)
        return cum, np.concatenate(([0.0], cum))[starts[:-1]]

    def _value_at_rank(self, rank: sketch.F64) -> sketch.F64:
        """Value of the ``rank``-th smallest sample (1-based) in each period."""
        _, values, _, starts = self._merged
        if len(values) == 0:
            return np.full(len(rank), np.nan)
        cum, base = self._cum
        target = base + rank - 1e-9 * np.maximum(1.0, rank)
        idx = np.searchsorted(cum, target, side="left")
        idx = np.clip(idx, starts[:-1], np.maximum(starts[1:] - 1, starts[:-1]))
        return values[np.minimum(idx, len(values) - 1)]

    def _percentile(self, p: float, total: sketch.F64) -> sketch.F64:
        rank = np.maximum(1.0, np.ceil(p / 100.0 * total - 1e-9 * np.maximum(1.0, total)))
        out = self._value_at_rank(np.minimum(rank, total))
        if p == 0.0:
            out = self.mn.copy()
        elif p == 100.0:
            out = self.mx.copy()
        out[total <= 0] = np.nan
        return out

    def _rank_range(self, stat: Statistic, total: sketch.F64) -> sketch.F64:
        """TM/WM/TC/TS/PR with percentile bounds: samples of rank j with lo < j <= hi."""
        group, values, counts, _starts = self._merged
        lo = _floor((stat.low or 0.0) / 100.0 * total)
        hi = _floor((100.0 if stat.high is None else stat.high) / 100.0 * total)
        cum, base = self._cum
        upper = cum - base[group]
        lower = upper - counts
        w = np.maximum(
            0.0, _floor(np.minimum(upper, hi[group])) - _floor(np.maximum(lower, lo[group]))
        )
        g = len(total)
        tc = sketch.bincount(group, w, g)
        ts = sketch.bincount(group, w * values, g)
        return self._finish(stat, tc, ts, total, lo, hi)

    def _finish(
        self,
        stat: Statistic,
        tc: sketch.F64,
        ts: sketch.F64,
        total: sketch.F64,
        lo: sketch.F64,
        hi: sketch.F64,
    ) -> sketch.F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            if stat.kind == "TC":
                out = tc
            elif stat.kind == "TS":
                out = ts
            elif stat.kind == "PR":
                out = 100.0 * tc / total
            elif stat.kind == "TM":
                out = np.where(tc > 0, ts / tc, np.nan)
            else:  # WM: ranks below the range take the lowest kept value, above the highest
                first, last = lo + 1, hi
                v_first = self._value_at_rank(np.minimum(first, np.maximum(total, 1.0)))
                v_last = self._value_at_rank(np.maximum(last, 1.0))
                below, above = lo, total - hi
                out = (ts + below * v_first + above * v_last) / total
                out[last < first] = np.nan
        out = np.asarray(out, np.float64).copy()
        out[total <= 0] = np.nan
        return out

    def _value_range(self, stat: Statistic, total: sketch.F64) -> sketch.F64:
        """TM/WM/TC/TS/PR with absolute bounds: samples with low < v <= high."""
        group, values, counts, _ = self._merged
        low = -math.inf if stat.low is None else stat.low
        high = math.inf if stat.high is None else stat.high
        inside = (values > low) & (values <= high)
        g = len(total)
        w = counts * inside
        tc = sketch.bincount(group, w, g)
        ts = sketch.bincount(group, w * values, g)
        if stat.kind == "WM":
            clipped = np.clip(values, low, high)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = sketch.bincount(group, counts * clipped, g) / total
            out[total <= 0] = np.nan
            return np.asarray(out, np.float64)
        return self._finish(stat, tc, ts, total, np.zeros(g), total)
