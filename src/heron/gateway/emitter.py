"""A small buffer between the gateway's hot path and the telemetry sink.

Requests append log events and datums to lists; the gateway's ticker hands them to the sink every
``telemetry_flush_interval_s`` (and a full buffer flushes at once), so a request never waits on
the sink and the sink sees a few large batches instead of many small ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from heron.types import LogEvent, MetricDatum, TelemetrySink

logger = logging.getLogger(__name__)


class TelemetryBuffer:
    """Collects log events and metric datums; ``flush()`` hands them to the sink."""

    __slots__ = ("_datums", "_logs", "max_pending", "sink")

    def __init__(self, sink: TelemetrySink, max_pending: int = 4096) -> None:
        self.sink = sink
        self.max_pending = max_pending
        self._logs: list[LogEvent] = []
        self._datums: list[MetricDatum] = []

    def log(self, event: LogEvent) -> None:
        """Queue one log event."""
        self._logs.append(event)
        if len(self._logs) >= self.max_pending:
            self.flush()

    def metrics(self, datums: Iterable[MetricDatum]) -> None:
        """Queue metric datums."""
        self._datums.extend(datums)
        if len(self._datums) >= self.max_pending:
            self.flush()

    @property
    def pending(self) -> int:
        """Records queued and not yet handed to the sink."""
        return len(self._logs) + len(self._datums)

    def flush(self) -> None:
        """Hand everything queued to the sink; a failing sink is logged, never raised to a client."""
        logs, self._logs = self._logs, []
        datums, self._datums = self._datums, []
        try:
            if logs:
                self.sink.put_log_events(logs)
            if datums:
                self.sink.put_metric_data(datums)
        except Exception:
            # Telemetry must never take the API down; the monitor notices the gap instead.
            logger.exception(
                "telemetry sink rejected %d log events and %d datums", len(logs), len(datums)
            )
