"""The telemetry sink that feeds the monitor: log events into the log store, metrics into the store.

The gateway and runtime call ``put_*`` on the event loop, so nothing here blocks on disk: events,
datums and samples are buffered and a writer thread hands them to the stores every
``interval_s`` (group commit). ``flush`` waits until everything accepted before it is stored.
Metrics reach the metric store as one column-wise ``SampleBatch`` per write (its fast path), with
each series' store key computed once, not per datum.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from heron.monitor.contracts import MetricSink
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics import model, retention
from heron.monitor.metrics.ingest import SampleBatch
from heron.types import LogEvent, MetricDatum, Sample

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


def _check_units(units: Sequence[str]) -> None:
    for unit in units:
        if unit not in model.UNIT_CODES:
            raise ValueError(f"unit {unit!r} is not a CloudWatch unit; nothing was accepted")


class MonitorSink:
    """A TelemetrySink writing into the log store (which extracts EMF) and the metric store."""

    def __init__(
        self,
        logs: LogStore,
        metrics: MetricSink,
        *,
        interval_s: float = 0.2,
        max_buffer: int = 20_000,
    ) -> None:
        # 0.2 s rather than less: this thread shares the gateway's GIL, and fewer, larger group
        # commits take less of it (bench/README.md, figure 6); alarms and pushes still land in
        # well under their 2 s.
        self._logs_store = logs
        self._metrics = metrics
        # The metric store's column-wise entry point, when it has one (fakes may not).
        self._put_batch: Callable[[SampleBatch], None] | None = getattr(metrics, "put_batch", None)
        self._keys = model.MetricKeys()
        self._interval_s = interval_s
        self._max_buffer = max_buffer
        self._logs: list[LogEvent] = []
        self._datums: list[MetricDatum] = []
        self._samples: list[Sample] = []
        self._accepted = 0
        self._stored = 0
        self._closed = False
        self._flush_requested = False
        self._cond = threading.Condition()
        self._writer = threading.Thread(target=self._run, name="heron-monitor-sink", daemon=True)
        self._writer.start()

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Buffer log events for the log store."""
        self._accept(self._logs, events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Buffer metric datums for the metric store; ValueError (nothing kept) for a bad unit."""
        _check_units([d.unit for d in datums])
        self._accept(self._datums, datums)

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Buffer aggregated samples for the metric store; ValueError (nothing kept) for a bad
        unit."""
        _check_units([s.unit for s in samples])
        self._accept(self._samples, samples)

    def _accept(self, buffer: list[Any], items: Sequence[Any]) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the monitor sink is closed")
            was_empty = not self._pending()
            buffer.extend(items)
            self._accepted += len(items)
            if was_empty or self._pending() >= self._max_buffer:
                self._cond.notify_all()

    def _pending(self) -> int:
        return len(self._logs) + len(self._datums) + len(self._samples)

    def flush(self) -> None:
        """Block until everything accepted so far is stored."""
        with self._cond:
            target = self._accepted
            self._flush_requested = True
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
                # Sleep until something arrives (no idle wake-ups), then gather for up to one
                # interval so a burst becomes one group commit.
                while not (self._pending() or self._closed):
                    self._cond.wait()
                if not (self._closed or self._flush_requested) and (
                    self._pending() < self._max_buffer
                ):
                    self._cond.wait(timeout=self._interval_s)
                self._flush_requested = False
                logs, self._logs = self._logs, []
                datums, self._datums = self._datums, []
                samples, self._samples = self._samples, []
                closing = self._closed
            count = len(logs) + len(datums) + len(samples)
            if count:
                self._store(logs, datums, samples)
                with self._cond:
                    self._stored += count
                    self._cond.notify_all()
            elif closing:
                return

    def _store(
        self, logs: list[LogEvent], datums: list[MetricDatum], samples: list[Sample]
    ) -> None:
        # A failing store must not kill the writer: the telemetry would silently stop forever.
        try:
            if logs:
                self._logs_store.ingest(logs)
            if datums or samples:
                self._store_metrics(datums, samples)
        except Exception:
            log.exception(
                "storing %d log events, %d datums and %d samples failed",
                len(logs),
                len(datums),
                len(samples),
            )

    def _store_metrics(self, datums: list[MetricDatum], samples: list[Sample]) -> None:
        if self._put_batch is None:
            self._metrics.put_samples([*map(datum_to_sample, datums), *samples])
            return
        batch = SampleBatch()
        codes = model.UNIT_CODES
        for d in datums:
            batch.add_value(
                self._keys.key(d.namespace, d.name, d.dimensions),
                codes[d.unit],
                d.timestamp_ms,
                retention.level_for_resolution(d.storage_resolution),
                d.value,
            )
        for s in samples:
            key = self._keys.key(s.namespace, s.name, s.dimensions)
            level = retention.level_for_resolution(s.storage_resolution)
            if s.values:
                counts = s.counts or None
                batch.add_values(key, codes[s.unit], s.timestamp_ms, level, s.values, counts)
            elif s.statistic_set is not None:
                batch.add_statistic_set(key, codes[s.unit], s.timestamp_ms, level, s.statistic_set)
        self._put_batch(batch)
