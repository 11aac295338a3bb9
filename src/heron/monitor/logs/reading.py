"""Reading the log store: GetLogEvents pages, FilterLogEvents scans and Insights scans.

Events are ordered by (timestamp, insertion id); paging tokens encode that position.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from heron.monitor.logs.patterns import FilterPattern
from heron.monitor.logs.store_errors import InvalidRequest
from heron.monitor.logs.store_sql import StoredEvent

#: Most rows FilterLogEvents examines in one call before returning a nextToken.
SCAN_BUDGET = 200_000
_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class EventsPage:
    """GetLogEvents' answer: events ascending plus forward and backward tokens."""

    events: list[StoredEvent]
    forward_token: str
    backward_token: str


@dataclass(frozen=True, slots=True)
class FilterPage:
    """FilterLogEvents' answer: matching events ascending and a token when more remain."""

    events: list[StoredEvent]
    next_token: str | None


def encode_position(prefix: str, ts: int, event_id: int) -> str:
    """A paging token for the position (ts, id)."""
    return f"{prefix}/{ts:020d}/{event_id:020d}"


def decode_position(token: str, prefixes: str) -> tuple[str, int, int]:
    """Inverse of ``encode_position``; InvalidRequest for anything else."""
    parts = token.split("/")
    if len(parts) != 3 or parts[0] not in prefixes.split(","):
        raise InvalidRequest("The specified nextToken is invalid.")
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError as exc:
        raise InvalidRequest("The specified nextToken is invalid.") from exc


class EventReads:
    """The log store's read operations; the store provides the connection, lock and ids."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def _group_id(self, name: str) -> int:
        raise NotImplementedError

    def _stream_id(self, gid: int, name: str) -> int:
        raise NotImplementedError

    def get_events(
        self,
        group: str,
        stream: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 10_000,
        token: str | None = None,
        start_from_head: bool = False,
    ) -> EventsPage:
        """GetLogEvents: one stream's events in time order (start inclusive, end exclusive)."""
        with self._lock:
            sid = self._stream_id(self._group_id(group), stream)
            where: list[str] = ["stream_id=?"]
            args: list[Any] = [sid]
            if start_ms is not None:
                where.append("ts>=?")
                args.append(start_ms)
            if end_ms is not None:
                where.append("ts<?")
                args.append(end_ms)
            forward = start_from_head
            if token is not None:
                direction, ts, eid = decode_position(token, "f,b")
                forward = direction == "f"
                if forward:
                    where.append("ts >= ? AND (ts > ? OR id > ?)")
                else:
                    where.append("ts <= ? AND (ts < ? OR id < ?)")
                args += [ts, ts, eid]
            order = "ASC" if forward else "DESC"
            rows = self._db.execute(
                "SELECT ts, ingest_ms, message, id FROM log_events WHERE "
                + " AND ".join(where)
                + f" ORDER BY ts {order}, id {order} LIMIT ?",
                (*args, limit),
            ).fetchall()
        if not forward:
            rows.reverse()
        events = [StoredEvent(stream, ts, ing, msg, eid) for ts, ing, msg, eid in rows]
        if events:
            first, last = events[0], events[-1]
            return EventsPage(
                events,
                encode_position("f", last.timestamp_ms, last.event_id),
                encode_position("b", first.timestamp_ms, first.event_id),
            )
        if token is not None:
            _, ts, eid = decode_position(token, "f,b")
            return EventsPage([], encode_position("f", ts, eid), encode_position("b", ts, eid))
        return EventsPage([], encode_position("f", 0, 0), encode_position("b", 0, 0))

    def filter_events(
        self,
        group: str,
        *,
        pattern: FilterPattern | None = None,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 10_000,
        token: str | None = None,
    ) -> FilterPage:
        """FilterLogEvents: matching events across streams, ascending (start/end inclusive)."""
        matches = pattern.matches if pattern is not None else None
        out: list[StoredEvent] = []
        scanned = 0
        position = decode_position(token, "n")[1:] if token else None
        for rows in self._scan(
            group, pattern, stream_names, stream_prefix, start_ms, end_ms, position
        ):
            for ts, ing, msg, eid, sname in rows:
                scanned += 1
                position = (ts, eid)
                if matches is None or matches(msg):
                    out.append(StoredEvent(sname, ts, ing, msg, eid))
                    if len(out) >= limit:
                        return FilterPage(out, encode_position("n", ts, eid))
            if scanned >= SCAN_BUDGET and position is not None:
                return FilterPage(out, encode_position("n", *position))
        return FilterPage(out, None)

    def _scan(
        self,
        group: str,
        pattern: FilterPattern | None,
        stream_names: Sequence[str] | None,
        stream_prefix: str | None,
        start_ms: int | None,
        end_ms: int | None,
        position: tuple[int, int] | None,
    ) -> Iterator[list[tuple[int, int, str, int, str]]]:
        """Chunks of (ts, ingest, message, id, stream name) rows in (ts, id) order."""
        with self._lock:
            gid = self._group_id(group)
            streams = {
                sid: name
                for sid, name in self._db.execute(
                    "SELECT id, name FROM log_streams WHERE group_id=?", (gid,)
                )
                if (stream_names is None or name in stream_names)
                and (stream_prefix is None or name.startswith(stream_prefix))
            }
        if not streams:
            return
        where: list[str] = ["group_id=?"]
        args: list[Any] = [gid]
        if stream_names is not None or stream_prefix is not None:
            where.append(f"stream_id IN ({','.join('?' * len(streams))})")
            args += list(streams)
        if start_ms is not None:
            where.append("ts>=?")
            args.append(start_ms)
        if end_ms is not None:
            where.append("ts<=?")
            args.append(end_ms)
        if pattern is not None:
            # The pattern's required literals run inside SQLite, so most lines never reach Python.
            for literal in pattern.required:
                if pattern.kind == "json":
                    where.append("(instr(message, ?) > 0 OR instr(message, '\\') > 0)")
                else:
                    where.append("instr(message, ?) > 0")
                args.append(literal)
        sql = (
            "SELECT ts, ingest_ms, message, id, stream_id FROM log_events WHERE "
            + " AND ".join(where)
            # The plain ``ts >= ?`` lets SQLite seek the (group_id, ts) index to the position.
            + " AND ts >= ? AND (ts > ? OR id > ?) ORDER BY ts, id LIMIT ?"
        )
        pos = position if position is not None else (-(2**62), -1)
        while True:
            with self._lock:
                rows = self._db.execute(sql, (*args, pos[0], pos[0], pos[1], _CHUNK)).fetchall()
            if not rows:
                return
            yield [(ts, ing, msg, eid, streams[sid]) for ts, ing, msg, eid, sid in rows]
            last = rows[-1]
            pos = (last[0], last[3])
            if len(rows) < _CHUNK:
                return

    def scan_events(
        self, groups: Sequence[str], start_ms: int, end_ms: int
    ) -> Iterator[tuple[str, str, int, int, str]]:
        """(group, stream, ts, ingest ms, message) for Insights, ascending per group, inclusive."""
        for group in groups:
            for rows in self._scan(group, None, None, None, start_ms, end_ms, None):
                for ts, ing, msg, _eid, sname in rows:
                    yield group, sname, ts, ing, msg
