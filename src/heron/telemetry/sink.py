"""Telemetry sinks: a durable SQLite sink (the default until the monitor lands) and an in-memory one.

The durable sink group-commits: ``put_*`` only appends to a buffer, and a writer thread commits
the buffer in one transaction every ``commit_interval_s`` (or as soon as it holds
``max_buffer`` records), so the request path never waits on ``fsync``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

import orjson

from heron.types import Dimensions, LogEvent, MetricDatum

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_events (
    id INTEGER PRIMARY KEY,
    log_group TEXT NOT NULL,
    log_stream TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_by_group ON log_events (log_group, timestamp_ms);
CREATE TABLE IF NOT EXISTS metric_datums (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    storage_resolution INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_datums_by_name ON metric_datums (namespace, name, timestamp_ms);
"""


class MemorySink:
    """Keeps every log event and datum in lists; for tests and for ``heron invoke``."""

    def __init__(self) -> None:
        self.log_events: list[LogEvent] = []
        self.datums: list[MetricDatum] = []
        self._lock = threading.Lock()

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Append log events."""
        with self._lock:
            self.log_events.extend(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Append metric datums."""
        with self._lock:
            self.datums.extend(datums)

    def flush(self) -> None:
        """Nothing to flush: memory is the destination."""

    def close(self) -> None:
        """Nothing to release."""

    def messages(self, group: str) -> list[str]:
        """The messages logged to ``group``, in arrival order."""
        with self._lock:
            return [e.message for e in self.log_events if e.group == group]

    def values(
        self, namespace: str, name: str, dimensions: Dimensions | None = None
    ) -> list[float]:
        """The values of one metric, optionally restricted to one exact dimension set."""
        with self._lock:
            return [
                d.value
                for d in self.datums
                if d.namespace == namespace
                and d.name == name
                and (dimensions is None or d.dimensions == dimensions)
            ]


class SqliteSink:
    """Writes telemetry durably to ``<data-dir>/telemetry.db`` with background group commit."""

    def __init__(
        self, path: Path, *, commit_interval_s: float = 0.05, max_buffer: int = 5000
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._commit_interval_s = commit_interval_s
        self._max_buffer = max_buffer
        self._logs: list[tuple[str, str, int, str]] = []
        self._datums: list[tuple[str, str, str, float, str, int, int]] = []
        self._enqueued = 0
        self._committed = 0
        self._closed = False
        self._cond = threading.Condition()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        self._writer = threading.Thread(target=self._run, name="heron-telemetry-sink", daemon=True)
        self._writer.start()

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Buffer log events for the next group commit."""
        rows = [(e.group, e.stream, e.timestamp_ms, e.message) for e in events]
        with self._cond:
            self._check_open()
            self._logs.extend(rows)
            self._enqueued += len(rows)
            if len(self._logs) + len(self._datums) >= self._max_buffer:
                self._cond.notify_all()

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Buffer metric datums for the next group commit."""
        rows = [
            (
                d.namespace,
                d.name,
                orjson.dumps(d.dimensions).decode(),
                d.value,
                d.unit,
                d.timestamp_ms,
                d.storage_resolution,
            )
            for d in datums
        ]
        with self._cond:
            self._check_open()
            self._datums.extend(rows)
            self._enqueued += len(rows)
            if len(self._logs) + len(self._datums) >= self._max_buffer:
                self._cond.notify_all()

    def flush(self) -> None:
        """Block until everything buffered before this call is committed to disk."""
        with self._cond:
            target = self._enqueued
            self._cond.notify_all()
            while self._committed < target and self._writer.is_alive():
                self._cond.wait(timeout=1.0)

    def close(self) -> None:
        """Commit what is buffered, stop the writer thread and close the database."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._writer.join()
        self._conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"telemetry sink {self.path} is closed")

    def _run(self) -> None:
        while True:
            with self._cond:
                if not (self._logs or self._datums or self._closed):
                    self._cond.wait(timeout=self._commit_interval_s)
                logs, self._logs = self._logs, []
                datums, self._datums = self._datums, []
                closing_now = self._closed
            if logs or datums:
                self._commit(logs, datums)
                with self._cond:
                    self._committed += len(logs) + len(datums)
                    self._cond.notify_all()
            if closing_now and not logs and not datums:
                return

    def _commit(
        self,
        logs: list[tuple[str, str, int, str]],
        datums: list[tuple[str, str, str, float, str, int, int]],
    ) -> None:
        self._conn.execute("BEGIN")
        if logs:
            self._conn.executemany(
                "INSERT INTO log_events (log_group, log_stream, timestamp_ms, message)"
                " VALUES (?, ?, ?, ?)",
                logs,
            )
        if datums:
            self._conn.executemany(
                "INSERT INTO metric_datums (namespace, name, dimensions, value, unit,"
                " timestamp_ms, storage_resolution) VALUES (?, ?, ?, ?, ?, ?, ?)",
                datums,
            )
        self._conn.execute("COMMIT")


def read_log_events(path: Path, group: str | None = None) -> Iterator[LogEvent]:
    """Read log events back from a sink database, in commit order (for tests and tools)."""
    with closing(sqlite3.connect(path)) as conn:
        sql = "SELECT log_group, log_stream, timestamp_ms, message FROM log_events"
        rows = (
            conn.execute(sql + " WHERE log_group = ? ORDER BY id", (group,))
            if group is not None
            else conn.execute(sql + " ORDER BY id")
        )
        for g, s, t, m in rows.fetchall():
            yield LogEvent(g, s, t, m)


def read_metric_datums(path: Path, namespace: str, name: str) -> Iterator[MetricDatum]:
    """Read one metric's datums back from a sink database (for tests and tools)."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT dimensions, value, unit, timestamp_ms, storage_resolution FROM metric_datums"
            " WHERE namespace = ? AND name = ? ORDER BY id",
            (namespace, name),
        ).fetchall()
    for dims, value, unit, ts, res in rows:
        dimensions: Dimensions = tuple((str(k), str(v)) for k, v in orjson.loads(dims))
        yield MetricDatum(namespace, name, value, unit, dimensions, ts, res)
