"""Roll-up, retention and CloudWatch's period rules, with an injected clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import METRIC, NOW, FakeClock, open_store, sample

from heron.monitor.metrics import retention
from heron.monitor.metrics.store import MetricStore

HOUR_MS, DAY_MS = 3_600_000, 86_400_000
NOW_MS = int(NOW * 1000)


def stats(
    store: MetricStore, start: int, end: int, period: int, stat: str = "Sum"
) -> list[tuple[int, float]]:
    ts, vs = store.series(METRIC, start_ms=start, end_ms=end, period_s=period, statistic=stat)
    return list(zip(ts, vs, strict=True))


def test_high_resolution_cells_roll_up_to_minutes_after_three_hours(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    t = NOW_MS - HOUR_MS
    store.put_samples([sample([float(i)], t + i * 1000, resolution=1) for i in range(120)])
    assert len(stats(store, t, t + 120_000, 1)) == 120  # one datapoint per second
    assert stats(store, t, t + 120_000, 10)[:2] == [(t, 45.0), (t + 10_000, 145.0)]
    clock.now += 3 * 3600 + 120
    store.compact()
    # Now older than 3 h: only minute (or coarser) periods answer, from rolled-up cells.
    assert stats(store, t, t + 120_000, 1) == []
    assert stats(store, t, t + 120_000, 60) == [
        (t, float(sum(range(60)))),
        (t + 60_000, float(sum(range(60, 120)))),
    ]
    assert stats(store, t, t + 120_000, 60, "p50") == [
        (t, pytest.approx(29, rel=0.01)),
        (t + 60_000, pytest.approx(89, rel=0.01)),
    ]
    store.close()
    reopened = open_store(tmp_path, clock)
    assert stats(reopened, t, t + 120_000, 120, "SampleCount") == [(t, 120.0)]


def test_minutes_roll_up_to_five_minutes_then_hours_then_expire(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    t = NOW_MS - 10 * DAY_MS
    t -= t % HOUR_MS
    store.clock = clock
    clock.now = (t + 10 * DAY_MS) / 1000  # the datapoints are "now" when put
    clock.now = t / 1000 + 60
    store.put_samples([sample([1.0, float(m)], t + m * 60_000) for m in range(60)])
    clock.now = t / 1000 + 16 * 86400
    store.compact()
    assert stats(store, t, t + HOUR_MS, 60) == []  # 15 days old: 60 s periods no longer answer
    five = stats(store, t, t + HOUR_MS, 300, "SampleCount")
    assert five == [(t + k * 300_000, 10.0) for k in range(12)]
    clock.now = t / 1000 + 64 * 86400
    store.compact()
    assert stats(store, t, t + HOUR_MS, 300) == []
    assert stats(store, t, t + HOUR_MS, 3600, "Maximum") == [(t, 59.0)]
    assert stats(store, t, t + HOUR_MS, 3600, "SampleCount") == [(t, 120.0)]
    clock.now = t / 1000 + 456 * 86400
    store.compact()
    assert stats(store, t, t + HOUR_MS, 3600) == []


def test_late_data_merges_into_already_rolled_up_cells(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    t = NOW_MS - 4 * HOUR_MS
    store.put_samples([sample([1.0], t, resolution=1)])
    store.compact()
    store.put_samples([sample([2.0], t + 30_000, resolution=1)])  # late, lands in a 1 s cell
    assert stats(store, t, t + 60_000, 60) == [(t, 3.0)]
    store.compact()
    assert stats(store, t, t + 60_000, 60, "SampleCount") == [(t, 2.0)]


def test_start_is_inclusive_end_exclusive_and_points_are_stamped_at_period_start(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    t = NOW_MS - HOUR_MS
    store.put_samples(
        [sample([1.0], t + 59_000), sample([2.0], t + 60_000), sample([4.0], t + 120_000)]
    )
    assert stats(store, t, t + 120_000, 60) == [(t, 1.0), (t + 60_000, 2.0)]
    assert stats(store, t + 60_000, t + 180_000, 120) == [(t + 60_000, 6.0)]
    # StartTime rounds down to the minute for minute periods.
    assert stats(store, t + 30_000, t + 90_000, 60) == [(t, 1.0), (t + 60_000, 2.0)]
    assert stats(store, t + 30_000, t + 60_000, 60) == [(t, 1.0)]


def test_period_rules_by_age_of_start() -> None:
    now = int(NOW)
    assert retention.period_allowed(1, now - 3600, now)
    assert not retention.period_allowed(10, now - 4 * 3600, now)
    assert retention.period_allowed(60, now - 14 * 86400, now)
    assert not retention.period_allowed(60, now - 16 * 86400, now)
    assert retention.period_allowed(300, now - 62 * 86400, now)
    assert not retention.period_allowed(300, now - 64 * 86400, now)
    assert retention.period_allowed(7200, now - 400 * 86400, now)
    assert retention.round_start((now - 100) * 1000 + 7, 10, now) == (now - 100) // 10 * 10
    assert retention.round_start((now - 100) * 1000, 60, now) == (now - 100) // 60 * 60
    assert retention.round_start((now - 20 * 86400) * 1000, 300, now) % 300 == 0
    assert retention.round_start((now - 70 * 86400) * 1000, 3600, now) % 3600 == 0
    assert retention.datapoint_count(0, 86_400_000, 60) == 1440
