"""An in-memory telemetry sink, for tests and ``heron invoke``.

``heron up`` uses the monitor's sink (``heron.monitor.telemetry_sink``), which stores everything
in the log and metric stores.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from heron.types import Dimensions, LogEvent, MetricDatum


class MemorySink:
    """Keeps every log event and datum in lists; for tests and for ``heron invoke``."""

    def __init__(self) -> None:
        self.log_events: list[LogEvent] = []
        self.datums: list[MetricDatum] = []
        self._lock = threading.Lock()

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Append log events."""
        with self._lock:
            self.log_events.extend(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Append metric datums."""
        with self._lock:
            self.datums.extend(datums)

    def flush(self) -> None:
        """Nothing to flush: memory is the destination."""

    def close(self) -> None:
        """Nothing to release."""

    def messages(self, group: str) -> list[str]:
        """The messages logged to ``group``, in arrival order."""
        with self._lock:
            return [e.message for e in self.log_events if e.group == group]

    def values(
        self, namespace: str, name: str, dimensions: Dimensions | None = None
    ) -> list[float]:
        """The values of one metric, optionally restricted to one exact dimension set."""
        with self._lock:
            return [
                d.value
                for d in self.datums
                if d.namespace == namespace
                and d.name == name
                and (dimensions is None or d.dimensions == dimensions)
            ]
