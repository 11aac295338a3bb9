"""The metric aggregator: values per series and second in, one Values/Counts sample each out."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.telemetry.aggregator import MetricAggregator, collapse, series_key
from heron.telemetry.sink import MemorySink, sample_values
from heron.types import Sample

FN = (("FunctionName", "f"),)
COUNT = series_key("AWS/Lambda", "Invocations", FN, "Count")
COUNT_ALL = series_key("AWS/Lambda", "Invocations", (), "Count")
LATENCY = series_key("AWS/Lambda", "Duration", FN, "Milliseconds")
INIT = series_key("AWS/Lambda", "InitDuration", FN, "Milliseconds")


def totals(samples: list[Sample]) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]:
    """(name, dimensions) -> [SampleCount, Sum] over all samples."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(
        lambda: [0.0, 0.0]
    )
    for s in samples:
        counts = s.counts or (1.0,) * len(s.values)
        out[(s.name, s.dimensions)][0] += sum(counts)
        out[(s.name, s.dimensions)][1] += sum(v * c for v, c in zip(s.values, counts, strict=True))
    return out


def test_values_land_in_the_second_they_were_added_in() -> None:
    agg = MetricAggregator(lambda: 0.0)
    latency = agg.series(LATENCY)
    agg.add_value(latency, 3.0, 100.2)
    agg.add_value(latency, 4.0, 100.999)
    agg.add_value(latency, 5.0, 101.0)
    samples = agg.drain()
    assert [(s.timestamp_ms, s.values) for s in samples] == [
        (100_000, (3.0, 4.0)),
        (101_000, (5.0,)),
    ]
    assert all(s.unit == "Milliseconds" and s.storage_resolution == 60 for s in samples)


def test_a_scalar_layout_fans_one_value_out_to_every_dimension_set() -> None:
    agg = MetricAggregator(lambda: 0.0)
    both = agg.series(COUNT, COUNT_ALL)
    for _ in range(3):
        agg.add_value(both, 1.0, 5.0)
    samples = agg.drain()
    assert {(s.dimensions, s.values, s.counts) for s in samples} == {
        (FN, (1.0,), (3.0,)),
        ((), (1.0,), (3.0,)),
    }


def test_rows_split_into_columns_and_none_means_absent() -> None:
    agg = MetricAggregator(lambda: 0.0)
    layout = agg.layout([(COUNT, COUNT_ALL), (LATENCY,), (INIT,)])
    agg.add_row(layout, (1.0, 7.0, None), 9.5)
    agg.add_row(layout, (1.0, 8.0, 120.0), 9.6)
    agg.add_row(layout, (1.0, 9.0, None), 9.7)
    by_name = {(s.name, s.dimensions): s for s in agg.drain()}
    assert sample_values(by_name[("Invocations", FN)]) == [1.0, 1.0, 1.0]
    assert sample_values(by_name[("Invocations", ())]) == [1.0, 1.0, 1.0]
    assert by_name[("Duration", FN)].values == (7.0, 8.0, 9.0)
    assert by_name[("InitDuration", FN)].values == (120.0,)


def test_a_column_without_any_value_in_a_second_produces_no_sample() -> None:
    agg = MetricAggregator(lambda: 0.0)
    layout = agg.layout([(LATENCY,), (INIT,)])
    agg.add_row(layout, (2.0, None), 1.0)
    assert [s.name for s in agg.drain()] == ["Duration"]


def test_drain_empties_and_drain_with_now_keeps_the_current_second() -> None:
    agg = MetricAggregator(lambda: 0.0)
    latency = agg.series(LATENCY)
    agg.add_value(latency, 1.0, 10.1)
    agg.add_value(latency, 2.0, 11.1)
    assert agg.pending == 2
    assert [s.timestamp_ms for s in agg.drain(now=11.5)] == [10_000]
    assert agg.pending == 1
    agg.add_value(latency, 3.0, 11.9)
    [current] = agg.drain()
    assert (current.timestamp_ms, current.values) == (11_000, (2.0, 3.0))
    assert agg.drain() == [] and agg.pending == 0


def test_add_registers_a_series_once_and_defaults_to_the_clock() -> None:
    agg = MetricAggregator(lambda: 42.7)
    agg.add("Heron", "M", (), 1.0, "Count")
    agg.add("Heron", "M", (), 2.0, "Count", at=43.0)
    agg.add("Heron", "M", (), 3.0, "Count", resolution=1)
    samples = agg.drain()
    assert [(s.timestamp_ms, s.values, s.storage_resolution) for s in samples] == [
        (42_000, (1.0,), 60),
        (43_000, (2.0,), 60),
        (42_000, (3.0,), 1),
    ]


