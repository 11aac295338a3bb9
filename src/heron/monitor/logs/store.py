"""The log store: CloudWatch Logs groups, streams and events on SQLite, with metric extraction.

One SQLite file (``<data-dir>/logs.db``, WAL). Every write is one transaction and a call returns
only after it committed, so an acknowledged event survives ``kill -9``. After each commit the
events go through the group's metric filters (kept by ``store_filters``) and EMF extraction
into the MetricSink.
Events are ordered by (timestamp, insertion id); paging tokens encode that position.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.monitor.contracts import MetricSink
from heron.monitor.logs.chunk_upkeep import expire_group, migrate_event_rows
from heron.monitor.logs.chunks import LIMIT
from heron.monitor.logs.emf import EmfExtractor
from heron.monitor.logs.metric_filters import MetricFilter
from heron.monitor.logs.put_rules import BatchDecision, check_batch
from heron.monitor.logs.reading import (
    EventReads,
    EventsPage,
    FilterPage,
    decode_position,
    encode_position,
)
from heron.monitor.logs.samples import SampleBatch
from heron.monitor.logs.store_errors import (
    AlreadyExists,
    InvalidRequest,
    LimitExceeded,
    LogStoreError,
    NotFound,
)
from heron.monitor.logs.store_filters import MetricFilterStore
from heron.monitor.logs.store_sql import SCHEMA, GroupInfo, StreamInfo
from heron.monitor.logs.writing import EventWrites, WritePlan
from heron.monitor.wal_checkpointer import EVERY_BYTES, WalCheckpointer
from heron.types import Clock, LogEvent


@dataclass(frozen=True, slots=True)
class PutResult:
    """What PutLogEvents stored: how many events and the rejected ranges."""

    accepted: int
    decision: BatchDecision


__all__ = [
    "AlreadyExists",
    "EventsPage",
    "FilterPage",
    "InvalidRequest",
    "LimitExceeded",
    "LogStore",
    "LogStoreError",
    "NotFound",
    "PutResult",
    "decode_position",
    "encode_position",
]


class LogStore(EventReads, MetricFilterStore, EventWrites):
    """Log groups, streams, events and metric filters on one SQLite file."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Clock,
        sink: MetricSink | None = None,
        synchronous: str = "NORMAL",
    ) -> None:
        self.clock = clock
        self.sink = sink
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # Chunks are large rows: 16 KiB pages take a third off a commit (new files only).
        self._db.execute("PRAGMA page_size=16384")
        self._db.execute("PRAGMA journal_mode=WAL")
        # After a burst the WAL file is cut back to 64 MiB once checkpointed.
        self._db.execute("PRAGMA journal_size_limit=67108864")
        # NORMAL in WAL mode keeps every commit across a process crash (kill -9).
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(SCHEMA)
        migrate_event_rows(self._db)
        self._checkpointer: WalCheckpointer | None = None
        if str(path) != ":memory:":
            self._checkpointer = WalCheckpointer(Path(path))
            self._checkpointer.attach(self._db)
            weakref.finalize(self, self._checkpointer.close_soon)
        self._lock = threading.RLock()
        self._batch = SampleBatch()
        self.emf = EmfExtractor(self._batch)
        self._filters: dict[int, list[MetricFilter]] = {}
        self._group_ids: dict[str, int] = {}
        self._stream_ids: dict[tuple[int, str], int] = {}

    def close(self) -> None:
        """Close the database (after a last checkpoint)."""
        self._stop_committer()
        if self._checkpointer is not None:
            self._checkpointer.close()
        with self._lock:
            self._db.close()

    def now_ms(self) -> int:
        """The clock's time in epoch milliseconds."""
        return int(self.clock() * 1000)

    # --- groups and streams -------------------------------------------------------------

    def create_group(self, name: str, *, retention_days: int | None = None) -> None:
        """Create a log group (AlreadyExists if it exists)."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO log_groups(name, created_ms, retention_days) VALUES (?,?,?)",
                    (name, self.now_ms(), retention_days),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists("The specified log group already exists") from exc

    def delete_group(self, name: str) -> None:
        """Delete a log group with its streams, events and metric filters."""
        with self._lock:
            gid = self._group_id(name)
            self._db.execute("BEGIN IMMEDIATE")
            for table in ("log_chunks", "log_streams", "metric_filters"):
                self._db.execute(f"DELETE FROM {table} WHERE group_id=?", (gid,))
            self._db.execute("DELETE FROM log_groups WHERE id=?", (gid,))
            self._db.execute("COMMIT")
            self._committed(EVERY_BYTES)
            self._forget_group(name, gid)

    def _forget_group(self, name: str, gid: int) -> None:
        self._group_ids.pop(name, None)
        self._filters.pop(gid, None)
        for key in [k for k in self._stream_ids if k[0] == gid]:
            del self._stream_ids[key]

    def group(self, name: str) -> GroupInfo:
        """One group's description (NotFound if absent)."""
        groups = self.groups(exact=name)
        if not groups:
            raise NotFound("The specified log group does not exist.")
        return groups[0]

    def groups(self, prefix: str | None = None, *, exact: str | None = None) -> list[GroupInfo]:
        """Groups sorted by name, optionally only those starting with ``prefix``."""
        sql = (
            "SELECT g.name, g.created_ms, g.retention_days, g.stored_bytes,"
            " (SELECT count(*) FROM metric_filters f WHERE f.group_id=g.id) FROM log_groups g"
        )
        args: tuple[Any, ...] = ()
        if exact is not None:
            sql, args = sql + " WHERE g.name=?", (exact,)
        elif prefix:
            sql, args = (
                sql + " WHERE g.name >= ? AND substr(g.name, 1, ?) = ?",
                (
                    prefix,
                    len(prefix),
                    prefix,
                ),
            )
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY g.name", args).fetchall()
        return [GroupInfo(*row) for row in rows]

    def set_retention(self, name: str, days: int | None) -> None:
        """Set (or with None remove) a group's retention in days."""
        with self._lock:
            gid = self._group_id(name)
            self._db.execute("UPDATE log_groups SET retention_days=? WHERE id=?", (days, gid))

    def create_stream(self, group: str, stream: str) -> None:
        """Create a stream in ``group``."""
        with self._lock:
            gid = self._group_id(group)
            try:
                self._db.execute(
                    "INSERT INTO log_streams(group_id, name, created_ms) VALUES (?,?,?)",
                    (gid, stream, self.now_ms()),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists("The specified log stream already exists") from exc

    def delete_stream(self, group: str, stream: str) -> None:
        """Delete a stream and its events."""
        with self._lock:
            gid = self._group_id(group)
            sid = self._stream_id(gid, stream)
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT stored_bytes FROM log_streams WHERE id=?", (sid,))
            stored = row.fetchone()[0]
            self._db.execute("DELETE FROM log_chunks WHERE stream_id=?", (sid,))
            self._db.execute("DELETE FROM log_streams WHERE id=?", (sid,))
            self._db.execute(
                "UPDATE log_groups SET stored_bytes=stored_bytes-? WHERE id=?", (stored, gid)
            )
            self._db.execute("COMMIT")
            self._committed(EVERY_BYTES)
            self._stream_ids.pop((gid, stream), None)

    def streams(self, group: str, prefix: str | None = None) -> list[StreamInfo]:
        """A group's streams sorted by name, optionally only those starting with ``prefix``."""
        with self._lock:
            gid = self._group_id(group)
            rows = self._db.execute(
                "SELECT name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms,"
                " stored_bytes FROM log_streams WHERE group_id=? ORDER BY name",
                (gid,),
            ).fetchall()
        return [StreamInfo(*r) for r in rows if prefix is None or r[0].startswith(prefix)]

    def _group_id(self, name: str) -> int:
        gid = self._group_ids.get(name)
        if gid is None:
            row = self._db.execute("SELECT id FROM log_groups WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NotFound("The specified log group does not exist.")
            gid = self._group_ids[name] = int(row[0])
        return gid

    def _stream_id(self, gid: int, name: str) -> int:
        sid = self._stream_ids.get((gid, name))
        if sid is None:
            row = self._db.execute(
                "SELECT id FROM log_streams WHERE group_id=? AND name=?", (gid, name)
            ).fetchone()
            if row is None:
                raise NotFound("The specified log stream does not exist.")
            sid = self._stream_ids[(gid, name)] = int(row[0])
        return sid

    # --- writing ------------------------------------------------------------------------

    def put_events(self, group: str, stream: str, events: Sequence[tuple[int, str]]) -> PutResult:
        """PutLogEvents: validate the batch, store the acceptable events, extract metrics."""
        with self._lock:
            gid = self._group_id(group)
            sid = self._stream_id(gid, stream)
            retention = self._db.execute(
                "SELECT retention_days FROM log_groups WHERE id=?", (gid,)
            ).fetchone()[0]
            now = self.now_ms()
            try:
                decision = check_batch(
                    [e[0] for e in events],
                    [e[1] for e in events],
                    now_ms=now,
                    retention_days=retention,
                )
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from exc
            kept = list(events[decision.start : decision.end])
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # check_batch refused any batch out of time order.
                _, pending = self._store([(gid, {sid: kept})], now, offload=True, ordered=True)
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        self._finish_pending(pending)
        return PutResult(len(kept), decision)

    def ingest(self, events: Sequence[LogEvent]) -> int:
        """The telemetry sink's path: auto-create groups and streams, skip bad lines, never raise.

        Returns how many events were stored. Events are stored as given (no PutLogEvents age
        rules: the platform's own logs are always current).
        """
        by_group: dict[str, dict[str, list[tuple[int, str]]]] = {}
        last_group = last_stream = None
        into: list[tuple[int, str]] = []
        for e in events:
            message, ts = e.message, e.timestamp_ms
            if not (
                message
                and isinstance(message, str)
                and isinstance(ts, int)
                and -LIMIT <= ts <= LIMIT
            ):
                continue
            # A batch holds runs of one stream (an invocation's lines): look the list up once
            # per run, not once per event.
            if e.stream != last_stream or e.group != last_group:
                last_group, last_stream = e.group, e.stream
                into = by_group.setdefault(e.group, {}).setdefault(e.stream, [])
            into.append((ts, message))
        with self._lock:
            now = self.now_ms()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                plan: WritePlan = []
                for group, streams in by_group.items():
                    gid = self._ensure_group(group, now)
                    per_stream = {
                        self._ensure_stream(gid, s, now): evs for s, evs in streams.items()
                    }
                    plan.append((gid, per_stream))
                stored, _ = self._store(plan, now)
            except Exception:  # never raises: the telemetry sink must go on
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._group_ids.clear()
                self._stream_ids.clear()
                return 0
        return stored

    def _ensure_group(self, name: str, now: int) -> int:
        try:
            return self._group_id(name)
        except NotFound:
            cur = self._db.execute(
                "INSERT INTO log_groups(name, created_ms) VALUES (?,?)", (name, now)
            )
            gid = self._group_ids[name] = int(cur.lastrowid or 0)
            return gid

    def _ensure_stream(self, gid: int, name: str, now: int) -> int:
        try:
            return self._stream_id(gid, name)
        except NotFound:
            cur = self._db.execute(
                "INSERT INTO log_streams(group_id, name, created_ms) VALUES (?,?,?)",
                (gid, name, now),
            )
            sid = self._stream_ids[(gid, name)] = int(cur.lastrowid or 0)
            return sid

    # --- retention ----------------------------------------------------------------------

    def expire(self, now_ms: int) -> int:
        """Delete events older than their group's retention; returns how many were deleted."""
        deleted = 0
        with self._lock:
            groups = self._db.execute(
                "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL"
            ).fetchall()
            for gid, days in groups:
                cutoff = now_ms - int(days) * 86_400_000
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    gone = expire_group(self._db, gid, cutoff)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                if gone:
                    self._committed(EVERY_BYTES)  # deletes rewrite pages: checkpoint soon
                deleted += gone
        return deleted
