"""Roll-up: merge finer cells into coarser ones (exactly — stats add, sketches add per key)."""

from __future__ import annotations

import numpy as np

from heron.monitor.metrics import sketch
from heron.monitor.metrics.periods import CellSet

_OFFSET = np.int64(2**31)


def roll_up(series: sketch.I64, cells: CellSet, width: int) -> tuple[sketch.I64, CellSet]:
    """Merge ``cells`` (of ``series``) into cells ``width`` seconds wide: (series, cells)."""
    start = cells.t // width * width
    group_keys = (series << 33) | start
    groups, inv = np.unique(group_keys, return_inverse=True)
    g = len(groups)
    mn = np.full(g, np.inf)
    np.minimum.at(mn, inv, cells.mn)
    mx = np.full(g, -np.inf)
    np.maximum.at(mx, inv, cells.mx)
    flags = np.zeros(g, np.uint8)
    np.bitwise_or.at(flags, inv, cells.flags)
    owner = np.repeat(inv.astype(np.int64), np.diff(cells.offsets))
    packed, counts = sketch.reduce_unsorted(
        (owner << 32) | (cells.keys.astype(np.int64) + _OFFSET), cells.counts
    )
    offsets = np.searchsorted(packed >> 32, np.arange(g + 1)).astype(np.int64)
    merged = CellSet(
        groups & ((1 << 33) - 1),
        sketch.bincount(inv, cells.n, g),
        sketch.bincount(inv, cells.s, g),
        mn,
        mx,
        flags,
        offsets,
        ((packed & 0xFFFFFFFF) - _OFFSET).astype(np.int32),
        counts,
    )
    return groups >> 33, merged
