"""Trend comparison: aligned windows and percentage changes (pure)."""

from __future__ import annotations

import pytest

from heron.dashboard.history.trends import aggregate, aligned_windows, compare, parse_offset
from heron.dashboard.ranges import DAY, RangeError, resolve_window

NOW_MS = 1_800_000_000_000


def test_compare_gives_slot_and_headline_changes() -> None:
    t = compare([10.0, 20.0, None, 40.0], [5.0, 20.0, 10.0, None], "Sum")
    assert t.change == [100.0, 0.0, None, None]
    assert (t.current_total, t.earlier_total, t.total_change) == (70.0, 35.0, 100.0)
    avg = compare([10.0, 30.0], [40.0, None], "Average")
    assert avg.current_total == 20.0 and avg.total_change == pytest.approx(-50.0)
    assert compare([1.0], [0.0], "Sum").total_change is None
    with pytest.raises(ValueError):
        compare([1.0], [], "Sum")


def test_aggregate_follows_the_statistic() -> None:
    values = [3.0, None, 9.0, 6.0]
    assert aggregate(values, "Sum") == 18.0
    assert aggregate(values, "Maximum") == 9.0
    assert aggregate(values, "Minimum") == 3.0
    assert aggregate(values, "p99") == 6.0
    assert aggregate([None], "Sum") is None


def test_the_earlier_window_is_shifted_and_shares_the_period() -> None:
    window = resolve_window("24h", NOW_MS)
    current, earlier = aligned_windows(window, parse_offset("week"), NOW_MS)
    assert current == window
    assert earlier.start_ms == window.start_ms - 7 * DAY * 1000
    assert earlier.end_ms == window.end_ms - 7 * DAY * 1000
    assert earlier.period_s == current.period_s == 60


def test_an_older_earlier_window_coarsens_both_periods() -> None:
    # 7 days ending 2 days ago: period 420 s; a week earlier starts 16 days ago, where the
    # store serves 5-minute cells, so both use 600 s.
    window = resolve_window("7d", NOW_MS, end_ms=NOW_MS - 2 * DAY * 1000)
    assert window.period_s == 420
    current, earlier = aligned_windows(window, parse_offset("week"), NOW_MS)
    assert current.period_s == earlier.period_s == 600


def test_bad_comparisons_and_windows_past_retention_are_refused() -> None:
    assert parse_offset(None) == DAY
    with pytest.raises(RangeError, match="unknown comparison"):
        parse_offset("month")
    with pytest.raises(RangeError, match="455 days"):
        aligned_windows(resolve_window("455d", NOW_MS), parse_offset("week"), NOW_MS)
