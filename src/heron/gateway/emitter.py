"""A small buffer between the gateway's hot path and the telemetry sink.

Requests append log events to a list and metric values to a ``MetricAggregator``; the gateway's
ticker hands the logs and the metrics of every finished second to the sink every
``telemetry_flush_interval_s`` (a full log buffer flushes at once), so a request never waits on
the sink and the sink sees a few large batches — and one sample per series and second — instead
of many small ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from heron.telemetry.aggregator import MetricAggregator
from heron.types import Clock, LogEvent, MetricDatum, Sample, TelemetrySink

logger = logging.getLogger(__name__)


class TelemetryBuffer:
    """Collects log events and metric values; ``tick``/``flush`` hand them to the sink."""

    __slots__ = ("_logs", "aggregator", "max_pending", "on_first_log", "sink")

    def __init__(
        self, sink: TelemetrySink, max_pending: int = 4096, clock: Clock = time.time
    ) -> None:
        self.sink = sink
        self.max_pending = max_pending
        self.aggregator = MetricAggregator(clock)
        self._logs: list[LogEvent] = []
        #: Called when a log event arrives in an empty buffer (wakes an idle housekeeper).
        self.on_first_log: Callable[[], None] | None = None

    def log(self, event: LogEvent) -> None:
        """Queue one log event."""
        if not self._logs and self.on_first_log is not None:
            self.on_first_log()
        self._logs.append(event)
        if len(self._logs) >= self.max_pending:
            self._hand_over(None, drain_metrics=False)

    def metrics(self, datums: Iterable[MetricDatum]) -> None:
        """Aggregate ready-made datums (each in the second of its timestamp)."""
        add = self.aggregator.add
        for d in datums:
            add(
                d.namespace,
                d.name,
                d.dimensions,
                d.value,
                d.unit,
                d.storage_resolution,
                at=d.timestamp_ms / 1000,
            )

    @property
    def pending(self) -> int:
        """Log events plus (series group, second) metric lists not yet handed to the sink."""
        return len(self._logs) + self.aggregator.pending

    def tick(self, now: float) -> None:
        """Hand queued logs and the metrics of seconds finished by ``now`` to the sink."""
        self._hand_over(now, drain_metrics=True)

    def flush(self) -> None:
        """Hand everything queued, the current second's metrics included, to the sink."""
        self._hand_over(None, drain_metrics=True)

    def _hand_over(self, now: float | None, *, drain_metrics: bool) -> None:
        logs, self._logs = self._logs, []
        samples: list[Sample] = self.aggregator.drain(now) if drain_metrics else []
        try:
            if logs:
                self.sink.put_log_events(logs)
            if samples:
                self.sink.put_samples(samples)
        except Exception:
            # Telemetry must never take the API down; the monitor notices the gap instead.
            logger.exception(
                "telemetry sink rejected %d log events and %d samples", len(logs), len(samples)
            )
