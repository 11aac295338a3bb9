"""What the monitor's parts promise each other: samples in, series and statistics out.

The metrics store implements ``MetricSink`` and ``MetricQueries``; the log store's EMF extraction
and metric filters write through ``MetricSink``; the AWS API's operations read through
``MetricQueries``. Times are epoch milliseconds; periods are seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from heron.types import Dimensions, Sample

__all__ = ["MetricId", "MetricQueries", "MetricSink", "Sample"]


@dataclass(frozen=True, slots=True)
class MetricId:
    """A metric's identity: namespace, name and its exact (sorted) dimension set."""

    namespace: str
    name: str
    dimensions: Dimensions


class MetricSink(Protocol):
    """Accepts validated samples; durable once ``put_samples`` returns."""

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Store ``samples`` (already validated against CloudWatch's rules)."""


class MetricQueries(Protocol):
    """Reads the metric store the way CloudWatch's query APIs need it."""

    def series(
        self,
        metric: MetricId,
        *,
        start_ms: int,
        end_ms: int,
        period_s: int,
        statistic: str,
        unit: str | None = None,
    ) -> tuple[list[int], list[float]]:
        """One statistic per period with data (period-start timestamps ascending, values)."""

    def statistics(
        self,
        metric: MetricId,
        *,
        start_ms: int,
        end_ms: int,
        period_s: int,
        statistics: Sequence[str],
        unit: str | None = None,
    ) -> list[dict[str, Any]]:
        """GetMetricStatistics datapoints: ``{"Timestamp": ms, "<Stat>": v, ..., "Unit": u}``."""

    def list_metrics(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        dimension_filters: Sequence[tuple[str, str | None]] = (),
        active_since_ms: int | None = None,
    ) -> list[MetricId]:
        """Metrics matching the filters, sorted by (namespace, name, dimensions)."""
