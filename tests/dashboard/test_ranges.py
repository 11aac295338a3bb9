"""The time-range picker's periods: served by the store's roll-ups and at most 1,440 points."""

from __future__ import annotations

import pytest

from heron.dashboard.ranges import (
    MAX_POINTS,
    RANGES,
    RangeError,
    choose_period,
    resolve_window,
)

NOW = 1_800_000_000_000


@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("15m", 60),
        ("1h", 60),
        ("6h", 60),
        ("24h", 60),
        ("7d", 420),  # 60 s cells kept 15 days: 7 x 60 s gives 1,440 points
        ("30d", 1800),  # older than 15 days: multiples of 300 s
        ("455d", 28800),  # older than 63 days: multiples of 3,600 s
    ],
)
def test_each_range_gets_the_smallest_served_period(name: str, period: int) -> None:
    window = resolve_window(name, NOW)
    assert window.period_s == period
    assert window.points <= MAX_POINTS
    assert window.end_ms - window.start_ms == RANGES[name] * 1000


def test_choose_period_respects_the_age_step() -> None:
    assert choose_period(3600) == 60
    assert choose_period(16 * 86400) % 300 == 0
    assert choose_period(70 * 86400) % 3600 == 0


@pytest.mark.parametrize(
    ("name", "period", "message"),
    [
        ("2h", None, "unknown time range '2h'"),
        ("24h", 30, "not served"),
        ("30d", 600 + 60, "multiple of 300s"),
        ("24h", 50, "multiple of 60s"),
        ("7d", 60, "10080 points"),
        ("1h", -60, "not served"),
    ],
)
def test_bad_ranges_and_periods_are_refused_with_a_reason(
    name: str, period: int | None, message: str
) -> None:
    with pytest.raises(RangeError, match=message):
        resolve_window(name, NOW, period)


def test_a_window_cannot_end_in_the_future() -> None:
    with pytest.raises(RangeError, match="future"):
        resolve_window("1h", NOW, end_ms=NOW + 3_600_000)


def test_default_range_is_one_hour() -> None:
    assert resolve_window(None, NOW).end_ms - resolve_window(None, NOW).start_ms == 3_600_000
