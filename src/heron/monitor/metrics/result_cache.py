"""A small bounded cache of evaluated GetMetricData results, so NextToken pages reuse them.

GetMetricData pages by offset into the flattened results; without a cache every page would
re-run every query of the request. The first page evaluates the request and, when it hands out
a NextToken, keeps the results here under a fresh snapshot id that the token carries; later
pages of the same request read that snapshot. The cache is bounded by total datapoints and by
age (both measured with the caller's clock) and evicts least recently used entries first. An
entry that is gone is not an error: the caller evaluates again and makes a new snapshot.

Serving later pages from one snapshot also keeps the pages of one request consistent with
each other: datapoints arriving between pages cannot shift the offsets of the pages still to
come, which recomputing would do.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_MAX_POINTS = 5_000_000
DEFAULT_MAX_AGE_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    key: str
    created_ms: int
    points: int
    results: Sequence[T]


class ResultCache(Generic[T]):
    """Evaluated results by snapshot id, bounded by total datapoints and by age; thread-safe."""

    def __init__(
        self, *, max_points: int = DEFAULT_MAX_POINTS, max_age_ms: int = DEFAULT_MAX_AGE_MS
    ) -> None:
        if max_points < 0 or max_age_ms < 0:
            raise ValueError("max_points and max_age_ms must not be negative")
        self._max_points = max_points
        self._max_age_ms = max_age_ms
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._points = 0
        # GetMetricData may be answered on several server threads at once
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def points(self) -> int:
        """The datapoints held by all entries."""
        return self._points

    def put(self, key: str, results: Sequence[T], points: int, now_ms: int) -> str | None:
        """Keep ``results`` (``points`` datapoints in all) for ``key``; the new snapshot id, or
        None when they alone exceed the bound and are not kept."""
        if points > self._max_points:
            return None
        snapshot = secrets.token_hex(8)
        with self._lock:
            self._expire(now_ms)
            while self._entries and self._points + points > self._max_points:
                self._drop(next(iter(self._entries)))
            self._entries[snapshot] = _Entry(key, now_ms, points, results)
            self._points += points
        return snapshot

    def get(self, snapshot: str, key: str, now_ms: int) -> Sequence[T] | None:
        """The results kept under ``snapshot`` for ``key``, or None when evicted, expired or
        made for another key."""
        with self._lock:
            self._expire(now_ms)
            entry = self._entries.get(snapshot)
            if entry is None or entry.key != key:
                return None
            self._entries.move_to_end(snapshot)
            return entry.results

    def discard(self, snapshot: str) -> None:
        """Forget a snapshot (its last page was served); unknown ids are ignored."""
        with self._lock:
            if snapshot in self._entries:
                self._drop(snapshot)

    def clear(self) -> None:
        """Forget every snapshot."""
        with self._lock:
            self._entries.clear()
            self._points = 0

    def _expire(self, now_ms: int) -> None:
        # entries are in least-recently-used order, not creation order, so look at all of them;
        # there are few (each holds a whole paged request)
        stale = [s for s, e in self._entries.items() if now_ms - e.created_ms > self._max_age_ms]
        for snapshot in stale:
            self._drop(snapshot)

    def _drop(self, snapshot: str) -> None:
        entry = self._entries.pop(snapshot)
        self._points -= entry.points
