"""``MetricStore.series_many`` answers exactly what one ``series`` call per request answers."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import METRIC, NOW, FakeClock, open_store, sample

from heron.monitor.contracts import MetricId, Sample
from heron.monitor.metrics.statistics import StatisticError
from heron.monitor.metrics.store import SeriesRequest

METRICS = [MetricId("App", f"m{k}", (("Function", f"f{k % 2}"),)) for k in range(3)]
UNKNOWN = MetricId("App", "never-written", ())
UNITS = ["Count", "Seconds"]
STATS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p0", "p50", "p99", "p100",
         "TM(10%:90%)", "WM(5%:95%)", "TC(:50)", "TS(20:)", "PR(10:60)", "WM(:40)", "TM(10:)"]  # fmt: skip
SPAN_S = 3 * 3600

samples = st.builds(
    lambda m, unit, age, values, whole, counts, res: sample(
        values,
        int((NOW - age) * 1000),
        metric=METRICS[m],
        unit=UNITS[unit],
        counts=[c if whole else c / 3 for c in counts[: len(values)]]
        if len(counts) >= len(values)
        else (),
        resolution=res,
    ),
    st.integers(0, len(METRICS) - 1),
    st.integers(0, len(UNITS) - 1),
    st.floats(0, SPAN_S - 1),
    st.lists(st.floats(-5, 100, allow_nan=False), min_size=1, max_size=4),
    st.booleans(),
    st.lists(st.integers(1, 5), max_size=4),
    st.sampled_from([1, 60]),
)

requests = st.builds(
    lambda m, start, length, period, stat, unit: (
        UNKNOWN if m == len(METRICS) else METRICS[m],
        int((NOW - start) * 1000),
        int((NOW - start + length) * 1000),
        period,
        stat,
        unit,
    ),
    st.integers(0, len(METRICS)),
    st.integers(0, SPAN_S + 600),
    st.integers(-60, SPAN_S),
    st.sampled_from([1, 10, 60, 300, 3600]),
    st.sampled_from(STATS),
    st.sampled_from([None, None, "Count", "Seconds", "Bytes"]),
)


def singly(store: Any, reqs: list[SeriesRequest]) -> list[tuple[list[int], list[float]]]:
    """The reference: one ``series`` call per request."""
    return [
        store.series(m, start_ms=a, end_ms=b, period_s=p, statistic=s, unit=u)
        for m, a, b, p, s, u in reqs
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(samples, max_size=40),
    st.integers(0, 40),
    st.lists(samples, max_size=5),
    st.lists(requests, min_size=1, max_size=25),
)
def test_series_many_equals_series_on_random_data(
    stored: list[Sample], split: int, late: list[Sample], reqs: list[SeriesRequest]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp))
        # Part flushed to SQLite, part still in memory, part in both (the same cells again).
        store.put_samples(stored[:split])
        store.flush()
        store.put_samples(stored[split:] + late)
        try:
            assert store.series_many(reqs) == singly(store, reqs)
        finally:
            store.close()


def test_series_many_table(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    t = int(NOW) - 600
    store.put_samples([sample([1.0, 2.0, 3.0], (t + 5) * 1000), sample([10.0], (t + 65) * 1000)])
    store.flush()
    store.put_samples(
        [sample([4.0], (t + 7) * 1000), sample([7.0], (t + 70) * 1000, metric=METRICS[1])]
    )
    m = METRIC  # the helper's default metric
    a, b = t * 1000, (t + 120) * 1000
    reqs: list[SeriesRequest] = [
        (m, a, b, 60, "Sum", None),
        (m, a, b, 60, "SampleCount", None),
        (m, a, b, 120, "Maximum", None),
        (m, a, b, 60, "p50", "None"),
        (m, a, b, 60, "Sum", "Count"),  # no data in that unit
        (METRICS[1], a, b, 60, "Average", None),
        (UNKNOWN, a, b, 60, "Sum", None),
        (m, b, a, 60, "Sum", None),  # empty window
    ]
    assert store.series_many(reqs) == [
        ([t * 1000, (t + 60) * 1000], [10.0, 10.0]),
        ([t * 1000, (t + 60) * 1000], [4.0, 1.0]),
        ([t * 1000], [10.0]),
        ([t * 1000, (t + 60) * 1000], [pytest.approx(2.0, rel=0.01), 10.0]),  # sketch buckets: ~1 %
        ([], []),
        ([(t + 60) * 1000], [7.0]),
        ([], []),
        ([], []),
    ]
    assert store.series_many(reqs) == singly(store, reqs)
    assert store.series_many([]) == []
    store.close()


def test_a_bad_statistic_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    store.put_samples([sample([1.0], int(NOW - 30) * 1000)])
    good: SeriesRequest = (METRICS[0], int(NOW - 600) * 1000, int(NOW) * 1000, 60, "Sum", None)
    with pytest.raises(StatisticError, match="p101"):
        store.series_many([good, (*good[:4], "p101", None)])
    assert store.series_many([good]) == singly(store, [good])
    store.close()


def test_cells_are_summed_in_the_order_series_sums_them(tmp_path: Path) -> None:
    # Float sums depend on order: (1 + 1) + 1e16 is exact, (1e16 + 1) + 1 is not.
    store = open_store(tmp_path)
    t = int(NOW) - 600
    store.put_samples([sample([1.0], (t + 5) * 1000), sample([1.0], (t + 65) * 1000)])
    store.flush()
    store.put_samples([sample([1e16], (t + 125) * 1000)])
    req: SeriesRequest = (METRIC, t * 1000, (t + 300) * 1000, 300, "Sum", None)
    assert singly(store, [req]) == [([t * 1000], [1e16 + 2])]
    assert store.series_many([req, req]) == singly(store, [req, req])
    store.close()
