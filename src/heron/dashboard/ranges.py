"""The time-range picker's ranges and the query period each one uses (pure functions).

The metric store keeps 60-second cells for 15 days, 5-minute cells for 63 days and 1-hour cells
for 455 days, and CloudWatch's query rules follow that: a Period must be a multiple of 60 once
StartTime is over 3 hours old, of 300 beyond 15 days and of 3600 beyond 63 days. A graph gets the
smallest such period that keeps it at or under ``MAX_POINTS`` points per series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MINUTE = 60
HOUR = 3600
DAY = 86400

#: Most points one series of a graph may have (CloudWatch's GetMetricStatistics limit too).
MAX_POINTS = 1440

#: The picker's ranges: name -> length in seconds, in the order the page shows them.
RANGES: dict[str, int] = {
    "15m": 15 * MINUTE,
    "1h": HOUR,
    "6h": 6 * HOUR,
    "24h": DAY,
    "7d": 7 * DAY,
    "30d": 30 * DAY,
    "455d": 455 * DAY,
}
DEFAULT_RANGE = "1h"


class RangeError(ValueError):
    """A time range or period the dashboard cannot serve; ``str()`` is the user-facing message."""


@dataclass(frozen=True, slots=True)
class Window:
    """A resolved query window: start and end in epoch ms and the period in seconds."""

    start_ms: int
    end_ms: int
    period_s: int

    @property
    def points(self) -> int:
        """How many periods the window spans (an upper bound on points per series)."""
        return math.ceil((self.end_ms - self.start_ms) / 1000 / self.period_s)


def period_step(age_s: int) -> int:
    """The granularity the store serves for data ``age_s`` seconds old (what a period must divide)."""
    if age_s > 63 * DAY:
        return HOUR
    if age_s > 15 * DAY:
        return 5 * MINUTE
    return MINUTE


def choose_period(length_s: int, age_s: int | None = None) -> int:
    """The smallest served period covering ``length_s`` seconds in at most MAX_POINTS points.

    ``age_s`` is how old the window's start is (default: the window ends now, so ``length_s``).
    """
    if length_s <= 0:
        raise RangeError("the time range must be longer than zero")
    step = period_step(length_s if age_s is None else age_s)
    return step * max(1, math.ceil(length_s / (MAX_POINTS * step)))


def parse_range(name: str | None) -> int:
    """A picker range name (``"1h"``...) as seconds; RangeError naming the choices if unknown."""
    if name is None or name == "":
        return RANGES[DEFAULT_RANGE]
    if name not in RANGES:
        choices = ", ".join(RANGES)
        raise RangeError(f"unknown time range {name!r}; choose one of {choices}")
    return RANGES[name]


def resolve_window(
    range_name: str | None, now_ms: int, period_s: int | None = None, end_ms: int | None = None
) -> Window:
    """The window for a picker range ending at ``end_ms`` (default now), checking any period asked.

    An explicit period must be a positive multiple of what the store serves for the range's age
    and must not produce more than MAX_POINTS points; otherwise RangeError says why.
    """
    length = parse_range(range_name)
    end = now_ms if end_ms is None else end_ms
    if end > now_ms + MINUTE * 1000:
        raise RangeError("the time range cannot end in the future")
    start = end - length * 1000
    age = (now_ms - start) // 1000
    if age > RANGES["455d"] + DAY:
        raise RangeError("the metric store keeps 455 days; choose a later time range")
    if period_s is None:
        period_s = choose_period(length, int(age))
    step = period_step(int(age))
    if period_s <= 0 or period_s % step:
        raise RangeError(
            f"period {period_s}s is not served for data this old; use a multiple of {step}s"
        )
    window = Window(start, end, period_s)
    if window.points > MAX_POINTS:
        raise RangeError(
            f"period {period_s}s gives {window.points} points per series; the most is "
            f"{MAX_POINTS} (use a period of at least {choose_period(length, int(age))}s)"
        )
    return window
