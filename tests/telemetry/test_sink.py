"""The in-memory sink keeps what it is given and answers the questions tests ask of it."""

import pytest

from heron.telemetry.sink import MemorySink, sample_values
from heron.types import LogEvent, MetricDatum, Sample


def test_memory_sink_filters_by_group_and_dimensions() -> None:
    sink = MemorySink()
    sink.put_log_events([LogEvent("a", "s", 1, "x"), LogEvent("b", "s", 1, "y")])
    dims = MetricDatum.dims({"FunctionName": "f"})
    sink.put_metric_data([MetricDatum("N", "M", 1.0, dimensions=dims), MetricDatum("N", "M", 2.0)])
    assert sink.messages("a") == ["x"]
    assert sink.values("N", "M", dims) == [1.0]
    assert sink.values("N", "M") == [1.0, 2.0]


def test_memory_sink_expands_samples_after_datums() -> None:
    sink = MemorySink()
    dims = MetricDatum.dims({"FunctionName": "f"})
    sink.put_metric_data([MetricDatum("N", "M", 9.0, dimensions=dims)])
    sink.put_samples(
        [
            Sample("N", "M", dims, 1000, (1.0, 0.0), (2.0, 1.0)),
            Sample("N", "M", (), 1000, (5.0, 6.0)),
            Sample("N", "Other", dims, 1000, (7.0,)),
        ]
    )
    assert sink.values("N", "M", dims) == [9.0, 1.0, 1.0, 0.0]
    assert sink.values("N", "M") == [9.0, 1.0, 1.0, 0.0, 5.0, 6.0]


def test_fractional_counts_are_not_expanded_silently() -> None:
    with pytest.raises(ValueError, match="whole number"):
        sample_values(Sample("N", "M", (), 0, (1.0,), (0.5,)))
