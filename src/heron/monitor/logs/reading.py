"""Reading the log store: GetLogEvents pages, FilterLogEvents scans and Insights scans.

Events are ordered by (timestamp, insertion id); paging tokens encode that position. Events live
in chunks (``chunks``): a read fetches the chunks that reach into its time range, a few at a
time, and merges them; a filter looks for a pattern's required literal in a chunk's whole text,
so only lines containing it are tested.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from heron.monitor.logs.chunk_merge import merge_ascending, merge_descending
from heron.monitor.logs.chunks import (
    CHUNK_SPAN_MS,
    LIMIT,
    ChunkRow,
    Event,
    Selector,
    Window,
    every_event,
)
from heron.monitor.logs.patterns import FilterPattern
from heron.monitor.logs.store_errors import InvalidRequest
from heron.monitor.logs.store_sql import StoredEvent

#: Most events FilterLogEvents examines in one call before returning a nextToken.
SCAN_BUDGET = 200_000
#: Chunks fetched per query (a chunk holds up to 16,384 events).
_CHUNKS_PER_QUERY = 16
#: Characters of a chunk sampled to pick the rarest required literal.
_SAMPLE_CHARS = 65_536


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
        ts, eid = int(parts[1]), int(parts[2])
    except ValueError as exc:
        raise InvalidRequest("The specified nextToken is invalid.") from exc
    if not (-LIMIT <= ts <= LIMIT and -1 <= eid <= LIMIT):
        raise InvalidRequest("The specified nextToken is invalid.")
    return parts[0], ts, eid


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
        forward = start_from_head
        after: tuple[int, int] | None = None
        if token is not None:
            direction, ts, eid = decode_position(token, "f,b")
            forward, after = direction == "f", (ts, eid)
        window = Window(start_ms, None if end_ms is None else end_ms - 1, after)
        chunks = self._chunks("stream_id", sid, (), window, descending=not forward)
        rows: list[Event] = []
        steps: Iterable[list[Event]] = (
            (ready for ready, _, _ in merge_ascending(chunks, window))
            if forward
            else merge_descending(chunks, window)
        )
        for ready in steps:
            rows.extend(ready)
            if len(rows) >= limit:
                break
        del rows[limit:]
        if not forward:
            rows.reverse()
        events = [StoredEvent(stream, ts, ing, msg, eid) for ts, eid, ing, msg, _ in rows]
        if events:
            first, last = events[0], events[-1]
            return EventsPage(
                events,
                encode_position("f", last.timestamp_ms, last.event_id),
                encode_position("b", first.timestamp_ms, first.event_id),
            )
        if after is not None:
            ts, eid = after
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
        scan_budget: int = SCAN_BUDGET,
    ) -> FilterPage:
        """FilterLogEvents: matching events across streams, ascending (start/end inclusive);
        after examining ``scan_budget`` events it answers with what it found and a token."""
        position = decode_position(token, "n")[1:] if token else None
        gid, streams = self._streams_of(group, stream_names, stream_prefix)
        if not streams:
            return FilterPage([], None)
        window = Window(start_ms, end_ms, position)
        only = tuple(streams) if stream_names is not None or stream_prefix is not None else ()
        chunks = self._chunks("group_id", gid, only, window, descending=False)
        select = every_event if pattern is None else pattern_selector(pattern)
        out: list[StoredEvent] = []
        scanned = 0
        for ready, examined, resume in merge_ascending(chunks, window, select):
            for ts, eid, ing, msg, sid in ready:
                out.append(StoredEvent(self._stream_name(streams, sid), ts, ing, msg, eid))
                if len(out) >= limit:
                    return FilterPage(out, encode_position("n", ts, eid))
            scanned += examined
            if scanned >= scan_budget and resume is not None:
                return FilterPage(out, encode_position("n", *resume))
        return FilterPage(out, None)

    def scan_events(
        self, groups: Sequence[str], start_ms: int, end_ms: int
    ) -> Iterator[tuple[str, str, int, int, str]]:
        """(group, stream, ts, ingest ms, message) for Insights, ascending per group, inclusive."""
        for group in groups:
            gid, streams = self._streams_of(group, None, None)
            window = Window(start_ms, end_ms)
            chunks = self._chunks("group_id", gid, (), window, descending=False)
            for ready, _, _ in merge_ascending(chunks, window):
                for ts, _eid, ing, msg, sid in ready:
                    yield group, self._stream_name(streams, sid), ts, ing, msg

    def _streams_of(
        self, group: str, names: Sequence[str] | None, prefix: str | None
    ) -> tuple[int, dict[int, str]]:
        """A group's id and its streams (id -> name) that pass the name filters."""
        with self._lock:
            gid = self._group_id(group)
            rows = self._db.execute(
                "SELECT id, name FROM log_streams WHERE group_id=?", (gid,)
            ).fetchall()
        return gid, {
            sid: name
            for sid, name in rows
            if (names is None or name in names) and (prefix is None or name.startswith(prefix))
        }

    def _stream_name(self, streams: dict[int, str], sid: int) -> str:
        """A stream's name from ``streams``, or, for one created since it was read (a scan
        releases the lock between queries), from the database."""
        name = streams.get(sid)
        if name is None:
            with self._lock:
                row = self._db.execute("SELECT name FROM log_streams WHERE id=?", (sid,)).fetchone()
            name = streams[sid] = str(row[0]) if row is not None else ""
        return name

    def _chunks(
        self,
        column: str,
        key: int,
        streams: Sequence[int],
        window: Window,
        *,
        descending: bool,
    ) -> Iterator[ChunkRow]:
        """The chunks of one group or stream that may hold events of ``window``, fetched a few
        at a time: ascending by first timestamp (then id), or descending by last timestamp."""
        where = [f"{column}=?"]
        args: list[Any] = [key]
        if streams:
            where.append(f"stream_id IN ({','.join('?' * len(streams))})")
            args += streams
        lo, hi = window.lo, window.hi
        if window.after is not None:
            if descending:
                hi = window.after[0] if hi is None else min(hi, window.after[0])
            else:
                lo = window.after[0] if lo is None else max(lo, window.after[0])
        # A chunk spans at most CHUNK_SPAN_MS: the extra bound lets SQLite seek the index.
        if descending:  # newest first, by last timestamp (one stream's reads only)
            if lo is not None:
                where.append("last_ts >= ?")
                args.append(lo)
            if hi is not None:
                where.append("last_ts <= ? AND first_ts <= ?")
                args += [hi + CHUNK_SPAN_MS, hi]
            order_by, order, seek = "last_ts", "DESC", "(last_ts < ? OR (last_ts = ? AND id < ?))"
            cursor: tuple[int, int] = (LIMIT, LIMIT)
        else:  # oldest first, by first timestamp
            if lo is not None:
                where.append("first_ts >= ? AND last_ts >= ?")
                args += [lo - CHUNK_SPAN_MS, lo]
            if hi is not None:
                where.append("first_ts <= ?")
                args.append(hi)
            order_by, order, seek = "first_ts", "ASC", "(first_ts > ? OR (first_ts = ? AND id > ?))"
            cursor = (-LIMIT, -1)
        sql = (
            "SELECT id, stream_id, first_ts, last_ts, ingest_ms, stamps, lengths, messages"
            f" FROM log_chunks WHERE {' AND '.join(where)} AND {seek}"
            f" ORDER BY {order_by} {order}, id {order} LIMIT {_CHUNKS_PER_QUERY}"
        )
        at = 3 if descending else 2
        while True:
            with self._lock:
                rows = self._db.execute(sql, (*args, cursor[0], cursor[0], cursor[1])).fetchall()
            yield from rows
            if len(rows) < _CHUNKS_PER_QUERY:
                return
            cursor = (rows[-1][at], rows[-1][0])


