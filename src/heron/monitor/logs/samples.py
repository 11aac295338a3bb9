"""Batching extracted datapoints into few ``Sample`` objects before they reach the MetricSink.

EMF lines and metric filters yield many datapoints for few series. A batch keeps one row of
values per (metric group, dimensions, second) — one dict operation per line rather than per
datapoint — and only at flush turns them into one Values-array Sample per series and second
(CloudWatch aggregates on ≥ 1 s buckets, so nothing observable is lost).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from heron.monitor.contracts import MetricSink, Sample
from heron.monitor.metrics import model, retention
from heron.monitor.metrics.ingest import SampleBatch as ColumnBatch
from heron.types import Dimensions

#: One metric's identity within a slot: (namespace, name, unit, storage resolution).
MetricDesc = tuple[str, str, str, int]


class SampleBatch:
    """Accumulates rows of datapoints per slot, dimensions and second; ``flush`` sends them."""

    __slots__ = ("_keys", "_slot_ids", "_slots", "rows")

    def __init__(self) -> None:
        self._slots: list[tuple[MetricDesc, ...]] = []
        self._slot_ids: dict[tuple[MetricDesc, ...], int] = {}
        #: Rows of values by (slot, dimensions, second); EMF's fast path appends to it directly.
        self.rows: dict[tuple[int, Dimensions, int], list[tuple[Any, ...]]] = {}
        self._keys = model.MetricKeys()

    def slot(self, metrics: tuple[MetricDesc, ...]) -> int:
        """The id of a group of metrics that are reported together (registered once)."""
        sid = self._slot_ids.get(metrics)
        if sid is None:
            sid = self._slot_ids[metrics] = len(self._slots)
            self._slots.append(metrics)
        return sid

    def add_row(
        self, slot: int, dimensions: Dimensions, timestamp_ms: int, row: tuple[Any, ...]
    ) -> None:
        """Add one value per metric of ``slot``: a number, a list of numbers, or None (absent)."""
        key = (slot, dimensions, timestamp_ms - timestamp_ms % 1000)
        rows = self.rows.get(key)
        if rows is None:
            self.rows[key] = [row]
        else:
            rows.append(row)

    def add(
        self,
        namespace: str,
        name: str,
        dimensions: Dimensions,
        unit: str,
        resolution: int,
        timestamp_ms: int,
        value: float,
    ) -> None:
        """Add one datapoint of one metric."""
        self.add_row(
            self.slot(((namespace, name, unit, resolution),)), dimensions, timestamp_ms, (value,)
        )

    def __bool__(self) -> bool:
        return bool(self.rows)

    def _series(self) -> Iterator[tuple[MetricDesc, Dimensions, int, list[float]]]:
        """(metric, dimensions, second, values) per series and second."""
        for (slot, dims, ts), rows in self.rows.items():
            for i, desc in enumerate(self._slots[slot]):
                values: list[float] = []
                for row in rows:
                    v = row[i]
                    if v is None:
                        continue
                    if type(v) is list:
                        values.extend(v)
                    else:
                        values.append(v)
                if values:
                    yield desc, dims, ts, values

    def samples(self) -> list[Sample]:
        """The gathered datapoints as Samples (one per series and second)."""
        return [
            Sample(ns, name, dims, ts, tuple(values), (), None, unit, res)
            for (ns, name, unit, res), dims, ts, values in self._series()
        ]

    def flush(self, sink: MetricSink | None) -> list[Sample]:
        """Send everything to ``sink`` (if any), empty the batch and return what was sent."""
        samples = self.samples() if self.rows else []
        if samples and sink is not None:
            sink.put_samples(samples)
        self.rows = {}
        return samples

    def flush_columns(self, put_batch: Callable[[ColumnBatch], None]) -> None:
        """Send everything to a metric store's column-wise ``put_batch`` and empty the batch;
        no Sample objects, and each series' store key is built once, not per flush."""
        if not self.rows:
            return
        out = ColumnBatch()
        key, codes, level_for = self._keys.key, model.UNIT_CODES, retention.level_for_resolution
        for (ns, name, unit, res), dims, ts, values in self._series():
            out.add_values(key(ns, name, dims), codes[unit], ts, level_for(res), values)
        self.rows = {}
        put_batch(out)
