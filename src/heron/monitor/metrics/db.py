"""The metric store's SQLite file: metric index, delta journal, and aggregated cells.

Layout (``<data-dir>/metrics.db``, WAL):

* ``metrics`` — one row per metric: dense id, key, units bitmask, last-seen second;
* ``journal`` — one row per committed put: the aggregated ``Delta`` (never raw points); this is
  what makes an acknowledged put durable, and it is replayed into memory on open;
* ``cells`` — merged cell state per (series, start second, level) with its sketch; a flush merges
  the in-memory cells into it (upsert with a merge function) and deletes the journal rows it
  covered, in one transaction, so a crash at any point neither loses nor double-counts data;
* ``blocks`` — the cells of one series, level and hour packed into two blobs once the hour is
  over (``cell_codec``); compaction moves rows into blocks in one transaction, and a late
  datapoint for a sealed hour lands in ``cells`` again until the next compaction merges it in.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heron.monitor.metrics import sketch
from heron.monitor.metrics.cell_codec import (
    BLOCK_S,
    BlockRow,
    CellRow,
    canonical,
    cellset_from_columns,
    decode_blocks,
)
from heron.monitor.metrics.periods import CellSet

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    units INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    delta BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
    series INTEGER NOT NULL,
    t INTEGER NOT NULL,
    level INTEGER NOT NULL,
    n REAL NOT NULL,
    s REAL NOT NULL,
    mn REAL NOT NULL,
    mx REAL NOT NULL,
    flags INTEGER NOT NULL,
    sketch BLOB NOT NULL,
    PRIMARY KEY (series, t, level)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cells_by_level ON cells (level, t);
CREATE TABLE IF NOT EXISTS blocks (
    series INTEGER NOT NULL,
    start INTEGER NOT NULL,
    level INTEGER NOT NULL,
    cells BLOB NOT NULL,
    sketches BLOB NOT NULL,
    PRIMARY KEY (series, start, level)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_by_level ON blocks (level, start);
"""

_UPSERT = """
INSERT INTO cells (series, t, level, n, s, mn, mx, flags, sketch) VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT (series, t, level) DO UPDATE SET
    n = n + excluded.n, s = s + excluded.s, mn = min(mn, excluded.mn),
    mx = max(mx, excluded.mx), flags = flags | excluded.flags,
    sketch = sketch_merge(sketch, excluded.sketch)
"""

#: Series ids per ``IN (...)`` list, well under SQLite's bound-parameter limit.
_IN_CHUNK = 500


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.create_function("sketch_merge", 2, sketch.merge_blobs, deterministic=True)
    return conn


