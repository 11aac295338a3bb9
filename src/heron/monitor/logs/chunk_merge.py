"""Merging stored chunks back into time order, reading no more of them than a read needs.

Ascending reads (FilterLogEvents, Insights, GetLogEvents from the head) are a lazy k-way merge:
chunks arrive by first timestamp and are opened only once they may hold the next event, and
each open chunk is read through a cursor that selects a slice of its events at a time (the
slices grow, so a long scan works in large steps and a short page stops early). A page of a
few events from many overlapping chunks therefore costs a few slices per chunk, not every event
after the position in all of them. Descending reads (GetLogEvents from the end, one stream)
release every buffered event newer than the next chunk's last timestamp.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Iterable, Iterator

from heron.monitor.logs.chunks import (
    CHUNK_EVENTS,
    ChunkRow,
    Event,
    Selector,
    Window,
    every_event,
    offsets,
    resume_after,
    unpack_stamps,
)

#: Events a cursor selects from first; each further slice is four times larger, up to a chunk.
FIRST_SLICE = 256
#: Events gathered (or examined) before a step is handed to the reader.
_STEP = 512


class _Cursor:
    """One chunk's selected events inside a window, selected a slice at a time."""

    __slots__ = ("base", "examined", "hi", "ingest", "next_lo", "offs", "picked", "select",
                 "sid", "size", "stamps", "taken", "text")  # fmt: skip

    def __init__(
        self, chunk: ChunkRow, window: Window, select: Selector, *, descending: bool = False
    ) -> None:
        cid, sid, _first, _last, ingest, stamp_blob, length_blob, text = chunk
        self.stamps = unpack_stamps(stamp_blob)
        self.base = cid * CHUNK_EVENTS
        self.sid, self.ingest, self.text, self.select = sid, ingest, text, select
        lo, self.hi = _bounds(self.stamps, self.base, window, descending=descending)
        self.offs = offsets(length_blob) if lo < self.hi else []
        self.next_lo = lo
        self.size = FIRST_SLICE
        self.picked: list[int] = []
        self.taken = 0
        self.examined = 0

    def head(self) -> int | None:
        """The index of the next selected event, selecting further slices as needed."""
        while self.taken >= len(self.picked):
            if self.next_lo >= self.hi:
                return None
            stop = min(self.hi, self.next_lo + self.size)
            self.picked = list(self.select(self.text, self.offs, self.next_lo, stop))
            self.taken = 0
            self.examined += stop - self.next_lo
            self.next_lo = stop
            self.size = min(self.size * 4, CHUNK_EVENTS)
        return self.picked[self.taken]

    def event(self, i: int) -> Event:
        """Event ``i`` of the chunk."""
        offs = self.offs
        return (
            self.stamps[i],
            self.base + i,
            self.ingest,
            self.text[offs[i] : offs[i + 1]],
            self.sid,
        )


def merge_ascending(
    chunks: Iterable[ChunkRow], window: Window, select: Selector = every_event
) -> Iterator[tuple[list[Event], int, tuple[int, int] | None]]:
    """Selected events of ``chunks`` (ordered by first ts, then id) in (ts, id) order.

    Yields (events, how many events were examined, position): every event up to ``position``
    has been yielded or rejected, so a read may stop after any step and resume there; the last
    step's position is None (nothing left).
    """
    rows = iter(chunks)
    pending = next(rows, None)
    heap: list[tuple[int, int, _Cursor]] = []
    ready: list[Event] = []
    examined = 0
    while True:
        # Open every chunk that may hold an event no later than the earliest one known.
        while pending is not None and (not heap or pending[2] <= heap[0][0]):
            cursor = _Cursor(pending, window, select)
            examined += _push(heap, cursor)
            pending = next(rows, None)
        if not heap:
            break
        _ts, _eid, cursor = heapq.heappop(heap)
        # Take the cursor's run while it comes before every other open chunk's next event and
        # before the next chunk's start (the first event always does).
        rival = heap[0][:2] if heap else None
        bound = None if pending is None else pending[2]
        i = cursor.head()
        while (
            i is not None
            and (rival is None or (cursor.stamps[i], cursor.base + i) < rival)
            and (bound is None or cursor.stamps[i] < bound)
        ):
            ready.append(cursor.event(i))
            cursor.taken += 1
            if len(ready) >= _STEP:
                break
            i = cursor.head()
        examined += _push(heap, cursor)
        if len(ready) >= _STEP or examined >= _STEP * 8:
            yield ready, examined, _position(heap, pending)
            ready, examined = [], 0
    yield ready, examined, None


