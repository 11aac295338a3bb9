"""How GetMetricData (and the dashboard's alert pages) read MetricStat queries from a store.

``store_fetch`` answers one query at a time, ``store_fetch_many`` all of a request's queries in
one batched read when the store offers it; both take numpy arrays from the metric store when it
has them, so 1,440 points per series are not turned into lists and back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heron.monitor.contracts import MetricId, MetricQueries
from heron.monitor.metrics.metric_data import Fetch, FetchMany, FetchRequest, Points
from heron.monitor.metrics.store import SeriesRequest


def read_points(
    store: MetricQueries,
    metric: MetricId,
    *,
    start_ms: int,
    end_ms: int,
    period_s: int,
    statistic: str,
    unit: str | None,
) -> Points:
    """One statistic's points from ``store``; as numpy arrays when the store offers them (the
    metric store does), which ``Series`` then keeps without converting 1,440 values twice."""
    read = getattr(store, "series_arrays", store.series)
    points: Points = read(
        metric, start_ms=start_ms, end_ms=end_ms, period_s=period_s, statistic=statistic, unit=unit
    )
    return points


def store_fetch(store: MetricQueries) -> Fetch:
    """A ``fetch`` that reads MetricStat queries from the metric store."""

    def fetch(metric_stat: Mapping[str, Any], start_ms: int, end_ms: int) -> Points:
        metric, start, end, period, stat, unit = series_request(metric_stat, start_ms, end_ms)
        return read_points(
            store, metric, start_ms=start, end_ms=end, period_s=period, statistic=stat, unit=unit
        )

    return fetch


def series_request(metric_stat: Mapping[str, Any], start_ms: int, end_ms: int) -> SeriesRequest:
    """The store read (``MetricStore.series_many``'s request tuple) one MetricStat asks for."""
    metric = metric_stat["Metric"]
    dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or []))
    return (
        MetricId(metric["Namespace"], metric["MetricName"], dims),
        start_ms,
        end_ms,
        int(metric_stat["Period"]),
        str(metric_stat["Stat"]),
        metric_stat.get("Unit"),
    )


def store_fetch_many(store: MetricQueries) -> FetchMany | None:
    """A ``fetch_many`` reading through the store's ``series_many``, or None without one."""
    series_many: Callable[[Sequence[SeriesRequest]], Sequence[tuple[list[int], list[float]]]] | None
    series_many = getattr(store, "series_many", None)  # not part of the MetricQueries protocol
    if series_many is None:
        return None

    def fetch_many(
        reads: Sequence[FetchRequest],
    ) -> Sequence[Points]:
        answers: Sequence[tuple[list[int], list[float]]]
        answers = series_many([series_request(*read) for read in reads])
        return answers

    return fetch_many
