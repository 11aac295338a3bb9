"""Optimization advice: rankings, cold starts, memory right-sizing, noisy alarms (pure)."""

from __future__ import annotations

import pytest

from heron.dashboard.history.advice import (
    ColdStarts,
    IncidentTimes,
    Latency,
    MemoryUse,
    StateChange,
    cold_start_hotspots,
    flapped,
    noisiest_alarms,
    recommended_memory,
    right_size,
    slowest,
)

PRICE = 0.0000166667


def test_slowest_ranks_by_p99_and_skips_idle_ones() -> None:
    ranked = slowest(
        [
            Latency("a", 120.0, 40.0, 10),
            Latency("b", 900.0, 100.0, 5),
            Latency("idle", 5000.0, 5000.0, 0),
            Latency("c", 120.0, 60.0, 3),
        ]
    )
    assert [r["name"] for r in ranked] == ["b", "c", "a"]


def test_cold_start_hot_spots_flag_rate_and_init_share() -> None:
    rows = cold_start_hotspots(
        [
            ColdStarts("hot", 10, 3, 600.0, 400.0),  # 30 %, INIT 60 % of the time
            ColdStarts("mild", 100, 2, 10.0, 990.0),  # 2 %, INIT 1 %
            ColdStarts("never", 50, 0, 0.0, 100.0),
        ]
    )
    assert [r["name"] for r in rows] == ["hot", "mild"]
    assert rows[0]["rate"] == pytest.approx(30.0) and rows[0]["averageInitMs"] == 200.0
    assert rows[0]["initShare"] == pytest.approx(60.0) and rows[0]["hotSpot"]
    assert len(rows[0]["reasons"]) == 2
    assert not rows[1]["hotSpot"]


def test_recommended_memory_keeps_the_peak_within_70_percent_in_64_mb_steps() -> None:
    assert recommended_memory(100) == 192  # 100 / 0.7 = 142.9 -> 3 x 64
    assert recommended_memory(50) == 128  # Lambda's minimum
    assert recommended_memory(10_000) == 10_240  # and maximum


def test_right_size_decrease_with_its_cost_effect() -> None:
    # 3,600 s billed at 1,024 MB -> 192 MB: (192 - 1024) / 1024 x 3,600 = -2,925 GB-s.
    advice = right_size(MemoryUse("getUser", 1024, 100.0, 3_600_000.0), PRICE, 30.0)
    assert advice is not None
    assert advice["action"] == "decrease" and advice["recommendedMb"] == 192
    assert advice["costDelta"] == pytest.approx(-2925 * PRICE)
    assert advice["monthlyCostDelta"] == pytest.approx(-2925 * PRICE * 30)


def test_right_size_increase_keep_and_no_data() -> None:
    up = right_size(MemoryUse("f", 128, 120.0, 1000.0), PRICE, 1.0)
    assert up is not None and up["action"] == "increase" and up["recommendedMb"] == 192
    assert up["peakPct"] == pytest.approx(93.75) and up["costDelta"] > 0
    keep = right_size(MemoryUse("g", 256, 150.0, 1000.0), PRICE, 1.0)
    assert keep is not None and keep["action"] == "keep" and keep["costDelta"] == 0
    assert right_size(MemoryUse("h", 256, None, 0.0), PRICE, 1.0) is None


def test_flapping_is_more_than_four_changes_in_ten_minutes() -> None:
    assert flapped([0, 100, 200, 300, 400])
    assert not flapped([0, 200, 400, 600, 800])  # at most 4 in any 600 s
    assert not flapped([])


def test_noisiest_alarms_with_mean_times_to_ack_and_resolve() -> None:
    changes = [StateChange("A", t, s) for t, s in ((0, "ALARM"), (60, "OK"), (120, "ALARM"))]
    changes.append(StateChange("B", 0, "ALARM"))
    changes.append(StateChange("Quiet", 0, "OK"))  # settling after start-up: not listed
    incidents = [
        IncidentTimes("A", 0, 30, 90),
        IncidentTimes("A", 120, None, 420),
        IncidentTimes("C", 0, 600, None),
    ]
    rows = noisiest_alarms(changes, incidents)
    assert [r["alarm"] for r in rows] == ["A", "B", "C"]  # by changes, then incidents
    a = rows[0]
    assert (a["changes"], a["toAlarm"], a["incidents"], a["flapping"]) == (3, 2, 2, False)
    assert a["meanTimeToAckS"] == 30 and a["meanTimeToResolveS"] == 195
    assert rows[2]["meanTimeToAckS"] == 600 and rows[2]["meanTimeToResolveS"] is None
