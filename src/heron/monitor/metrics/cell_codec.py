"""Cells to and from their SQLite forms: one row per cell, or one block per series and hour.

Recent cells live one row each in ``cells`` (an upsert merges late data into them). Once an hour
is over, compaction *seals* it: every cell of a series in that hour, at one level, is packed into
one ``blocks`` row of two blobs — the cells as fixed-width records (``CELL``) and their sketches
end to end (``sketch.RECORD``). A 24-hour read of one series is then about 25 rows whose blobs
numpy decodes in one pass, instead of 1,440 rows turned into Python objects one value at a time.

Reads merge blocks and rows into one canonical order — by series, then start second, then level,
blocks before rows at equal keys — so every path (one series, many series) sees the same cells
in the same order and sums them identically.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from heron.monitor.metrics import sketch
from heron.monitor.metrics.periods import CellSet

#: Seconds of cells one block holds (at every level), aligned to multiples of it.
BLOCK_S = 3600

#: One sealed cell: start second, statistics, flags and how many sketch records follow.
CELL = np.dtype(
    [("t", "<i8"), ("n", "<f8"), ("s", "<f8"), ("mn", "<f8"), ("mx", "<f8"), ("flags", "u1"),
     ("nk", "<i4")]
)  # fmt: skip

#: A row of the ``cells`` table: (series, t, level, n, s, mn, mx, flags, sketch).
CellRow = tuple[int, int, int, float, float, float, float, int, bytes]
#: A row of the ``blocks`` table: (series, start, level, cells blob, sketches blob).
BlockRow = tuple[int, int, int, bytes, bytes]


def cellset_from_rows(rows: Sequence[Sequence[object]]) -> CellSet:
    """Build a CellSet from ``(t, n, s, mn, mx, flags, sketch)`` rows."""
    if not rows:
        return CellSet.empty()
    t, n, s, mn, mx, flags, blobs = zip(*rows, strict=True)
    return cellset_from_columns(t, n, s, mn, mx, flags, blobs)


def cellset_from_columns(
    t: Sequence[object],
    n: Sequence[object],
    s: Sequence[object],
    mn: Sequence[object],
    mx: Sequence[object],
    flags: Sequence[object],
    blobs: Sequence[bytes] | None,
) -> CellSet:
    """A CellSet from column sequences; ``blobs`` None: cells without sketches (basic reads)."""
    if blobs is None:
        keys, counts = np.empty(0, np.int32), np.empty(0, np.float64)
        sizes = np.zeros(len(t), np.int64)
    else:
        keys, counts = sketch.decode(b"".join(blobs))
        sizes = np.fromiter((len(b) for b in blobs), np.int64, len(blobs))
        sizes //= sketch.RECORD.itemsize
    return CellSet(
        np.asarray(t, np.int64), np.asarray(n, np.float64), np.asarray(s, np.float64),
        np.asarray(mn, np.float64), np.asarray(mx, np.float64), np.asarray(flags, np.uint8),
        np.concatenate(([0], np.cumsum(sizes))).astype(np.int64), keys, counts,
    )  # fmt: skip


def cell_rows(series: sketch.I64, levels: sketch.I64, cells: CellSet) -> list[CellRow]:
    """Rows ready for the cells upsert (one per cell)."""
    off = cells.offsets.tolist()
    raw = _sketch_bytes(cells)
    width = sketch.RECORD.itemsize
    return list(
        zip(
            series.tolist(), cells.t.tolist(), levels.tolist(), cells.n.tolist(),
            cells.s.tolist(), cells.mn.tolist(), cells.mx.tolist(), cells.flags.tolist(),
            [raw[a * width : b * width] for a, b in itertools.pairwise(off)],
            strict=True,
        )
    )  # fmt: skip


def _sketch_bytes(cells: CellSet) -> bytes:
    rec = np.empty(len(cells.keys), sketch.RECORD)
    rec["k"], rec["c"] = cells.keys, cells.counts
    return rec.tobytes()


def block_rows(series: sketch.I64, level: int, cells: CellSet) -> list[BlockRow]:
    """One block row per (series, hour) of ``cells``, which must be sorted by series then t."""
    if not len(cells):
        return []
    starts = cells.t // BLOCK_S * BLOCK_S
    edges = np.flatnonzero((series[1:] != series[:-1]) | (starts[1:] != starts[:-1])) + 1
    bounds = np.concatenate(([0], edges, [len(cells)])).tolist()
    rec = np.empty(len(cells), CELL)
    rec["t"], rec["n"], rec["s"], rec["mn"], rec["mx"] = (
        cells.t, cells.n, cells.s, cells.mn, cells.mx,
    )  # fmt: skip
    rec["flags"], rec["nk"] = cells.flags, np.diff(cells.offsets)
    cell_raw, sketch_raw = rec.tobytes(), _sketch_bytes(cells)
    cw, sw = CELL.itemsize, sketch.RECORD.itemsize
    off = cells.offsets.tolist()
    return [
        (int(series[a]), int(starts[a]), level, cell_raw[a * cw : b * cw],
         sketch_raw[off[a] * sw : off[b] * sw])
        for a, b in itertools.pairwise(bounds)
    ]  # fmt: skip


def decode_blocks(
    cell_blobs: Sequence[bytes], sketch_blobs: Sequence[bytes] | None
) -> tuple[sketch.I64, CellSet]:
    """(cells per block, the blocks' cells end to end); without sketch blobs, no sketches."""
    rec = np.frombuffer(b"".join(cell_blobs), CELL)
    per_block = np.fromiter((len(b) for b in cell_blobs), np.int64, len(cell_blobs))
    per_block //= CELL.itemsize
    if sketch_blobs is None:
        keys, counts = np.empty(0, np.int32), np.empty(0, np.float64)
        offsets = np.zeros(len(rec) + 1, np.int64)
    else:
        keys, counts = sketch.decode(b"".join(sketch_blobs))
        offsets = np.concatenate(([0], np.cumsum(rec["nk"], dtype=np.int64)))
    cells = CellSet(
        rec["t"].copy(), rec["n"].copy(), rec["s"].copy(), rec["mn"].copy(), rec["mx"].copy(),
        rec["flags"].copy(), offsets, keys, counts,
    )  # fmt: skip
    return per_block, cells


def canonical(
    series: sketch.I64, levels: sketch.I64, cells: CellSet
) -> tuple[sketch.I64, sketch.I64, CellSet]:
    """The cells ordered by (series, t, level), stable, so blocks stay before rows at ties."""
    if len(cells) < 2:
        return series, levels, cells
    order_key = cells.t * 4 + levels
    ordered = (series[1:] > series[:-1]) | (
        (series[1:] == series[:-1]) & (order_key[1:] >= order_key[:-1])
    )
    if bool(ordered.all()):
        return series, levels, cells
    order = np.lexsort((order_key, series))
    return series[order], levels[order], cells.take(order)
