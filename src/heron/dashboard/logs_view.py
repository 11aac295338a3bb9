"""The logs view: the newest events matching a filter pattern, and a live tail of a group.

CloudWatch's FilterLogEvents reads forward in time; a person searching wants the newest
matches first. ``search_latest`` therefore reads windows that grow backwards from the end of the
range (1 min, 4 min, 16 min, ...) until it has enough matches or a read budget runs out.
``TailCursor`` follows a group by the store's insertion ids, which only grow, so a late event
within the look-back is still shown once and none is shown twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heron.monitor.logs.patterns import FilterPattern, PatternError, compile_pattern
from heron.monitor.logs.store import LogStore
from heron.monitor.logs.store_sql import StoredEvent

#: Most events one search or one tail message returns.
MAX_EVENTS = 500
#: Longest message text sent to the page (longer ones are cut, and say so).
MAX_MESSAGE_CHARS = 8_000
#: Most FilterLogEvents pages one search may read (each examines up to 200,000 rows).
MAX_PAGES = 12
#: The first (newest) window a search reads, and how much each next window grows.
FIRST_WINDOW_MS = 60_000
GROWTH = 4
#: How far back the tail looks for events that arrived late.
TAIL_LOOKBACK_MS = 30_000

__all__ = ["PatternError", "TailCursor", "event_json", "parse_pattern", "search_latest"]


def parse_pattern(text: str | None) -> FilterPattern | None:
    """A compiled filter pattern, None for an empty one; PatternError with AWS's message."""
    if text is None or not text.strip():
        return None
    return compile_pattern(text)


def event_json(e: StoredEvent) -> dict[str, Any]:
    """One event as the page shows it."""
    message = e.message
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + " \u2026 (truncated)"
    return {"id": e.event_id, "t": e.timestamp_ms, "stream": e.stream, "message": message}


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The newest matches (ascending), how far back the search got, and whether it stopped early."""

    events: list[StoredEvent]
    searched_from_ms: int
    complete: bool

    def as_json(self) -> dict[str, Any]:
        """The page's JSON for the result."""
        return {
            "events": [event_json(e) for e in self.events],
            "searchedFrom": self.searched_from_ms,
            "complete": self.complete,
        }


def search_latest(
    store: LogStore,
    group: str,
    pattern: FilterPattern | None,
    start_ms: int,
    end_ms: int,
    limit: int = 100,
) -> SearchResult:
    """The newest ``limit`` events of ``group`` in [start, end] that match ``pattern``.

    Raises the store's NotFound for an unknown group.
    """
    store.group(group)  # NotFound before any work
    found: list[StoredEvent] = []
    pages = 0
    hi = end_ms
    width = FIRST_WINDOW_MS
    while hi >= start_ms and len(found) < limit and pages < MAX_PAGES:
        lo = max(start_ms, hi - width + 1)
        window: list[StoredEvent] = []
        token: str | None = None
        while pages < MAX_PAGES:
            page = store.filter_events(
                group, pattern=pattern, start_ms=lo, end_ms=hi, limit=10_000, token=token
            )
            pages += 1
            window.extend(page.events)
            token = page.next_token
            if token is None:
                break
        if token is not None:  # budget ran out inside this window: keep its newest matches only
            found = window[-(limit - len(found)) :] + found
            return SearchResult(found[-limit:], lo, False)
        found = window + found
        hi = lo - 1
        width *= GROWTH
    return SearchResult(found[-limit:], max(start_ms, hi + 1), hi < start_ms or len(found) >= limit)


class TailCursor:
    """Follows one log group: each ``poll`` returns the events stored since the last one."""

    def __init__(
        self, store: LogStore, group: str, pattern: FilterPattern | None, now_ms: int
    ) -> None:
        store.group(group)  # NotFound before the stream starts
        self.store = store
        self.group = group
        self.pattern = pattern
        self.started_ms = now_ms
        self.last_id = -1

    def backlog(self, now_ms: int, limit: int = 50) -> list[StoredEvent]:
        """The newest matches of the last few minutes, shown when the tail starts."""
        result = search_latest(
            self.store, self.group, self.pattern, now_ms - 15 * 60_000, now_ms, limit
        )
        if result.events:
            self.last_id = max(e.event_id for e in result.events)
        else:
            self.last_id = self._max_id(now_ms)
        return result.events

    def _max_id(self, now_ms: int) -> int:
        page = self.store.filter_events(
            self.group, start_ms=now_ms - TAIL_LOOKBACK_MS, end_ms=now_ms + 60_000
        )
        return max((e.event_id for e in page.events), default=-1)

    def poll(self, now_ms: int) -> tuple[list[StoredEvent], int]:
        """New matching events (ascending, at most MAX_EVENTS) and how many more were skipped."""
        page = self.store.filter_events(
            self.group,
            pattern=self.pattern,
            start_ms=now_ms - TAIL_LOOKBACK_MS,
            end_ms=now_ms + 60_000,
        )
        fresh = [e for e in page.events if e.event_id > self.last_id]
        fresh.sort(key=lambda e: e.event_id)
        if fresh:
            self.last_id = fresh[-1].event_id
        skipped = max(0, len(fresh) - MAX_EVENTS)
        return fresh[-MAX_EVENTS:], skipped