class MetricDB:
    """Owns the writer and reader connections; the store serializes access to each."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._w = _connect(path, synchronous)
        self._w.executescript(_SCHEMA)
        self._r = _connect(path, synchronous)

    def close(self) -> None:
        """Close both connections."""
        self._w.close()
        self._r.close()

    def metrics(self) -> list[tuple[int, str, int, int]]:
        """Every persisted metric ``(id, key, units, last_seen)`` by id."""
        return self._r.execute(
            "SELECT id, key, units, last_seen FROM metrics ORDER BY id"
        ).fetchall()

    def journal(self) -> list[tuple[int, int, bytes]]:
        """Journal rows ``(id, at, delta)`` in commit order."""
        return self._r.execute("SELECT id, at, delta FROM journal ORDER BY id").fetchall()

    def append(
        self, blobs: Sequence[bytes], new_metrics: Iterable[tuple[int, str]], at: int
    ) -> int:
        """Commit journal rows (and the metrics they introduce) in one transaction; last id."""
        w = self._w
        with self.transaction():
            w.executemany("INSERT OR IGNORE INTO metrics (id, key) VALUES (?, ?)", new_metrics)
            w.executemany("INSERT INTO journal (at, delta) VALUES (?, ?)", [(at, b) for b in blobs])
            last = w.execute("SELECT max(id) FROM journal").fetchone()[0]
        return int(last)

    def stage_merge(
        self, rows: Sequence[CellRow], metric_states: Iterable[tuple[int, int, int]], upto: int
    ) -> None:
        """Open a transaction merging ``rows`` into cells, saving metric states and trimming
        the journal up to ``upto``; the caller then calls ``commit`` (or ``rollback``)."""
        w = self._w
        w.execute("BEGIN IMMEDIATE")
        try:
            w.executemany(_UPSERT, rows)
            w.executemany(
                "UPDATE metrics SET units = ?, last_seen = ? WHERE id = ?",
                [(u, seen, mid) for mid, u, seen in metric_states],
            )
            w.execute("DELETE FROM journal WHERE id <= ?", (upto,))
        except BaseException:
            w.execute("ROLLBACK")
            raise

    def commit(self) -> None:
        """Commit the staged transaction."""
        self._w.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the staged transaction."""
        if self._w.in_transaction:
            self._w.execute("ROLLBACK")

    def read(self, series: int, t0: int, t1: int, *, sketches: bool = True) -> CellSet:
        """Stored cells of one series starting in [t0, t1), in canonical order (start, then
        level); without ``sketches`` (enough for the basic statistics) no sketch is read."""
        return self.read_many([series], t0, t1, sketches=sketches)[1]

    def read_many(
        self, series: Sequence[int], t0: int, t1: int, *, sketches: bool = True
    ) -> tuple[sketch.I64, CellSet]:
        """Stored cells of any of ``series`` starting in [t0, t1): (series per cell, cells).

        Sealed blocks and unsealed rows together, ordered by series, then start, then level,
        so each series' cells are a contiguous run in the order ``read`` gives them. Without
        ``sketches`` the sketch blobs are not read.
        """
        blocks: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        ids = sorted(set(series))
        sketch_column = ", sketch" if sketches else ""
        blob_column = ", sketches" if sketches else ""
        r = self._r
        r.execute("BEGIN")  # one snapshot: a seal moving rows into a block is seen whole or not
        try:
            for at in range(0, len(ids), _IN_CHUNK):
                chunk = ids[at : at + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                blocks += r.execute(
                    f"SELECT series, level, cells{blob_column} FROM blocks"
                    f" WHERE series IN ({marks}) AND start >= ? AND start < ?"
                    " ORDER BY series, start, level",
                    (*chunk, t0 // BLOCK_S * BLOCK_S, t1),
                ).fetchall()
                rows += r.execute(
                    f"SELECT series, level, t, n, s, mn, mx, flags{sketch_column} FROM cells"
                    f" WHERE series IN ({marks}) AND t >= ? AND t < ?"
                    " ORDER BY series, t, level",
                    (*chunk, t0, t1),
                ).fetchall()
        finally:
            r.execute("COMMIT")
        return _merge(blocks, rows, sketches, t0, t1)

    def level_cells(
        self, level: int, before: int, limit: int
    ) -> list[tuple[int, int, float, float, float, float, int, bytes]]:
        """Up to ``limit`` cells of ``level`` starting before ``before`` (series, t, ...)."""
        return self._w.execute(
            "SELECT series, t, n, s, mn, mx, flags, sketch FROM cells"
            " WHERE level = ? AND t < ? ORDER BY t LIMIT ?",
            (level, before, limit),
        ).fetchall()

    def delete_cells(self, level: int, keys: Sequence[tuple[int, int]]) -> None:
        """Delete specific cells of a level (inside the caller's transaction)."""
        self._w.executemany(
            "DELETE FROM cells WHERE series = ? AND t = ? AND level = ?",
            [(s, t, level) for s, t in keys],
        )

    def rollup(self, rows: Sequence[CellRow], level: int, keys: Sequence[tuple[int, int]]) -> None:
        """One transaction: merge rolled-up ``rows`` and delete their source cells."""
        with self.transaction():
            self.delete_cells(level, keys)
            self._w.executemany(_UPSERT, rows)

    def expire(self, level: int, before: int) -> int:
        """Drop cells of ``level`` starting before ``before``; how many went."""
        w = self._w
        cur = w.execute("DELETE FROM cells WHERE level = ? AND t < ?", (level, before))
        return cur.rowcount

    # -- sealed blocks -------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around the block: committed, or rolled back if it raises."""
        w = self._w
        w.execute("BEGIN IMMEDIATE")
        try:
            yield
            w.execute("COMMIT")
        except BaseException:
            if w.in_transaction:  # also when COMMIT itself failed
                w.execute("ROLLBACK")
            raise

    def level_cell_range(
        self, level: int, lo: int, hi: int, limit: int | None
    ) -> list[tuple[int, int, float, float, float, float, int, bytes]]:
        """Cells of ``level`` starting in [lo, hi) by start, at most ``limit`` (series, t, ...)."""
        return self._w.execute(
            "SELECT series, t, n, s, mn, mx, flags, sketch FROM cells"
            " WHERE level = ? AND t >= ? AND t < ? ORDER BY t LIMIT ?",
            (level, lo, hi, -1 if limit is None else limit),
        ).fetchall()

    def delete_cell_range(self, level: int, lo: int, hi: int) -> None:
        """Delete the cells of ``level`` starting in [lo, hi) (inside the caller's transaction)."""
        self._w.execute("DELETE FROM cells WHERE level = ? AND t >= ? AND t < ?", (level, lo, hi))

    def blocks_at(
        self, level: int, keys: Iterable[tuple[int, int]]
    ) -> list[tuple[int, bytes, bytes]]:
        """The existing blocks (series, cells, sketches) of ``level`` at (series, start) keys."""
        w = self._w
        found: list[tuple[int, bytes, bytes]] = []
        for sid, start in keys:
            row = w.execute(
                "SELECT cells, sketches FROM blocks WHERE series = ? AND start = ? AND level = ?",
                (sid, start, level),
            ).fetchone()
            if row is not None:
                found.append((sid, row[0], row[1]))
        return found

    def put_blocks(self, rows: Sequence[BlockRow]) -> None:
        """Write (replace) blocks (inside the caller's transaction)."""
        self._w.executemany(
            "INSERT OR REPLACE INTO blocks (series, start, level, cells, sketches)"
            " VALUES (?,?,?,?,?)",
            rows,
        )

    def blocks_before(
        self, level: int, before: int, limit: int
    ) -> list[tuple[int, int, bytes, bytes]]:
        """Up to ``limit`` blocks (series, start, cells, sketches) of ``level`` that end by
        ``before`` (whole blocks only), oldest first."""
        return self._w.execute(
            "SELECT series, start, cells, sketches FROM blocks"
            " WHERE level = ? AND start <= ? ORDER BY start LIMIT ?",
            (level, before - BLOCK_S, limit),
        ).fetchall()

    def upsert_cells(self, rows: Sequence[CellRow]) -> None:
        """Merge ``rows`` into cells (inside the caller's transaction)."""
        self._w.executemany(_UPSERT, rows)

    def expire_blocks(self, level: int, before: int) -> None:
        """Drop whole blocks of ``level`` that ended by ``before`` (inside the caller's
        transaction); a block ``before`` cuts through waits for the next pass."""
        self._w.execute(
            "DELETE FROM blocks WHERE level = ? AND start <= ?", (level, before - BLOCK_S)
        )

    def delete_blocks(self, level: int, keys: Sequence[tuple[int, int]]) -> None:
        """Delete blocks of ``level`` at (series, start) keys (inside the caller's transaction)."""
        self._w.executemany(
            "DELETE FROM blocks WHERE series = ? AND start = ? AND level = ?",
            [(sid, start, level) for sid, start in keys],
        )


def _merge(
    blocks: Sequence[tuple[Any, ...]],
    rows: Sequence[tuple[Any, ...]],
    sketches: bool,
    t0: int,
    t1: int,
) -> tuple[sketch.I64, CellSet]:
    """Blocks ``(series, level, cells[, sketches])`` and rows ``(series, level, t, n, s, mn,
    mx, flags[, sketch])`` as one canonical (series, cells) pair inside [t0, t1)."""
    series_parts: list[sketch.I64] = []
    level_parts: list[sketch.I64] = []
    cell_parts: list[CellSet] = []
    if blocks:
        b_series, b_levels, b_cells, *b_sketches = zip(*blocks, strict=True)
        per_block, cells = decode_blocks(b_cells, b_sketches[0] if sketches else None)
        series_parts.append(np.repeat(np.asarray(b_series, np.int64), per_block))
        level_parts.append(np.repeat(np.asarray(b_levels, np.int64), per_block))
        keep = (cells.t >= t0) & (cells.t < t1)  # blocks are read whole and may stick out
        if not bool(keep.all()):
            at = np.flatnonzero(keep)
            series_parts[0], level_parts[0], cells = (
                series_parts[0][at],
                level_parts[0][at],
                cells.take(at),
            )
        cell_parts.append(cells)
    if rows:
        r_series, r_levels, t, n, s, mn, mx, flags, *blobs = zip(*rows, strict=True)
        series_parts.append(np.asarray(r_series, np.int64))
        level_parts.append(np.asarray(r_levels, np.int64))
        cell_parts.append(
            cellset_from_columns(t, n, s, mn, mx, flags, blobs[0] if sketches else None)
        )
    if not cell_parts:
        return np.empty(0, np.int64), CellSet.empty()
    if not blocks:
        return series_parts[0], cell_parts[0]  # rows alone come back in canonical order
    ordered_series, _, cells = canonical(
        np.concatenate(series_parts), np.concatenate(level_parts), CellSet.concat(cell_parts)
    )
    return ordered_series, cells
