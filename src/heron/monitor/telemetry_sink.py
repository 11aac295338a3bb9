"""The telemetry sink that feeds the monitor: log events into the log store, datums into metrics.

The gateway and runtime call ``put_*`` on the event loop, so nothing here blocks on disk: events
and datums are buffered and a writer thread hands them to the stores every ``interval_s``
(group commit). ``flush`` waits until everything accepted before it is stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from heron.monitor.contracts import MetricSink, Sample
from heron.monitor.logs.store import LogStore
from heron.types import LogEvent, MetricDatum

log = logging.getLogger(__name__)


def datum_to_sample(datum: MetricDatum) -> Sample:
    """The monitor's sample for one platform datum."""
    return Sample(
        namespace=datum.namespace,
        name=datum.name,
        dimensions=datum.dimensions,
        timestamp_ms=datum.timestamp_ms,
        values=(datum.value,),
        unit=datum.unit,
        storage_resolution=datum.storage_resolution,
    )


class MonitorSink:
    """A TelemetrySink writing into the log store (which extracts EMF) and the metric store."""

    def __init__(
        self,
        logs: LogStore,
        metrics: MetricSink,
        *,
        interval_s: float = 0.05,
        max_buffer: int = 20_000,
    ) -> None:
        self._logs_store = logs
        self._metrics = metrics
        self._interval_s = interval_s
        self._max_buffer = max_buffer
        self._logs: list[LogEvent] = []
        self._datums: list[MetricDatum] = []
        self._accepted = 0
        self._stored = 0
        self._closed = False
        self._cond = threading.Condition()
        self._writer = threading.Thread(target=self._run, name="heron-monitor-sink", daemon=True)
        self._writer.start()

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Buffer log events for the log store."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the monitor sink is closed")
            self._logs.extend(events)
            self._accepted += len(events)
            if len(self._logs) + len(self._datums) >= self._max_buffer:
                self._cond.notify_all()

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Buffer metric datums for the metric store."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the monitor sink is closed")
            self._datums.extend(datums)
            self._accepted += len(datums)
            if len(self._logs) + len(self._datums) >= self._max_buffer:
                self._cond.notify_all()

    def flush(self) -> None:
        """Block until everything accepted so far is stored."""
        with self._cond:
            target = self._accepted
            self._cond.notify_all()
            while self._stored < target and self._writer.is_alive():
                self._cond.wait(timeout=1.0)

    def close(self) -> None:
        """Store what is buffered and stop the writer thread (the stores stay open)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._writer.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not (self._logs or self._datums or self._closed):
                    self._cond.wait(timeout=self._interval_s)
                logs, self._logs = self._logs, []
                datums, self._datums = self._datums, []
                closing = self._closed
            if logs or datums:
                self._store(logs, datums)
                with self._cond:
                    self._stored += len(logs) + len(datums)
                    self._cond.notify_all()
            elif closing:
                return

    def _store(self, logs: list[LogEvent], datums: list[MetricDatum]) -> None:
        # A failing store must not kill the writer: the telemetry would silently stop forever.
        try:
            if logs:
                self._logs_store.ingest(logs)
            if datums:
                self._metrics.put_samples([datum_to_sample(d) for d in datums])
        except Exception:
            log.exception("storing %d log events and %d datums failed", len(logs), len(datums))
