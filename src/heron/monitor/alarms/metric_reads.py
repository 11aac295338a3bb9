"""An evaluation round's metric reads: alarms on the same series share one (batched) read."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from heron.awsapi.errors import AwsError
from heron.monitor.alarms.evaluate import (
    Evaluation,
    compile_alarm,
    evaluate_metric_alarm,
    evaluation_window,
)
from heron.monitor.contracts import MetricId, MetricQueries
from heron.monitor.metrics.metric_data import run_queries
from heron.monitor.metrics.metric_queries import QueryPlan, plan_queries

log = logging.getLogger(__name__)

Points = list[tuple[int, float]]
_GroupKey = tuple[MetricId, int, str, str | None]


class _FetchPlan(NamedTuple):
    """A single-metric alarm's reads, derived from one configuration (``stamp``)."""

    stamp: Any
    series: tuple[int, ...]  # numbered group keys: the statistic's, then SampleCount's if needed
    grid: tuple[int, int]  # (evaluation grid ms, window length ms)


@runtime_checkable
class BatchQueries(Protocol):
    """A metric store that answers many ``series`` reads in one call (``MetricStore``)."""

    def series_many(
        self, requests: Sequence[tuple[MetricId, int, int, int, str, str | None]]
    ) -> list[tuple[list[int], list[float]]]:
        """``series`` for every request, in request order."""


class MetricReads:
    """Reads the data a round's metric alarms need and evaluates them on it.

    Plans are cached per alarm configuration; ``forget`` drops them after configuration changes.
    """

    def __init__(self, metrics: MetricQueries) -> None:
        self._metrics = metrics
        self._plans: dict[tuple[str, float], QueryPlan] = {}
        self._fetch_plans: dict[str, _FetchPlan] = {}
        # Group keys numbered once, so a round hashes small ints instead of metric identities.
        self._key_ids: dict[_GroupKey, int] = {}
        self._group_keys: list[_GroupKey] = []

    def forget(self, alarms: Mapping[str, Any]) -> None:
        """Drop cached plans after a configuration change; ``alarms`` are the ones that remain."""
        self._plans = {k: v for k, v in self._plans.items() if k[0] in alarms}
        # A Put may keep the configuration timestamp (same clock instant): plan afresh.
        self._fetch_plans.clear()
        self._key_ids.clear()
        self._group_keys.clear()

    def evaluate(
        self, alarms: Sequence[Mapping[str, Any]], now_ms: int
    ) -> Iterable[tuple[Mapping[str, Any], Evaluation]]:
        """Each single-metric or metric-math alarm with its evaluation on the data read for it.

        An alarm whose metric math fails is logged and left out.
        """
        windows: dict[int, tuple[int, int]] = {}
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        plans: list[tuple[Mapping[str, Any], tuple[int, int, int]]] = []
        single: list[tuple[Mapping[str, Any], _FetchPlan, int, int]] = []
        # Pass 1: which (metric, period, statistic, unit) series over which span each alarm needs;
        # the per-alarm parts come from a plan cached per configuration, the window per grid.
        for alarm in alarms:
            if "Metrics" in alarm:
                plans.append((alarm, evaluation_window(alarm, now_ms)))
                continue
            plan = self._fetch_plan(alarm)
            span = spans.get(plan.grid)
            if span is None:
                grid_ms, range_ms = plan.grid
                end = now_ms - now_ms % grid_ms
                span = spans[plan.grid] = (end - range_ms, end)
            start, end = span
            for key in plan.series:
                known = windows.get(key)
                if known is None:
                    windows[key] = span
                elif known[0] > start or known[1] < end:
                    windows[key] = (min(known[0], start), max(known[1], end))
            single.append((alarm, plan, start, end))
        # Pass 2: every distinct series, in one batched store call where the store offers one.
        groups = self._group_keys
        by_key = self._fetch({groups[i]: span for i, span in windows.items()})
        fetched = {i: by_key[groups[i]] for i in windows}
        # Alarms on the same series and window share one (read-only) slice.
        slices: dict[tuple[int, int, int], Points] = {}
        for alarm, plan, start, end in single:
            points = _shared_slice(slices, fetched, plan.series[0], start, end)
            counts = (
                _shared_slice(slices, fetched, plan.series[1], start, end)
                if len(plan.series) > 1
                else None
            )
            yield alarm, evaluate_metric_alarm(alarm, points, now_ms=now_ms, sample_counts=counts)
        for alarm, window in plans:
            try:
                points = self._math_points(alarm, window, now_ms)
            except (AwsError, ValueError):
                log.warning("metric math of alarm %s failed", alarm["AlarmName"], exc_info=True)
                continue
            yield alarm, evaluate_metric_alarm(alarm, points, now_ms=now_ms)

    def _fetch_plan(self, alarm: Mapping[str, Any]) -> _FetchPlan:
        """The alarm's series keys and window shape, computed once per configuration."""
        name = alarm["AlarmName"]
        stamp = alarm.get("AlarmConfigurationUpdatedTimestamp")
        cached = self._fetch_plans.get(name)
        if cached is not None and cached.stamp == stamp:
            return cached
        start, end, period = evaluation_window(alarm, 0)
        # The window at 0 is [-range, 0): its length; the grid is the alarm's evaluation grid.
        grid_ms = compile_alarm(alarm).grid_ms
        keys = [_group_key(alarm, period, _statistic(alarm))]
        if _needs_sample_counts(alarm):
            keys.append(_group_key(alarm, period, "SampleCount"))
        series = tuple(self._key_id(k) for k in keys)
        plan = self._fetch_plans[name] = _FetchPlan(stamp, series, (grid_ms, end - start))
        return plan

    def _key_id(self, key: _GroupKey) -> int:
        """The number of a group key (numbered on first sight)."""
        number = self._key_ids.get(key)
        if number is None:
            number = self._key_ids[key] = len(self._group_keys)
            self._group_keys.append(key)
        return number

    def _fetch(
        self, windows: Mapping[_GroupKey, tuple[int, int]]
    ) -> dict[_GroupKey, tuple[list[int], list[float]]]:
        """Each group's series over its span: one ``series_many`` call, else one call each."""
        keys = list(windows)
        if isinstance(self._metrics, BatchQueries) and keys:
            requests = [(k[0], *windows[k], k[1], k[2], k[3]) for k in keys]
            try:
                return dict(zip(keys, self._metrics.series_many(requests), strict=True))
            except ValueError:  # one bad group: read them singly so the others still count
                log.warning("batched alarm read failed; reading series one by one", exc_info=True)
        fetched: dict[_GroupKey, tuple[list[int], list[float]]] = {}
        for key in keys:
            metric, period, statistic, unit = key
            start, end = windows[key]
            try:
                fetched[key] = self._metrics.series(
                    metric,
                    start_ms=start,
                    end_ms=end,
                    period_s=period,
                    statistic=statistic,
                    unit=unit,
                )
            except ValueError:
                log.warning("alarm series %s could not be read", key, exc_info=True)
                fetched[key] = ([], [])
        return fetched

    def _math_points(
        self, alarm: Mapping[str, Any], window: tuple[int, int, int], now_ms: int
    ) -> Points:
        key = (str(alarm["AlarmName"]), float(alarm["AlarmConfigurationUpdatedTimestamp"]))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = plan_queries(alarm["Metrics"])
        results = run_queries(plan, _metric_fetch(self._metrics), window[0], window[1], now_ms)
        threshold_id = alarm.get("ThresholdMetricId")
        for result in results:
            if result.query.id != threshold_id:
                series = result.series
                return list(zip(series.timestamps.tolist(), series.values.tolist(), strict=True))
        return []


