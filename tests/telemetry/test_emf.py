"""The EMF writer: document shape, validation when adding, auto-flush at 100 metrics."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.telemetry.emf import (
    MAX_DIMENSIONS,
    MAX_METRICS,
    STANDARD_UNITS,
    EmfValidationError,
    MetricsWriter,
    is_emf_document,
)

NOW = 1_793_873_702.5


def writer(**kw: Any) -> tuple[MetricsWriter, io.StringIO]:
    out = io.StringIO()
    kw.setdefault("dimensions", {"FunctionName": "sendMessage"})
    return MetricsWriter("Heron", stream=out, clock=lambda: NOW, **kw), out


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_flush_prints_one_line_in_the_cloudwatch_shape() -> None:
    metrics, out = writer()
    metrics.add_metric("MessagesSent", "Count", 1)
    metrics.add_metric("MessageLatency", "Milliseconds", 12.5)
    metrics.add_metric("MessageLatency", "Milliseconds", 7)
    metrics.add_metric("Fast", "Count", 1, resolution=1)
    metrics.flush()
    assert out.getvalue().count("\n") == 1
    (document,) = lines(out)
    assert document == {
        "_aws": {
            "Timestamp": 1_793_873_702_500,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Heron",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [
                        {"Name": "MessagesSent", "Unit": "Count"},
                        {"Name": "MessageLatency", "Unit": "Milliseconds"},
                        {"Name": "Fast", "Unit": "Count", "StorageResolution": 1},
                    ],
                }
            ],
        },
        "FunctionName": "sendMessage",
        "MessagesSent": 1,
        "MessageLatency": [12.5, 7],
        "Fast": 1,
    }
    assert is_emf_document(document)


def test_flush_without_metrics_prints_nothing_and_a_second_flush_is_empty() -> None:
    metrics, out = writer()
    assert metrics.flush() is None
    metrics.add_metric("A", "Count", 1)
    metrics.flush()
    metrics.flush()
    assert len(lines(out)) == 1


def test_the_aggregate_dimension_set_is_optional() -> None:
    metrics, out = writer(include_aggregate=True)
    metrics.add_metric("A", "Count", 1)
    metrics.flush()
    assert lines(out)[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["FunctionName"], []]


def test_metadata_is_top_level_but_not_a_metric() -> None:
    metrics, out = writer()
    metrics.add_metadata("requestId", "abc")
    metrics.add_metric("A", "Count", 1)
    metrics.flush()
    (document,) = lines(out)
    assert document["requestId"] == "abc"
    names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["A"]


def test_the_101st_metric_flushes_the_first_hundred_and_keeps_dimensions() -> None:
    metrics, out = writer()
    for i in range(MAX_METRICS + 1):
        metrics.add_metric(f"M{i}", "Count", i)
    assert len(lines(out)) == 1
    assert len(lines(out)[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]) == MAX_METRICS
    metrics.flush()
    second = lines(out)[1]
    assert second["FunctionName"] == "sendMessage" and second["M100"] == 100


def test_the_101st_value_of_one_metric_starts_a_new_document() -> None:
    metrics, out = writer()
    for i in range(101):
        metrics.add_metric("Latency", "Milliseconds", i)
    metrics.flush()
    first, second = lines(out)
    assert len(first["Latency"]) == 100 and second["Latency"] == 100


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: m.add_metric("A", "Meters", 1), "unit"),
        (lambda m: m.add_metric("A", "Count", math.nan), "finite"),
        (lambda m: m.add_metric("A", "Count", math.inf), "finite"),
        (lambda m: m.add_metric("A", "Count", "1"), "number"),
        (lambda m: m.add_metric("A", "Count", True), "number"),
        (lambda m: m.add_metric("", "Count", 1), "name"),
        (lambda m: m.add_metric("x" * 256, "Count", 1), "name"),
        (lambda m: m.add_metric(":A", "Count", 1), "':'"),
        (lambda m: m.add_metric("_aws", "Count", 1), "reserved"),
        (lambda m: m.add_metric("A", "Count", 1, resolution=5), "resolution"),
        (lambda m: m.add_metric("FunctionName", "Count", 1), "clashes"),
        (lambda m: m.add_dimension("D", ""), "1-1024"),
        (lambda m: m.add_dimension("D", 5), "1-1024"),
        (lambda m: m.add_dimension("é", "v"), "ASCII"),
    ],
)
def test_invalid_additions_are_refused_and_add_nothing(call: Any, match: str) -> None:
    metrics, _ = writer()
    with pytest.raises(EmfValidationError, match=match):
        call(metrics)
    assert metrics.metric_count == 0
    assert metrics.flush() is None


def test_a_metric_cannot_change_unit() -> None:
    metrics, _ = writer()
    metrics.add_metric("A", "Count", 1)
    with pytest.raises(EmfValidationError):
        metrics.add_metric("A", "Seconds", 1)


def test_at_most_30_dimensions() -> None:
    metrics, _ = writer(dimensions={})
    for i in range(MAX_DIMENSIONS):
        metrics.add_dimension(f"D{i}", "v")
    with pytest.raises(EmfValidationError, match="30"):
        metrics.add_dimension("D30", "v")
    metrics.add_dimension("D0", "changed")  # replacing an existing one is fine


@pytest.mark.parametrize("namespace", ["", "AWS/Lambda", ":x", "x" * 256, "Héron"])
def test_invalid_namespaces_are_refused(namespace: str) -> None:
    with pytest.raises(EmfValidationError):
        MetricsWriter(namespace)


def test_serializing_nothing_is_an_error() -> None:
    with pytest.raises(EmfValidationError):
        writer()[0].serialize()


@given(
    values=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.floats(allow_nan=False, allow_infinity=False, width=32)
            | st.integers(-(10**6), 10**6),
        ),
        min_size=1,
        max_size=250,
    ),
    unit=st.sampled_from(sorted(STANDARD_UNITS)),
)
def test_every_value_added_is_in_exactly_one_valid_document(
    values: list[tuple[str, float]], unit: str
) -> None:
    metrics, out = writer()
    for name, value in values:
        metrics.add_metric(name, unit, value)
    metrics.flush()
    recovered: list[tuple[str, float]] = []
    for document in lines(out):
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert len(directive["Metrics"]) <= MAX_METRICS
        for definition in directive["Metrics"]:
            assert definition["Unit"] in STANDARD_UNITS
            value = document[definition["Name"]]
            batch = value if isinstance(value, list) else [value]
            assert len(batch) <= 100
            recovered += [(definition["Name"], v) for v in batch]
    assert sorted(recovered, key=repr) == sorted(values, key=repr)
