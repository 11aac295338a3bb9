"""Launch ``heron <args>`` with the durable telemetry sink replaced by one that drops everything.

Used only by telemetry_cost.py to compare throughput without the sink's SQLite writes. The rest
of the telemetry path (access-log records, API metric datums, REPORT/platform lines, EMF parsing
in the runtime) still runs; only the sink is replaced, from outside, without changing src/.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import heron.up
from heron.cli import main
from heron.types import LogEvent, MetricDatum


class NullSink:
    """A TelemetrySink that accepts and discards everything."""

    def __init__(self, path: Path, **_: object) -> None:
        self.path = path

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Drop log events."""

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Drop datums."""

    def flush(self) -> None:
        """Nothing buffered."""

    def close(self) -> None:
        """Nothing to release."""


if __name__ == "__main__":
    heron.up.SqliteSink = NullSink  # type: ignore[misc,assignment]
    sys.exit(main(sys.argv[1:]))