def pattern_selector(pattern: FilterPattern) -> Selector:
    """A chunk selector keeping the events that match ``pattern``.

    Only lines holding one of the pattern's required literals are tested (and for JSON patterns
    lines with a backslash, since an escape can spell any literal), found with ``str.find`` over
    the chunk's whole text. The literal is the rarest in the chunk's first 64 KiB: a JSON key
    such as ``"level"`` is on every line, its value seldom.
    """
    matches = pattern.matches
    literals = tuple(lit for lit in pattern.required if lit)  # "" is in every line
    json_escapes = pattern.kind == "json"

    def select(text: str, offs: list[int], lo: int, hi: int) -> list[int]:
        if not literals:
            candidates: Iterable[int] = range(lo, hi)
        else:
            literal = _rarest(literals, text, offs[lo], offs[hi])
            found = _lines_containing(text, literal, offs, lo, hi)
            if json_escapes:
                found |= _lines_containing(text, "\\", offs, lo, hi)
            candidates = sorted(found)
        return [i for i in candidates if matches(text[offs[i] : offs[i + 1]])]

    return select


def _rarest(literals: tuple[str, ...], text: str, start: int, end: int) -> str:
    """The literal occurring least in a sample of ``text[start:end]`` (the longer on a tie)."""
    if len(literals) == 1:
        return literals[0]
    stop = min(end, start + _SAMPLE_CHARS)
    return min(literals, key=lambda lit: (text.count(lit, start, stop), -len(lit)))


def _lines_containing(text: str, literal: str, offs: list[int], lo: int, hi: int) -> set[int]:
    """Indexes in [lo, hi) of the lines that contain ``literal``."""
    found: set[int] = set()
    end = offs[hi]
    size = len(literal)
    at = text.find(literal, offs[lo], end)
    while at >= 0:
        line = bisect.bisect_right(offs, at, lo, hi) - 1
        stop = offs[line + 1]
        if at + size <= stop:  # not an occurrence running across into the next line
            found.add(line)
        at = text.find(literal, stop, end)
    return found
