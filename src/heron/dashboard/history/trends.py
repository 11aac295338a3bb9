"""Trend analysis: a metric against the same period a day or a week earlier (pure functions).

The earlier window is the current one shifted back by the offset and read on the same period,
so slot ``i`` of both series covers the same time of day (or of the week). The page gets both
series aligned, each slot's percentage change, and a headline change of the window's aggregate
(the sum for counts, the mean of the period values otherwise, the peak for Maximum, the low for
Minimum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.dashboard.ranges import DAY, RANGES, RangeError, Window, period_step

#: Comparison name -> how far back the earlier window is, in seconds.
OFFSETS: dict[str, int] = {"day": DAY, "week": 7 * DAY}
#: The oldest data the store keeps (its 1-hour roll-ups).
RETENTION_S = RANGES["455d"]

Values = list[float | None]


def parse_offset(name: str | None) -> int:
    """The comparison offset in seconds (``day`` by default); RangeError for anything else."""
    if name is None or name == "":
        return OFFSETS["day"]
    if name not in OFFSETS:
        raise RangeError(f"unknown comparison {name!r}; choose one of {', '.join(OFFSETS)}")
    return OFFSETS[name]


def aligned_windows(window: Window, offset_s: int, now_ms: int) -> tuple[Window, Window]:
    """The current window and the earlier one, sharing a period the store serves for both.

    The earlier window is older, so it may need a coarser period (a multiple of 300 s past 15
    days, of 3600 s past 63); both then use the coarser one. RangeError when the earlier window
    reaches past the store's retention.
    """
    prev_start = window.start_ms - offset_s * 1000
    prev_age = (now_ms - prev_start) // 1000
    if prev_age > RETENTION_S + DAY:
        raise RangeError(
            "the earlier period is older than the 455 days the store keeps; "
            "choose a shorter range or a day-earlier comparison"
        )
    step = period_step(int(prev_age))
    period = window.period_s
    if period % step:
        period = (period // step + 1) * step
    current = Window(window.start_ms, window.end_ms, period)
    earlier = Window(prev_start, window.end_ms - offset_s * 1000, period)
    return current, earlier


def aggregate(values: Sequence[float | None], statistic: str) -> float | None:
    """One number for a series: sum (Sum, SampleCount), max, min, or the mean of the values."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if statistic in ("Sum", "SampleCount"):
        return sum(present)
    if statistic == "Maximum":
        return max(present)
    if statistic == "Minimum":
        return min(present)
    return sum(present) / len(present)


def pct_change(now: float | None, before: float | None) -> float | None:
    """Percentage change from ``before`` to ``now``; None when either is missing or before is 0."""
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / abs(before)


@dataclass(frozen=True, slots=True)
class Trend:
    """Two aligned series and their changes."""

    current: Values
    earlier: Values
    change: Values
    current_total: float | None
    earlier_total: float | None
    total_change: float | None


def compare(
    current: Sequence[float | None], earlier: Sequence[float | None], statistic: str
) -> Trend:
    """Slot-by-slot and headline percentage changes between two aligned series."""
    if len(current) != len(earlier):
        raise ValueError("the two series must be aligned (same length)")
    change = [pct_change(a, b) for a, b in zip(current, earlier, strict=True)]
    now_total = aggregate(current, statistic)
    before_total = aggregate(earlier, statistic)
    return Trend(
        list(current),
        list(earlier),
        change,
        now_total,
        before_total,
        pct_change(now_total, before_total),
    )
