"""Compaction: roll expired cells up a level, seal finished hours into blocks, drop the oldest.

Each step works in bounded chunks, one transaction each, and takes the store's writer role per
chunk rather than for the whole pass, so a large backlog (a day of backfilled data sealed at once)
never holds up ingestion for longer than one chunk.
"""

from __future__ import annotations

import bisect
import threading

import numpy as np

from heron.monitor.metrics import retention
from heron.monitor.metrics.cell_codec import (
    BLOCK_S,
    CellRow,
    block_rows,
    cell_rows,
    cellset_from_rows,
    decode_blocks,
)
from heron.monitor.metrics.db import MetricDB
from heron.monitor.metrics.periods import CellSet
from heron.monitor.metrics.rollup import roll_up

#: An hour is sealed this long after it ends, so datapoints still in flight land first.
SEAL_AFTER_S = 120
#: Cells rows per seal or roll-up transaction.
ROW_CHUNK = 50_000
#: Blocks per roll-up transaction (a 1-second block holds up to 3,600 cells).
BLOCK_CHUNK = 200

_LEVELS = range(len(retention.LEVEL_WIDTH))


def compact(db: MetricDB, writer: threading.Lock, now_s: int) -> None:
    """Roll every level up on CloudWatch's schedule, seal finished hours, expire the oldest."""
    last = len(retention.LEVEL_WIDTH) - 1
    for level in range(last):
        cutoff = retention.rollup_cutoff(level, now_s)
        _roll_up_rows(db, writer, level, cutoff)
        _roll_up_blocks(db, writer, level, cutoff)
    horizon = seal_horizon(now_s)
    for level in _LEVELS:
        seal(db, writer, level, horizon)
    cutoff = retention.rollup_cutoff(last, now_s)
    with writer:
        db.expire(last, cutoff)
        with db.transaction():
            db.expire_blocks(last, cutoff)


def seal_horizon(now_s: int) -> int:
    """Hours starting before this second are over (and settled) and may be sealed."""
    return (now_s - SEAL_AFTER_S) // BLOCK_S * BLOCK_S


def seal(db: MetricDB, writer: threading.Lock, level: int, horizon: int) -> int:
    """Move the rows of ``level`` starting before ``horizon`` into blocks; how many moved.

    A row for an hour that already has a block (a late datapoint) is merged into it.
    """
    lo, moved = -(2**62), 0
    while True:
        with writer:
            rows = db.level_cell_range(level, lo, horizon, ROW_CHUNK)
            if not rows:
                return moved
            hi = horizon
            if len(rows) == ROW_CHUNK:
                # Rows come by start: stop before the last start, which may continue past the
                # limit, unless the whole chunk shares it (then take all of that second).
                last = rows[-1][1]
                cut = bisect.bisect_left([r[1] for r in rows], last)
                if cut:
                    rows, hi = rows[:cut], last
                else:
                    rows, hi = db.level_cell_range(level, last, last + 1, None), last + 1
            series = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            cells = cellset_from_rows([r[1:] for r in rows])
            with db.transaction():
                _merge_into_blocks(db, level, series, cells, lo, hi)
            moved += len(rows)
            lo = hi


def _merge_into_blocks(
    db: MetricDB, level: int, series: np.ndarray, cells: CellSet, lo: int, hi: int
) -> None:
    starts = cells.t // BLOCK_S * BLOCK_S
    keys = sorted(set(zip(series.tolist(), starts.tolist(), strict=True)))
    existing = db.blocks_at(level, keys)
    if existing:
        sids, cell_blobs, sketch_blobs = zip(*existing, strict=True)
        per_block, old = decode_blocks(cell_blobs, sketch_blobs)
        series = np.concatenate([np.repeat(np.asarray(sids, np.int64), per_block), series])
        cells = CellSet.concat([old, cells])
    # Merging at the level's own width sorts by (series, start) and folds repeated starts.
    merged_series, merged = roll_up(series, cells, retention.LEVEL_WIDTH[level])
    db.put_blocks(block_rows(merged_series, level, merged))
    db.delete_cell_range(level, lo, hi)


def _one_level_up(series: np.ndarray, cells: CellSet, level: int) -> list[CellRow]:
    """Rows of ``level + 1`` merging ``cells`` (of ``level``) into that level's wider cells."""
    out_series, merged = roll_up(series, cells, retention.LEVEL_WIDTH[level + 1])
    return cell_rows(out_series, np.full(len(out_series), level + 1, np.int64), merged)


def _roll_up_rows(db: MetricDB, writer: threading.Lock, level: int, cutoff: int) -> None:
    while True:
        with writer:
            rows = db.level_cells(level, cutoff, ROW_CHUNK)
            if not rows:
                return
            series = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            up = _one_level_up(series, cellset_from_rows([r[1:] for r in rows]), level)
            db.rollup(up, level, [(r[0], r[1]) for r in rows])


def _roll_up_blocks(db: MetricDB, writer: threading.Lock, level: int, cutoff: int) -> None:
    """Whole blocks of ``level`` that ended by ``cutoff`` become rows one level up."""
    while True:
        with writer:
            blocks = db.blocks_before(level, cutoff, BLOCK_CHUNK)
            if not blocks:
                return
            sids, starts, cell_blobs, sketch_blobs = zip(*blocks, strict=True)
            per_block, cells = decode_blocks(cell_blobs, sketch_blobs)
            series = np.repeat(np.asarray(sids, np.int64), per_block)
            rows = _one_level_up(series, cells, level)
            keys = list(zip(sids, starts, strict=True))
            with db.transaction():
                db.delete_blocks(level, keys)
                db.upsert_cells(rows)
