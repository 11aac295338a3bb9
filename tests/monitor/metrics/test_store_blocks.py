"""Sealed hour blocks: compaction packs finished hours, and no answer changes because of it."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import METRIC, NOW, FakeClock, open_store, sample
from test_store_series_many import requests, samples, singly

from heron.monitor.contracts import Sample
from heron.monitor.metrics.cell_codec import BLOCK_S
from heron.monitor.metrics.compaction import seal_horizon
from heron.monitor.metrics.store import MetricStore, SeriesRequest

STATS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50", "p99", "TM(10%:90%)"]


def table_counts(store_dir: Path) -> dict[str, int]:
    """Rows in the cells and blocks tables, read from the file as any SQLite client would."""
    with sqlite3.connect(store_dir / "metrics.db") as conn:
        return {
            name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in ("cells", "blocks")
        }


Result = tuple[list[int], list[float]]


def answers(store: MetricStore, start_ms: int, end_ms: int, period: int = 60) -> list[Result]:
    """Every statistic in STATS over the window."""
    return [
        store.series(METRIC, start_ms=start_ms, end_ms=end_ms, period_s=period, statistic=s)
        for s in STATS
    ]


def approx(results: list[Result]) -> list[object]:
    """Same timestamps, values equal but for float summation order."""
    return [(ts, pytest.approx(vs, rel=1e-9, abs=1e-9)) for ts, vs in results]


def test_finished_hours_are_sealed_into_one_block_per_series_and_hour(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    start = (int(NOW) - 5 * 3600) // 3600 * 3600
    store.put_samples(
        [sample([float(m % 17), m / 3], (start + m * 60 + 5) * 1000) for m in range(5 * 60 + 10)]
    )
    window = (start * 1000, int(NOW) * 1000)
    before = answers(store, *window)
    store.compact()
    horizon = seal_horizon(int(NOW))
    sealed_hours = (horizon - start) // BLOCK_S
    assert sealed_hours == 5
    # 5 finished hours in 5 blocks; the minutes of the current hour stay rows.
    assert table_counts(tmp_path) == {"blocks": sealed_hours, "cells": 10}
    assert answers(store, *window) == approx(before)
    # A window starting mid-block reads only the cells inside it.
    mid = ((start + 1800) * 1000, (start + 2 * 3600 + 600) * 1000)
    store.close()
    reopened = open_store(tmp_path, clock)
    fresh = open_store(tmp_path / "unsealed", clock)
    fresh.put_samples(
        [sample([float(m % 17), m / 3], (start + m * 60 + 5) * 1000) for m in range(5 * 60 + 10)]
    )
    assert answers(reopened, *mid) == approx(answers(fresh, *mid))
    reopened.close()
    fresh.close()


def test_a_late_datapoint_for_a_sealed_hour_counts_at_once_and_joins_its_block(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    start = (int(NOW) - 3 * 3600) // 3600 * 3600
    store.put_samples([sample([1.0], (start + m * 60) * 1000) for m in range(60)])
    store.compact()
    assert table_counts(tmp_path) == {"blocks": 1, "cells": 0}
    store.put_samples([sample([5.0, 7.0], (start + 120 + 30) * 1000)])  # lands in minute 2
    store.flush()
    assert table_counts(tmp_path) == {"blocks": 1, "cells": 1}
    window = (start * 1000, (start + 3600) * 1000)
    expect_sum = [1.0, 1.0, 13.0] + [1.0] * 57
    assert store.series(METRIC, start_ms=window[0], end_ms=window[1], period_s=60,
                        statistic="Sum")[1] == expect_sum  # fmt: skip
    store.compact()
    assert table_counts(tmp_path) == {"blocks": 1, "cells": 0}
    sums = store.series(METRIC, start_ms=window[0], end_ms=window[1], period_s=60, statistic="Sum")
    assert sums[1] == expect_sum
    assert store.series(METRIC, start_ms=window[0], end_ms=window[1], period_s=3600,
                        statistic="Maximum")[1] == [7.0]  # fmt: skip
    store.close()


def test_one_second_blocks_roll_up_to_minutes_after_three_hours(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    start = (int(NOW) - 2 * 3600) // 3600 * 3600
    store.put_samples(
        [sample([float(i % 7)], (start + i) * 1000, resolution=1) for i in range(0, 3600, 3)]
    )
    window = (start * 1000, (start + 3600) * 1000)
    before = answers(store, *window)
    store.compact()
    assert table_counts(tmp_path) == {"blocks": 1, "cells": 0}  # one 1-second block
    clock.now += 2 * 3600
    store.compact()  # now past 3 h: rolled up to minute rows, then sealed as a minute block
    with sqlite3.connect(tmp_path / "metrics.db") as conn:
        levels = conn.execute("SELECT level, length(cells) FROM blocks").fetchall()
    assert [level for level, _ in levels] == [1]
    assert answers(store, *window) == approx(before)
    store.close()


def test_a_failed_seal_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(tmp_path)
    start = (int(NOW) - 3 * 3600) // 3600 * 3600
    store.put_samples([sample([float(m)], (start + m * 60) * 1000) for m in range(120)])
    store.flush()
    window = (start * 1000, (start + 7200) * 1000)
    before = answers(store, *window)

    def disk_full(rows: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store._db, "put_blocks", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        store.compact()
    assert table_counts(tmp_path) == {"blocks": 0, "cells": 120}
    assert answers(store, *window) == before
    monkeypatch.undo()
    store.compact()
    assert table_counts(tmp_path) == {"blocks": 2, "cells": 0}
    assert answers(store, *window) == approx(before)
    store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(samples, max_size=40),
    st.integers(0, 40),
    st.lists(samples, max_size=8),
    st.lists(requests, min_size=1, max_size=20),
)
def test_sealing_never_changes_an_answer(
    stored: list[Sample], split: int, late: list[Sample], reqs: list[SeriesRequest]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sealed, plain = open_store(Path(tmp) / "sealed"), open_store(Path(tmp) / "plain")
        try:
            # Sealed: compacted twice, with late data for sealed hours in between and after.
            sealed.put_samples(stored[:split])
            sealed.compact()
            sealed.put_samples(stored[split:])
            sealed.compact()
            sealed.put_samples(late)
            plain.put_samples(stored + late)
            assert sealed.series_many(reqs) == singly(sealed, reqs)
            assert approx(singly(sealed, reqs)) == singly(plain, reqs)
        finally:
            sealed.close()
            plain.close()
