"""The in-memory sink keeps what it is given and answers the questions tests ask of it."""

from heron.telemetry.sink import MemorySink
from heron.types import LogEvent, MetricDatum


def test_memory_sink_filters_by_group_and_dimensions() -> None:
    sink = MemorySink()
    sink.put_log_events([LogEvent("a", "s", 1, "x"), LogEvent("b", "s", 1, "y")])
    dims = MetricDatum.dims({"FunctionName": "f"})
    sink.put_metric_data([MetricDatum("N", "M", 1.0, dimensions=dims), MetricDatum("N", "M", 2.0)])
    assert sink.messages("a") == ["x"]
    assert sink.values("N", "M", dims) == [1.0]
    assert sink.values("N", "M") == [1.0, 2.0]