def _push(heap: list[tuple[int, int, _Cursor]], cursor: _Cursor) -> int:
    """Put the cursor back on the heap if it has a next event; returns what it examined."""
    before = cursor.examined
    i = cursor.head()
    if i is not None:
        heapq.heappush(heap, (cursor.stamps[i], cursor.base + i, cursor))
    return cursor.examined - before


def _position(
    heap: list[tuple[int, int, _Cursor]], pending: ChunkRow | None
) -> tuple[int, int] | None:
    """A safe resume position: just before the earliest event not yet yielded."""
    candidates = []
    if heap:
        candidates.append((heap[0][0], heap[0][1] - 1))
    if pending is not None:
        candidates.append(resume_after(pending[2]))
    return min(candidates) if candidates else None


def _bounds(
    stamps: array[int], base: int, window: Window, *, descending: bool = False
) -> tuple[int, int]:
    """The index range [lo, hi) of a chunk's events inside ``window``."""
    lo = 0 if window.lo is None else bisect.bisect_left(stamps, window.lo)
    hi = len(stamps) if window.hi is None else bisect.bisect_right(stamps, window.hi)
    if window.after is not None:
        ts, eid = window.after
        if descending:  # strictly before (ts, eid)
            hi = min(hi, _before(stamps, ts, eid - base))
        else:  # strictly after (ts, eid)
            lo = max(lo, _after(stamps, ts, eid - base))
    return lo, hi


def merge_descending(
    chunks: Iterable[ChunkRow], window: Window, select: Selector = every_event
) -> Iterator[list[Event]]:
    """Selected events of ``chunks`` (ordered by last ts, then id, descending) newest first.

    Every later chunk ends no later than the next one does, so buffered events newer than the
    next chunk's last timestamp are released.
    """
    buffer: list[Event] = []
    for chunk in chunks:
        bound = chunk[3]
        if buffer:
            buffer.sort(reverse=True)
            cut = bisect.bisect_left(buffer, -bound, key=_negated_time)  # newer than bound
            if cut:
                ready, buffer = buffer[:cut], buffer[cut:]
                yield ready
        _take(chunk, window, select, buffer)
    buffer.sort(reverse=True)
    yield buffer


def _negated_time(event: Event) -> int:
    # Newest first: the buffer is ascending in -ts, so bisect can search it.
    return -event[0]


def _take(chunk: ChunkRow, window: Window, select: Selector, into: list[Event]) -> None:
    """Append the chunk's selected events inside ``window`` (newest-first reads)."""
    cursor = _Cursor(chunk, window, select, descending=True)
    if cursor.next_lo < cursor.hi:
        into.extend(map(cursor.event, select(cursor.text, cursor.offs, cursor.next_lo, cursor.hi)))


def _after(stamps: array[int], ts: int, index: int) -> int:
    """First index whose (ts, index) comes after (ts, index) given (index may be off-chunk)."""
    start = bisect.bisect_left(stamps, ts)
    stop = bisect.bisect_right(stamps, ts, start)
    return min(max(start, index + 1), stop)


def _before(stamps: array[int], ts: int, index: int) -> int:
    """One past the last index whose (ts, index) comes before (ts, index)."""
    start = bisect.bisect_left(stamps, ts)
    stop = bisect.bisect_right(stamps, ts, start)
    return max(min(stop, index), start)
