"""Launch ``heron <args>`` with the monitor's telemetry sink replaced by one that drops everything.

Used only by telemetry_cost.py to compare throughput without the sink's work (log store inserts,
EMF extraction, metric store commits). The rest of the telemetry path (access-log records, API
metric samples, REPORT/platform lines in the runtime) still runs; only the sink is replaced, from
outside, without changing src/: ``heron.monitor.service.Monitor`` builds its ``sink`` from the
module's ``MonitorSink`` name, which is swapped for ``NullSink`` before the CLI starts.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import heron.monitor.service
from heron.cli import main
from heron.types import LogEvent, MetricDatum, Sample


class NullSink:
    """A telemetry sink with MonitorSink's methods that accepts and discards everything."""

    def __init__(self, logs: object, metrics: object, **_: object) -> None:
        self.logs = logs
        self.metrics = metrics

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Drop log events."""

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Drop datums."""

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Drop samples."""

    def flush(self) -> None:
        """Nothing buffered."""

    def close(self) -> None:
        """Nothing to release."""


if __name__ == "__main__":
    heron.monitor.service.MonitorSink = NullSink  # type: ignore[misc,assignment]
    sys.exit(main(sys.argv[1:]))