def test_registering_the_same_layout_twice_gives_the_same_id() -> None:
    agg = MetricAggregator(lambda: 0.0)
    assert agg.series(COUNT, COUNT_ALL) == agg.series(COUNT, COUNT_ALL)
    assert agg.layout([(COUNT,), (LATENCY,)]) == agg.layout([[COUNT], [LATENCY]])
    assert agg.series(COUNT) != agg.layout([(COUNT,)])


def test_bad_input_is_refused_and_changes_nothing() -> None:
    agg = MetricAggregator(lambda: 0.0)
    with pytest.raises(ValueError, match="resolution"):
        agg.series(("N", "M", (), "Count", 30))
    with pytest.raises(ValueError):
        agg.layout([])
    with pytest.raises(ValueError):
        agg.layout([(COUNT,), ()])
    with pytest.raises(ValueError):
        agg.series()
    row_layout = agg.layout([(COUNT,), (LATENCY,)])
    scalar = agg.series(COUNT)
    with pytest.raises(ValueError, match="2 entries"):
        agg.add_row(row_layout, (1.0,), 1.0)
    with pytest.raises(ValueError, match="rows"):
        agg.add_value(row_layout, 1.0, 1.0)
    with pytest.raises(ValueError):
        agg.add_row(scalar, (1.0,), 1.0)
    assert agg.pending == 0 and agg.drain() == []


def test_collapse_keeps_distinct_values_in_order_and_counts_repeats() -> None:
    assert collapse([5.0]) == ((5.0,), ())
    assert collapse([1.0, 1.0, 1.0]) == ((1.0,), (3.0,))
    assert collapse([3.0, 1.0, 2.0]) == ((3.0, 1.0, 2.0), ())
    assert collapse([0.0, 1.0, 0.0]) == ((0.0, 1.0, 0.0), ())  # counting would not pay
    assert collapse([0.0, 1.0, 0.0, 0.0, 1.0, 0.0]) == ((0.0, 1.0), (4.0, 2.0))


def test_samples_go_to_a_sink_and_its_helpers_expand_counts() -> None:
    agg = MetricAggregator(lambda: 0.0)
    both = agg.series(COUNT, COUNT_ALL)
    for _ in range(4):
        agg.add_value(both, 1.0, 1.0)
    sink = MemorySink()
    sink.put_samples(agg.drain())
    assert sink.values("AWS/Lambda", "Invocations", FN) == [1.0] * 4
    assert sink.values("AWS/Lambda", "Invocations") == [1.0] * 8


values_st = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2]),  # which layout
            st.floats(min_value=0, max_value=5, allow_nan=False),  # when
            st.one_of(st.sampled_from([0.0, 1.0]), values_st),
            st.one_of(st.none(), values_st),
        ),
        max_size=60,
    ),
    st.floats(min_value=0, max_value=6),
)
def test_sample_count_and_sum_survive_aggregation_and_partial_drains(
    adds: list[tuple[int, float, float, float | None]], cut: float
) -> None:
    agg = MetricAggregator(lambda: 0.0)
    scalar = agg.series(COUNT, COUNT_ALL)
    row = agg.layout([(LATENCY,), (INIT,)])
    other = agg.series(series_key("Heron", "X", (), "None", 1))
    expected: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(
        lambda: [0.0, 0.0]
    )
    seconds: dict[tuple[str, tuple[tuple[str, str], ...]], set[int]] = defaultdict(set)

    def expect(name: str, dims: tuple[tuple[str, str], ...], value: float, at: float) -> None:
        expected[(name, dims)][0] += 1
        expected[(name, dims)][1] += value
        seconds[(name, dims)].add(int(at) * 1000)

    for which, at, value, extra in adds:
        if which == 0:
            agg.add_value(scalar, value, at)
            expect("Invocations", FN, value, at)
            expect("Invocations", (), value, at)
        elif which == 1:
            agg.add_row(row, (value, extra), at)
            expect("Duration", FN, value, at)
            if extra is not None:
                expect("InitDuration", FN, extra, at)
        else:
            agg.add_value(other, value, at)
            expect("X", (), value, at)
    samples = agg.drain(cut) + agg.drain()
    assert agg.pending == 0
    got = totals(samples)
    assert set(got) == set(expected)
    for key, (count, total) in expected.items():
        assert got[key][0] == count
        assert math.isclose(got[key][1], total, rel_tol=1e-9, abs_tol=1e-6)
        assert {s.timestamp_ms for s in samples if (s.name, s.dimensions) == key} == seconds[key]
    # One sample per series and second, whichever side of the cut it fell on.
    stamps = [(s.name, s.dimensions, s.timestamp_ms) for s in samples]
    assert len(stamps) == len(set(stamps))
