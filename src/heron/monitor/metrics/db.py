"""The metric store's SQLite file: metric index, delta journal, and aggregated cells.

Layout (``<data-dir>/metrics.db``, WAL):

* ``metrics`` — one row per metric: dense id, key, units bitmask, last-seen second;
* ``journal`` — one row per committed put: the aggregated ``Delta`` (never raw points); this is
  what makes an acknowledged put durable, and it is replayed into memory on open;
* ``cells`` — merged cell state per (series, start second, level) with its sketch; a flush merges
  the in-memory cells into it (upsert with a merge function) and deletes the journal rows it
  covered, in one transaction, so a crash at any point neither loses nor double-counts data.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heron.monitor.metrics import sketch
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

CellRow = tuple[int, int, int, float, float, float, float, int, bytes]


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.create_function("sketch_merge", 2, sketch.merge_blobs, deterministic=True)
    return conn


def cellset_from_rows(rows: Sequence[Sequence[object]]) -> CellSet:
    """Build a CellSet from ``(t, n, s, mn, mx, flags, sketch)`` rows."""
    if not rows:
        return CellSet.empty()
    t, n, s, mn, mx, flags, blobs = zip(*rows, strict=True)
    return _cellset_from_columns(t, n, s, mn, mx, flags, blobs)


def _cellset_from_columns(
    t: Sequence[object],
    n: Sequence[object],
    s: Sequence[object],
    mn: Sequence[object],
    mx: Sequence[object],
    flags: Sequence[object],
    blobs: Sequence[bytes] | None,
) -> CellSet:
    """``blobs`` None: the cells carry no sketches (reads for the basic statistics)."""
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
    rec = np.empty(len(cells.keys), sketch.RECORD)
    rec["k"], rec["c"] = cells.keys, cells.counts
    raw = rec.tobytes()
    width = sketch.RECORD.itemsize
    return list(
        zip(
            series.tolist(), cells.t.tolist(), levels.tolist(), cells.n.tolist(),
            cells.s.tolist(), cells.mn.tolist(), cells.mx.tolist(), cells.flags.tolist(),
            [raw[a * width : b * width] for a, b in itertools.pairwise(off)],
            strict=True,
        )
    )  # fmt: skip


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
        w.execute("BEGIN IMMEDIATE")
        try:
            w.executemany("INSERT OR IGNORE INTO metrics (id, key) VALUES (?, ?)", new_metrics)
            w.executemany("INSERT INTO journal (at, delta) VALUES (?, ?)", [(at, b) for b in blobs])
            last = w.execute("SELECT max(id) FROM journal").fetchone()[0]
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
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
        """Stored cells of one series starting in [t0, t1), in start order; without
        ``sketches`` (enough for the basic statistics) the sketch blobs are not read."""
        rows = self._r.execute(
            f"SELECT t, n, s, mn, mx, flags{', sketch' if sketches else ''} FROM cells"
            " WHERE series = ? AND t >= ? AND t < ? ORDER BY t",
            (series, t0, t1),
        ).fetchall()
        if not rows:
            return CellSet.empty()
        if sketches:
            return cellset_from_rows(rows)
        t, n, s, mn, mx, flags = zip(*rows, strict=True)
        return _cellset_from_columns(t, n, s, mn, mx, flags, None)

    def read_many(
        self, series: Sequence[int], t0: int, t1: int, *, sketches: bool = True
    ) -> tuple[sketch.I64, CellSet]:
        """Stored cells of any of ``series`` starting in [t0, t1): (series per cell, cells).

        Ordered by series, then start, so each series' cells are a contiguous run in the order
        ``read`` gives them. Without ``sketches`` the sketch blobs are not read.
        """
        rows: list[tuple[Any, ...]] = []
        ids = sorted(set(series))
        sketch_column = ", sketch" if sketches else ""
        for at in range(0, len(ids), _IN_CHUNK):
            chunk = ids[at : at + _IN_CHUNK]
            rows += self._r.execute(
                f"SELECT series, t, n, s, mn, mx, flags{sketch_column} FROM cells"
                f" WHERE series IN ({','.join('?' * len(chunk))}) AND t >= ? AND t < ?"
                " ORDER BY series, t, level",
                (*chunk, t0, t1),
            ).fetchall()
        if not rows:
            return np.empty(0, np.int64), CellSet.empty()
        sids, *columns = zip(*rows, strict=True)
        blobs = columns.pop() if sketches else None
        t, n, s, mn, mx, flags = columns
        return np.asarray(sids, np.int64), _cellset_from_columns(t, n, s, mn, mx, flags, blobs)

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
        w = self._w
        w.execute("BEGIN IMMEDIATE")
        try:
            self.delete_cells(level, keys)
            w.executemany(_UPSERT, rows)
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise

    def expire(self, level: int, before: int) -> int:
        """Drop cells of ``level`` starting before ``before``; how many went."""
        w = self._w
        cur = w.execute("DELETE FROM cells WHERE level = ? AND t < ?", (level, before))
        return cur.rowcount
