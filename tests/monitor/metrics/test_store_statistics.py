"""Statistics and percentiles from the store against exact answers on the raw values."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import (
    METRIC,
    NOW,
    open_store,
    ref_percentile,
    ref_rank_range,
    ref_value_range,
    sample,
)

from heron.monitor.contracts import Sample
from heron.monitor.metrics.sketch import ALPHA
from heron.monitor.metrics.store import MetricStore

T0 = int(NOW * 1000) - 600_000  # ten minutes ago, on a minute boundary
#: The documented bound, plus float slack for values landing exactly on a bucket edge.
BOUND = ALPHA * (1 + 1e-6)


def one(store: MetricStore, stat: str, *, period: int = 60, start: int = T0) -> float | None:
    _ts, vs = store.series(
        METRIC, start_ms=start, end_ms=start + period * 1000, period_s=period, statistic=stat
    )
    assert len(vs) <= 1
    return vs[0] if vs else None


def close(estimate: float | None, exact: float | None, bound: float = BOUND) -> bool:
    if exact is None or estimate is None:
        return estimate is exact
    return abs(estimate - exact) <= bound * abs(exact) + 1e-12


def put_spread(store: MetricStore, values: list[float], chunks: int, flush_at: int | None) -> None:
    """Put ``values`` as 1-second cells across one minute, in ``chunks`` puts."""
    parts = np.array_split(np.asarray(values), chunks)
    for i, part in enumerate(parts):
        if len(part):
            store.put_samples([sample(part.tolist(), T0 + (i % 60) * 1000, resolution=1)])
        if flush_at is not None and i == flush_at:
            store.flush()


values_strategy = st.lists(
    st.one_of(
        st.floats(min_value=0, max_value=1e9, allow_nan=False),
        st.floats(min_value=1e-6, max_value=10),
        st.just(0.0),
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=values_strategy, chunks=st.integers(1, 7), flush=st.booleans(), p=st.floats(0, 100))
def test_percentiles_match_numpy_within_the_bound(
    values: list[float], chunks: int, flush: bool, p: float
) -> None:
    with tempfile.TemporaryDirectory() as d:
        store = open_store(Path(d))
        put_spread(store, values, chunks, chunks // 2 if flush else None)
        exact = float(np.percentile(values, p, method="inverted_cdf"))
        assert (
            exact == ref_percentile(values, p)
            or p in (0, 100)
            or math.isclose(exact, ref_percentile(values, p))
        )
        assert close(one(store, f"p{p:.2f}"), exact)
        assert one(store, "SampleCount") == len(values)
        assert one(store, "Minimum") == min(values)
        assert one(store, "Maximum") == max(values)
        assert math.isclose(one(store, "Sum") or 0.0, math.fsum(values), rel_tol=1e-9, abs_tol=1e-9)
        store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=values_strategy,
    chunks=st.integers(1, 5),
    low=st.integers(0, 100),
    width=st.integers(0, 100),
)
def test_percent_bounded_statistics_match_raw_values(
    values: list[float], chunks: int, low: int, width: int
) -> None:
    high = min(100, low + width)
    with tempfile.TemporaryDirectory() as d:
        store = open_store(Path(d))
        put_spread(store, values, chunks, None)
        ref = ref_rank_range(values, low, high)
        for kind in ("TM", "WM", "TS"):
            assert close(one(store, f"{kind}({low}%:{high}%)"), ref[kind]), kind
        assert one(store, f"TC({low}%:{high}%)") == ref["TC"]
        assert math.isclose(one(store, f"PR({low}%:{high}%)") or 0.0, ref["PR"] or 0.0)
        store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=200
    ),
    a=st.floats(0, 1e4),
    b=st.floats(0, 1e4),
)
def test_absolute_bounded_statistics_match_raw_values(
    values: list[float], a: float, b: float
) -> None:
    low, high = round(min(a, b), 3), round(max(a, b), 3)
    # Keep values clear of the bounds: within ALPHA of a bound a bucket may fall on either side.
    values = [
        v
        for v in values
        if abs(v - low) > 2.5 * ALPHA * low + 1e-9 and abs(v - high) > 2.5 * ALPHA * high + 1e-9
    ]
    if not values:
        return
    with tempfile.TemporaryDirectory() as d:
        store = open_store(Path(d))
        put_spread(store, values, 3, None)
        ref = ref_value_range(values, low, high)
        bounds = f"({low:.3f}:{high:.3f})"
        assert one(store, "TC" + bounds) == ref["TC"]
        assert math.isclose(one(store, "PR" + bounds) or 0.0, ref["PR"] or 0.0)
        for kind in ("TM", "TS", "WM"):
            assert close(one(store, kind + bounds), ref[kind]), kind
        store.close()


def test_every_statistic_on_a_known_sample(tmp_path: Path) -> None:
    # Absolute bounds sit between sample values: a sample within ALPHA of a bound may land on
    # either side of it (the documented limit of a relative-error sketch).
    store = open_store(tmp_path)
    values = [float(v) for v in range(1, 101)]  # 1..100
    store.put_samples([sample(values, T0 + 5_000)])
    exact = {
        "SampleCount": 100.0, "Sum": 5050.0, "Average": 50.5, "Minimum": 1.0, "Maximum": 100.0,
        "p50": 50.0, "p99": 99.0, "p99.5": 100.0, "p0": 1.0, "p100": 100.0, "p10.5": 11.0,
        "TM(10%:90%)": sum(range(11, 91)) / 80, "tm90": sum(range(1, 91)) / 90,
        "IQM": sum(range(26, 76)) / 50, "TC(10%:90%)": 80.0, "tc90": 90.0,
        "TS(10%:90%)": float(sum(range(11, 91))), "ts90": float(sum(range(1, 91))),
        "WM(10%:90%)": (10 * 11 + sum(range(11, 91)) + 10 * 90) / 100,
        "wm90": (sum(range(1, 91)) + 10 * 90) / 100,
        "TM(10.5:20.5)": sum(range(11, 21)) / 10, "TC(10.5:20.5)": 10.0,
        "TS(10.5:20.5)": float(sum(range(11, 21))), "TC(:20.5)": 20.0, "TC(90.5:)": 10.0,
        "PR(:30.5)": 30.0, "PR(50.5:60.5)": 10.0,
        "WM(10.5:20.5)": (10 * 10.5 + sum(range(11, 21)) + 80 * 20.5) / 100, "TM(10%:)": sum(range(11, 101)) / 90,
        "TM( 10% : 90% )": sum(range(11, 91)) / 80,
    }  # fmt: skip
    for stat, want in exact.items():
        assert close(one(store, stat), want), stat


def test_values_with_counts_weigh_each_value(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_samples([sample([1.0, 10.0, 100.0], T0, counts=[97, 2, 1])])
    assert one(store, "SampleCount") == 100
    assert one(store, "Sum") == 97 + 20 + 100
    assert close(one(store, "p97"), 1.0)
    assert close(one(store, "p98"), 10.0)
    assert close(one(store, "p100"), 100.0)


def statistic_set(n: float, s: float, lo: float, hi: float, ts: int = T0) -> Sample:
    return Sample(
        METRIC.namespace, METRIC.name, METRIC.dimensions, ts, statistic_set=(n, s, lo, hi)
    )


def test_statistic_sets_feed_percentiles_only_when_all_values_are_equal(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_samples([statistic_set(10, 50, 5, 5), sample([1.0], T0)])
    assert one(store, "SampleCount") == 11
    assert close(one(store, "p50"), 5.0)
    assert close(one(store, "p1"), 1.0)
    store.put_samples([statistic_set(10, 55, 1, 10, T0 + 1000)])
    assert one(store, "SampleCount") == 21
    assert one(store, "Average") == pytest.approx(106 / 21)
    assert one(store, "p50") is None  # a set of unequal values: no percentiles for the period
    assert one(store, "TC(1:2)") is None


def test_negative_values_refuse_extended_statistics(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_samples([sample([-1.0, 2.0, 3.0], T0)])
    assert one(store, "Minimum") == -1.0
    assert one(store, "Sum") == 4.0
    for stat in ("p50", "IQM", "TM(1:3)", "TC(10%:90%)"):
        assert one(store, stat) is None
    got = store.statistics(METRIC, start_ms=T0, end_ms=T0 + 60_000, period_s=60, statistics=["p50"])
    assert got == [{"Timestamp": T0, "Unit": "None"}]


def test_units_are_stored_apart_and_filterable(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_samples(
        [sample([1.0], T0, unit="Seconds"), sample([1000.0, 2000.0], T0, unit="Milliseconds")]
    )
    got = store.statistics(
        METRIC, start_ms=T0, end_ms=T0 + 60_000, period_s=60, statistics=["Sum", "SampleCount"]
    )
    assert sorted((p["Unit"], p["Sum"], p["SampleCount"]) for p in got) == [
        ("Milliseconds", 3000.0, 2.0), ("Seconds", 1.0, 1.0),
    ]  # fmt: skip
    only = store.statistics(
        METRIC, start_ms=T0, end_ms=T0 + 60_000, period_s=60, statistics=["Sum"], unit="Seconds"
    )
    assert [p["Sum"] for p in only] == [1.0]
    assert store.series(
        METRIC, start_ms=T0, end_ms=T0 + 60_000, period_s=60, statistic="Sum", unit="Bytes"
    ) == ([], [])


def test_many_periods_in_one_query_each_get_their_own_answer(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    rng = np.random.default_rng(7)
    raw = {m: rng.lognormal(3, 1, 50).tolist() for m in range(10)}
    store.put_samples([sample(v, T0 + m * 60_000 + 1_000) for m, v in raw.items()])
    store.flush()
    ts, vs = store.series(METRIC, start_ms=T0, end_ms=T0 + 600_000, period_s=60, statistic="p90")
    assert ts == [T0 + m * 60_000 for m in range(10)]
    for m, v in zip(range(10), vs, strict=True):
        assert close(v, ref_percentile(raw[m], 90))
    ts, vs = store.series(METRIC, start_ms=T0, end_ms=T0 + 600_000, period_s=300, statistic="IQM")
    assert ts == [T0, T0 + 300_000]
    first = [x for m in range(5) for x in raw[m]]
    assert close(vs[0], ref_rank_range(first, 25, 75)["TM"])