def _statistic(alarm: Mapping[str, Any]) -> str:
    return str(alarm.get("ExtendedStatistic") or alarm.get("Statistic"))


def _needs_sample_counts(alarm: Mapping[str, Any]) -> bool:
    stat = str(alarm.get("ExtendedStatistic") or "")
    return stat.startswith("p") and alarm.get("EvaluateLowSampleCountPercentile") == "ignore"


def _group_key(alarm: Mapping[str, Any], period: int, statistic: str) -> _GroupKey:
    dims = tuple(sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or []))
    metric = MetricId(str(alarm["Namespace"]), str(alarm["MetricName"]), dims)
    return metric, period, statistic, alarm.get("Unit")


def _shared_slice(
    slices: dict[tuple[int, int, int], Points],
    fetched: Mapping[int, tuple[list[int], list[float]]],
    key: int,
    start: int,
    end: int,
) -> Points:
    """``_slice`` of a fetched series, computed once per (series, window) in a round."""
    at = (key, start, end)
    points = slices.get(at)
    if points is None:
        points = slices[at] = _slice(fetched[key], start, end)
    return points


def _slice(series: tuple[list[int], list[float]], start: int, end: int) -> Points:
    """The points with ``start <= timestamp < end`` of an ascending series."""
    timestamps, values = series
    lo = bisect.bisect_left(timestamps, start)
    hi = bisect.bisect_left(timestamps, end)
    return list(zip(timestamps[lo:hi], values[lo:hi], strict=True))


def _metric_fetch(
    metrics: MetricQueries,
) -> Callable[[Mapping[str, Any], int, int], tuple[list[int], list[float]]]:
    def fetch(stat: Mapping[str, Any], start_ms: int, end_ms: int) -> tuple[list[int], list[float]]:
        metric = stat["Metric"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or []))
        return metrics.series(
            MetricId(metric["Namespace"], metric["MetricName"], dims),
            start_ms=start_ms,
            end_ms=end_ms,
            period_s=int(stat["Period"]),
            statistic=str(stat["Stat"]),
            unit=stat.get("Unit"),
        )

    return fetch
