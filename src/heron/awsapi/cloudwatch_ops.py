"""CloudWatch metric reads: GetMetricStatistics, ListMetrics and GetMetricData, plus the registry.

Each handler takes the decoded request (botocore input shape; timestamps as epoch seconds) and
returns the output shape. Every request is validated whole before anything is stored, with
CloudWatch's codes and messages (awsQueryCompatible: ``code`` is the modelled exception name,
``query_code`` the Query-protocol code). Messages marked [AWS-observed] in cloudwatch.md are
AWS's exact text; the others follow AWS's phrasing for the same family ([Inferred]).
PutMetricData lives in ``put_metric_data``; ``cloudwatch_operations`` registers all four.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from heron.awsapi.errors import combination, constraint, invalid, missing
from heron.awsapi.metric_fields import (
    dimensions_member,
    namespace_member,
    string_member,
    unit_member,
)
from heron.awsapi.put_metric_data import MetricWriter
from heron.monitor.contracts import MetricId
from heron.monitor.metrics import model
from heron.monitor.metrics.retention import datapoint_count
from heron.monitor.metrics.statistics import StatisticError, is_percentile
from heron.monitor.metrics.store import MetricStore

if TYPE_CHECKING:
    from heron.monitor.metrics.metric_data import Points
from heron.types import Clock

Handler = Callable[[dict[str, Any]], dict[str, Any]]
Fetch = Callable[[Mapping[str, Any], int, int], tuple[Sequence[int], Sequence[float]]]
_STATISTIC_ENUM = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PAGE = 500
_MAX_DATAPOINTS = 1440


class _CloudWatch:
    """The handlers, bound to one store and clock."""

    def __init__(self, store: MetricStore, clock: Clock, metric_data: Callable[..., Any] | None):
        self._store = store
        self._clock = clock
        self._metric_data = metric_data

    # -- GetMetricStatistics ---------------------------------------------------------------

    def get_metric_statistics(self, request: dict[str, Any]) -> dict[str, Any]:
        """Statistics of one metric per period (datapoints unordered, as AWS returns them)."""
        ns = namespace_member(request.get("Namespace"), public=False)
        name = string_member(request.get("MetricName"), "MetricName", "metricName", 255)
        dims = dimensions_member(request.get("Dimensions"), "Dimensions", "dimensions")
        for member in ("StartTime", "EndTime", "Period"):
            if request.get(member) is None:
                raise missing(member)
        start_ms = round(float(request["StartTime"]) * 1000)
        end_ms = round(float(request["EndTime"]) * 1000)
        period = request["Period"]
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise constraint(
                f"Value '{period}' at 'period' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1"
            )
        if period not in (1, 5, 10, 20, 30) and period % 60:
            raise invalid("The parameter Period must be a multiple of 60.")
        if start_ms >= end_ms:  # [AWS-observed]
            raise invalid("The parameter StartTime must be less than the parameter EndTime.")
        stats = list(request.get("Statistics") or [])
        extended = list(request.get("ExtendedStatistics") or [])
        self._check_statistics(stats, extended)
        unit = request.get("Unit")
        if unit is not None:
            unit_member(unit, "unit")
        points = datapoint_count(start_ms, end_ms, period)
        if points > _MAX_DATAPOINTS:  # [AWS-observed]
            raise combination(
                f"You have requested up to {points} datapoints, which exceeds the limit of 1440. "
                "You may reduce the datapoints requested by increasing Period, or decreasing the "
                "time range."
            )
        found = self._store.statistics(
            MetricId(ns, name, dims),
            start_ms=start_ms,
            end_ms=end_ms,
            period_s=period,
            statistics=stats or extended,
            unit=unit,
        )
        for point in found:
            point["Timestamp"] = point["Timestamp"] / 1000
        return {"Label": name, "Datapoints": found}

    @staticmethod
    def _check_statistics(stats: list[Any], extended: list[Any]) -> None:
        if stats and extended:
            raise combination("Must specify either Statistics or ExtendedStatistics, but not both.")
        if not stats and not extended:
            raise combination("Must specify either Statistics or ExtendedStatistics.")
        if len(stats) > 5:
            raise constraint(
                "Value at 'statistics' failed to satisfy constraint: "
                "Member must have length less than or equal to 5"
            )
        bad = [s for s in stats if s not in _STATISTIC_ENUM]
        if bad:
            raise constraint(
                f"Value '[{', '.join(map(str, stats))}]' at 'statistics' failed to satisfy "
                "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
                f"[{', '.join(_STATISTIC_ENUM)}]]"
            )
        if len(extended) > 10:
            raise constraint(
                "Value at 'extendedStatistics' failed to satisfy constraint: "
                "Member must have length less than or equal to 10"
            )
        for s in extended:
            if not isinstance(s, str) or not is_percentile(s):
                raise invalid(f"The value {s} for parameter ExtendedStatistics is not supported.")

    # -- ListMetrics -----------------------------------------------------------------------

    def list_metrics(self, request: dict[str, Any]) -> dict[str, Any]:
        """Metrics matching the filters, 500 per page."""
        ns = request.get("Namespace")
        if ns is not None:
            ns = namespace_member(ns, public=False)
        name = request.get("MetricName")
        if name is not None:
            name = string_member(name, "MetricName", "metricName", 255)
        filters = self._dimension_filters(request.get("Dimensions") or [])
        active = request.get("RecentlyActive")
        if active is not None and active != "PT3H":
            raise constraint(
                f"Value '{active}' at 'recentlyActive' failed to satisfy constraint: "
                "Member must satisfy enum value set: [PT3H]"
            )
        now_ms = int(self._clock() * 1000)
        after = _decode_token(request["NextToken"]) if request.get("NextToken") else None
        found = self._store.list_metrics(
            namespace=ns,
            name=name,
            dimension_filters=filters,
            active_since_ms=now_ms - 3 * 3600 * 1000 if active else None,
            after=after,
            limit=_PAGE + 1,
        )
        page = found[:_PAGE]
        out: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": m.namespace,
                    "MetricName": m.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in m.dimensions],
                }
                for m in page
            ]
        }
        if len(found) > _PAGE:
            out["NextToken"] = _encode_token(page[-1])
        return out

    @staticmethod
    def _dimension_filters(raw: list[Any]) -> list[tuple[str, str | None]]:
        if len(raw) > 10:
            raise constraint(
                "Value at 'dimensions' failed to satisfy constraint: "
                "Member must have length less than or equal to 10"
            )
        out: list[tuple[str, str | None]] = []
        for j, f in enumerate(raw, 1):
            dim = string_member(
                f.get("Name"), f"Dimensions.member.{j}.Name", f"dimensions.{j}.member.name", 255
            )
            value = f.get("Value")
            if value is not None:
                value = string_member(
                    value, f"Dimensions.member.{j}.Value", f"dimensions.{j}.member.value", 1024
                )
            out.append((dim, value))
        return out

    # -- GetMetricData ---------------------------------------------------------------------

    def get_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        """Delegate planning and math to ``metric_data.get_metric_data`` with a store fetch."""
        run = self._metric_data
        if run is None:
            from heron.monitor.metrics.metric_data import get_metric_data

            run = get_metric_data
        result: dict[str, Any] = run(request, self.fetch, int(self._clock() * 1000))
        return result

    def fetch(self, metric_stat: Mapping[str, Any], start_ms: int, end_ms: int) -> Points:
        """Answer one MetricStat from the store: (period-start ms ascending, values)."""
        from heron.monitor.metrics.store_fetch import read_points

        metric = metric_stat["Metric"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or []))
        stat = str(metric_stat["Stat"])
        try:
            return read_points(
                self._store,
                MetricId(metric["Namespace"], metric["MetricName"], dims),
                start_ms=start_ms,
                end_ms=end_ms,
                period_s=int(metric_stat["Period"]),
                statistic=stat,
                unit=metric_stat.get("Unit"),
            )
        except StatisticError as exc:
            raise invalid(f"The value {stat} for parameter MetricStat.Stat is invalid.") from exc


def _encode_token(metric: MetricId) -> str:
    key = model.metric_key(metric.namespace, metric.name, metric.dimensions)
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_token(token: Any) -> MetricId:
    try:
        key = base64.urlsafe_b64decode(str(token).encode()).decode()
        return MetricId(*model.parse_key(key))
    except (binascii.Error, UnicodeDecodeError, IndexError, ValueError, TypeError) as exc:
        raise invalid(f"The value {token} for parameter NextToken is invalid.") from exc


def cloudwatch_operations(
    store: MetricStore,
    *,
    clock: Clock,
    metric_data: Callable[..., Any] | None = None,
    writer: MetricWriter | None = None,
) -> dict[str, Handler]:
    """CloudWatch's metric operations keyed by name, bound to ``store`` and ``clock``.

    ``metric_data`` replaces ``heron.monitor.metrics.metric_data.get_metric_data`` (same
    signature: ``(request, fetch, now_ms) -> response``); ``writer`` serves PutMetricData
    (default: a new ``MetricWriter`` without decode workers).
    """
    ops = _CloudWatch(store, clock, metric_data)
    return {
        "PutMetricData": (writer or MetricWriter(store, clock)).put_metric_data,
        "GetMetricStatistics": ops.get_metric_statistics,
        "ListMetrics": ops.list_metrics,
        "GetMetricData": ops.get_metric_data,
    }
