"""Fakes shared by the runtime tests: an in-memory telemetry sink and a hand-moved clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from heron.runtime.runtime import LambdaRuntime
from heron.telemetry.sink import sample_values
from heron.types import LogEvent, MetricDatum, Sample

#: Builds a LambdaRuntime from function specs (keyword arguments pass through).
RuntimeFactory = Callable[..., LambdaRuntime]


class FakeSink:
    """Keeps what the runtime sends, for assertions."""

    def __init__(self) -> None:
        self.log_events: list[LogEvent] = []
        self.datums: list[MetricDatum] = []
        self.samples: list[Sample] = []

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        self.log_events.extend(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        self.datums.extend(datums)

    def put_samples(self, samples: Sequence[Sample]) -> None:
        self.samples.extend(samples)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def messages(self, function: str) -> list[str]:
        return [e.message for e in self.log_events if e.group == f"/aws/lambda/{function}"]

    def points(self) -> list[tuple[str, str, tuple[tuple[str, str], ...], str, int, float]]:
        """Every value received, as (namespace, name, dimensions, unit, timestamp_ms, value):
        datums, then samples expanded by their counts."""
        out = [
            (d.namespace, d.name, d.dimensions, d.unit, d.timestamp_ms, d.value)
            for d in self.datums
        ]
        for s in self.samples:
            out += [
                (s.namespace, s.name, s.dimensions, s.unit, s.timestamp_ms, v)
                for v in sample_values(s)
            ]
        return out

    def values(self, name: str, function: str | None = None) -> list[float]:
        dims = (("FunctionName", function),) if function else ()
        return [
            value
            for namespace, metric, dimensions, _, _, value in self.points()
            if namespace == "AWS/Lambda" and metric == name and dimensions == dims
        ]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_793_873_800.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
