"""An in-memory telemetry sink, for tests and ``heron invoke``.

``heron up`` uses the monitor's sink (``heron.monitor.telemetry_sink``), which stores everything
in the log and metric stores.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from heron.types import Dimensions, LogEvent, MetricDatum, Sample


def sample_values(sample: Sample) -> list[float]:
    """A sample's values one by one, each repeated as often as its count says."""
    if not sample.counts:
        return list(sample.values)
    out: list[float] = []
    for value, count in zip(sample.values, sample.counts, strict=True):
        if count != int(count):
            raise ValueError(f"count {count!r} of {sample.name} is not a whole number")
        out.extend([value] * int(count))
    return out


class MemorySink:
    """Keeps every log event, datum and sample in lists; for tests and for ``heron invoke``."""

    def __init__(self) -> None:
        self.log_events: list[LogEvent] = []
        self.datums: list[MetricDatum] = []
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Append log events."""
        with self._lock:
            self.log_events.extend(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Append metric datums."""
        with self._lock:
            self.datums.extend(datums)

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Append aggregated samples."""
        with self._lock:
            self.samples.extend(samples)

    def flush(self) -> None:
        """Nothing to flush: memory is the destination."""

    def close(self) -> None:
        """Nothing to release."""

    def messages(self, group: str) -> list[str]:
        """The messages logged to ``group``, in arrival order."""
        with self._lock:
            return [e.message for e in self.log_events if e.group == group]

    def points(self) -> Iterator[tuple[str, str, Dimensions, str, int, float]]:
        """Every value received, datums first then samples expanded by their counts, as
        (namespace, name, dimensions, unit, timestamp_ms, value)."""
        with self._lock:
            datums, samples = list(self.datums), list(self.samples)
        for d in datums:
            yield d.namespace, d.name, d.dimensions, d.unit, d.timestamp_ms, d.value
        for s in samples:
            for value in sample_values(s):
                yield s.namespace, s.name, s.dimensions, s.unit, s.timestamp_ms, value

    def values(
        self, namespace: str, name: str, dimensions: Dimensions | None = None
    ) -> list[float]:
        """The values of one metric, optionally restricted to one exact dimension set."""
        return [
            value
            for ns, metric, dims, _, _, value in self.points()
            if ns == namespace and metric == name and (dimensions is None or dims == dimensions)
        ]
