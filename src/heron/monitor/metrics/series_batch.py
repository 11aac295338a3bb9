"""Many ``series`` queries answered together: one gather of their cells, one pass per statistic.

A scheduler round asks for thousands of (series, window, period, statistic) reads. Answering
each alone costs a database query and a ``PeriodView`` per read; here the cells of all reads that
share a period are read at once, each read's cells are picked out in exactly the order
``MetricStore.series`` would see them (stored cells series by series in start order, then
in-memory cells in row order), and one keyed ``PeriodView`` per statistic evaluates every read's
periods in one vectorized pass. Same cells in the same order give the same sums, so the results
equal the one-at-a-time answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from heron.monitor.metrics import sketch
from heron.monitor.metrics.periods import CellSet, PeriodView
from heron.monitor.metrics.statistics import Statistic

Result = tuple[list[int], list[float]]
_LOW32 = np.int64(0xFFFFFFFF)
#: Above this total count a running sum of counts could round; such sets are evaluated alone.
_EXACT_TOTAL = float(2**52)


@dataclass(frozen=True, slots=True)
class Read:
    """One read of a batch: its series ids, window [t0, t1) in seconds and statistic."""

    sids: Sequence[int]
    t0: int
    t1: int
    stat: Statistic


def _runs(sorted_keys: sketch.I64, lo: sketch.I64, hi: sketch.I64) -> sketch.I64:
    """Positions ``[a, b)`` of ``sorted_keys`` between each ``lo``/``hi`` pair, concatenated."""
    a = np.searchsorted(sorted_keys, lo, side="left")
    b = np.searchsorted(sorted_keys, hi, side="left")
    lengths = np.maximum(b - a, 0)
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(a - ends + lengths, lengths) + np.arange(total, dtype=np.int64)


def gather(
    reads: Sequence[Read],
    stored: tuple[sketch.I64, CellSet],
    memory: tuple[sketch.I64, CellSet],
) -> tuple[CellSet, sketch.I64]:
    """Every read's cells, read after read, and the read (position in ``reads``) of each cell.

    ``stored`` is (series per cell, cells) ordered by series then start; ``memory`` is
    (series per cell, cells) in memtable row order. Windows must lie inside the fetched ranges.
    """
    pair_read = np.asarray([i for i, r in enumerate(reads) for _ in r.sids], np.int64)
    pair_sid = np.asarray([s for r in reads for s in r.sids], np.int64)
    t0 = np.asarray([r.t0 for r in reads], np.int64)
    t1 = np.asarray([r.t1 for r in reads], np.int64)
    # Stored cells: (series, start) sorted, so a read's series/window is one contiguous run.
    db_sid, db_cells = stored
    packed = (db_sid << 32) | db_cells.t
    lo = (pair_sid << 32) | t0[pair_read]
    hi = (pair_sid << 32) | t1[pair_read]
    db_rows = _runs(packed, lo, hi)
    spans = np.searchsorted(packed, hi) - np.searchsorted(packed, lo)
    db_read = np.repeat(pair_read, np.maximum(spans, 0))
    # In-memory cells: pick each read's series, keep its window, restore row order per read.
    mem_sid, mem_cells = memory
    order = np.argsort(mem_sid, kind="stable")
    mem_sorted = mem_sid[order]
    mem_pos = _runs(mem_sorted, pair_sid, pair_sid + 1)
    spans = np.searchsorted(mem_sorted, pair_sid + 1) - np.searchsorted(mem_sorted, pair_sid)
    mem_read = np.repeat(pair_read, spans)
    mem_rows = order[mem_pos]
    t = mem_cells.t[mem_rows]
    keep = (t >= t0[mem_read]) & (t < t1[mem_read])
    mem_rows, mem_read = mem_rows[keep], mem_read[keep]
    by_row = np.lexsort((mem_rows, mem_read))
    mem_rows, mem_read = mem_rows[by_row], mem_read[by_row]
    # Read after read: its stored cells, then its in-memory cells (as ``series`` concatenates).
    pool = CellSet.concat([db_cells, mem_cells])
    rows = np.concatenate([db_rows, mem_rows + len(db_cells)])
    owner = np.concatenate([db_read, mem_read])
    phase = np.concatenate([np.zeros(len(db_rows), np.int64), np.ones(len(mem_rows), np.int64)])
    final = np.argsort(owner * 2 + phase, kind="stable")
    return pool.take(rows[final]), owner[final]


def evaluate(
    reads: Sequence[Read], period_s: int, cells: CellSet, owner: sketch.I64
) -> list[Result]:
    """Each read's (period-start ms, value) lists from ``gather``'s cells, one pass per statistic."""
    out: list[Result] = [([], []) for _ in reads]
    by_stat: dict[Statistic, list[int]] = defaultdict(list)
    for i, read in enumerate(reads):
        by_stat[read.stat].append(i)
    t0 = np.asarray([r.t0 for r in reads], np.int64)
    bounds = np.searchsorted(owner, np.arange(len(reads) + 1))
    for stat, members in by_stat.items():
        chosen = np.asarray(members, np.int64)
        lo, hi = bounds[chosen], bounds[chosen + 1]
        lengths = hi - lo
        ends = np.cumsum(lengths)
        rows = np.repeat(lo - ends + lengths, lengths) + np.arange(int(ends[-1]), dtype=np.int64)
        part = cells.take(rows)
        slot = np.repeat(np.arange(len(members), dtype=np.int64), lengths)
        start = t0[chosen][slot]
        if not stat.basic and not _exact_counts(part):
            for k, i in enumerate(members):
                piece = part.take(np.arange(ends[k] - lengths[k], ends[k], dtype=np.int64))
                view = PeriodView(piece, reads[i].t0, period_s)
                values = view.evaluate(stat)
                ok = ~np.isnan(values)
                out[i] = (view.timestamps_s[ok] * 1000).tolist(), values[ok].tolist()
            continue
        view = PeriodView.keyed(part, (slot << 32) | ((part.t - start) // period_s))
        values = view.evaluate(stat)
        ok = ~np.isnan(values)
        keys = view.periods[ok]
        key_slot = keys >> 32
        stamps = ((t0[chosen][key_slot] + (keys & _LOW32) * period_s) * 1000).tolist()
        kept = values[ok].tolist()
        cut = np.searchsorted(key_slot, np.arange(len(members) + 1)).tolist()
        for k, i in enumerate(members):
            out[i] = stamps[cut[k] : cut[k + 1]], kept[cut[k] : cut[k + 1]]
    return out


def _exact_counts(cells: CellSet) -> bool:
    """Whether running sums of the sketch counts are exact (whole numbers, small total).

    One pass over many reads accumulates counts across reads; with whole counts below 2**52
    that cannot round, so ranks land exactly where a read on its own would put them.
    """
    counts = cells.counts
    return bool(np.all(counts == np.floor(counts))) and float(counts.sum()) < _EXACT_TOTAL
