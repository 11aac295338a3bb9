"""Log events stored in chunks: one row per stream per commit, merged back into time order on read.

A chunk holds one stream's events sorted by timestamp (a stable sort, so equal timestamps keep
their arrival order): the timestamps packed as int64, the messages' lengths in characters as
uint32, and the messages one after another in one TEXT. An event's id is
``chunk id * CHUNK_EVENTS + index``, so (timestamp, id) orders events as they arrived, as one row
per event did. A chunk costs one row and two index entries however many events it holds; one row
per event with two indexes cost ~2.4 µs a line, most of what the telemetry sink spent per request
(bench/README.md, figure 6).

Chunks of one group overlap in time (every stream writes one per commit), so reads merge them
(``chunk_merge``).
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter

#: Most events in one chunk; event ids leave room for exactly that many per chunk.
CHUNK_EVENTS = 16_384
#: Widest time span of one chunk (ms); reads look back this far for chunks reaching into a range.
CHUNK_SPAN_MS = 30_000
#: Timestamps and event ids lie within ±LIMIT (SQLite integers are 64-bit; the margin leaves
#: room for the sentinels and positions reads compute).
LIMIT = 2**62

#: A chunk as read: (id, stream id, first ts, last ts, ingestion ms, stamps, lengths, text).
ChunkRow = tuple[int, int, int, int, int, bytes, bytes, str]
#: One event on the way out: (ts, event id, ingestion ms, message, stream id).
Event = tuple[int, int, int, str, int]

_by_time = itemgetter(0)


@dataclass(frozen=True, slots=True)
class PackedChunk:
    """One chunk ready to insert: its time range, size in UTF-8 bytes and packed columns."""

    first_ts: int
    last_ts: int
    count: int
    size: int
    stamps: bytes
    lengths: bytes
    text: str

    def columns(self) -> tuple[int, int, int, int, bytes, bytes, str]:
        """The values for ``INSERT_CHUNK`` after group, stream and ingestion time."""
        return (
            self.first_ts,
            self.last_ts,
            self.count,
            self.size,
            self.stamps,
            self.lengths,
            self.text,
        )


def pack(events: list[tuple[int, str]], *, ordered: bool = False) -> list[PackedChunk]:
    """One stream's (timestamp, message) events as chunks, sorting ``events`` in place unless
    the caller knows them ``ordered`` by timestamp (PutLogEvents checked that already)."""
    if not ordered:
        events.sort(key=_by_time)
    chunks: list[PackedChunk] = []
    start, n = 0, len(events)
    while start < n:
        first = events[start][0]
        end = min(n, start + CHUNK_EVENTS)
        if events[end - 1][0] - first > CHUNK_SPAN_MS:
            end = bisect.bisect_right(events, first + CHUNK_SPAN_MS, start, end, key=_by_time)
        part = events[start:end]
        stamps, messages = zip(*part, strict=True)
        text = "".join(messages)
        if text.isascii():
            size = len(text)
        else:
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError:
                # A lone surrogate cannot be stored as UTF-8: "?" in its place (one character
                # for one, so the lengths still hold) instead of a failed batch.
                encoded = text.encode("utf-8", "replace")
                size, text = len(encoded), encoded.decode("utf-8")
        chunks.append(
            PackedChunk(
                first,
                stamps[-1],
                len(part),
                size,
                array("q", stamps).tobytes(),
                array("I", map(len, messages)).tobytes(),
                text,
            )
        )
        start = end
    return chunks


def unpack_stamps(blob: bytes) -> array[int]:
    """A chunk's timestamps."""
    stamps = array("q")
    stamps.frombytes(blob)
    return stamps


def offsets(blob: bytes) -> list[int]:
    """Where each message starts in the chunk's text, plus the text's length at the end."""
    lengths = array("I")
    lengths.frombytes(blob)
    return list(itertools.accumulate(lengths, initial=0))


#: Picks which of a chunk's events (indexes in [lo, hi)) to keep: (text, offsets, lo, hi).
Selector = Callable[[str, list[int], int, int], Iterable[int]]


def every_event(_text: str, _offsets: list[int], lo: int, hi: int) -> Iterable[int]:
    """The selector that keeps every event in range."""
    return range(lo, hi)


@dataclass(frozen=True, slots=True)
class Window:
    """Which events a read wants: timestamps in [lo, hi] and, if set, after (ts, id) ``after``."""

    lo: int | None = None
    hi: int | None = None
    after: tuple[int, int] | None = None


def resume_after(next_first_ts: int) -> tuple[int, int]:
    """The position after every event older than ``next_first_ts``: a safe paging token."""
    return (next_first_ts - 1, LIMIT)
