"""What an alarm watches and says: its metrics, its condition in words, its state changes as graph
annotations, its history rows and the GetMetricData queries that draw its graph (pure functions
over DescribeAlarms / DescribeAlarmHistory dicts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.dashboard.queries import Chart

Dims = frozenset[tuple[str, str]]

OPERATORS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
    "LessThanLowerThreshold": "below the band",
    "GreaterThanUpperThreshold": "above the band",
}
#: Most history items the alarm page lists.
MAX_HISTORY = 200
#: Most data points an alarm graph asks for (its period grows beyond that).
MAX_POINTS = 1500


@dataclass(frozen=True, slots=True)
class Watched:
    """One metric an alarm reads: namespace, name and its dimensions."""

    namespace: str
    name: str
    dims: Dims


def _dims(raw: Any) -> Dims:
    return frozenset((str(d.get("Name")), str(d.get("Value"))) for d in raw or [])


def watched_metrics(alarm: Mapping[str, Any]) -> list[Watched]:
    """The metrics a metric alarm reads (its own, or every MetricStat of its math); none for
    composite alarms."""
    if alarm.get("MetricName"):
        return [
            Watched(
                str(alarm.get("Namespace", "")),
                str(alarm["MetricName"]),
                _dims(alarm.get("Dimensions")),
            )
        ]
    out = []
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric")
        if metric:
            out.append(
                Watched(
                    str(metric.get("Namespace", "")),
                    str(metric.get("MetricName", "")),
                    _dims(metric.get("Dimensions")),
                )
            )
    return out


def covers(watched: Watched, namespace: str, name: str, dims: Iterable[tuple[str, str]]) -> bool:
    """Whether a graph query of ``namespace``/``name`` with ``dims`` shows what the alarm watches:
    the same metric, and the alarm's dimensions a subset of the query's (a dimensionless alarm
    watches every instance)."""
    return (
        watched.namespace == namespace and watched.name == name and watched.dims <= frozenset(dims)
    )


def chart_watchers(
    charts: Sequence[Chart], alarms: Iterable[Mapping[str, Any]]
) -> dict[str, set[str]]:
    """For every graph, the names of the alarms watching one of its metrics."""
    out: dict[str, set[str]] = {}
    queries = [(c.id, q) for c in charts for s in c.series for q in s.queries]
    for alarm in alarms:
        name = str(alarm.get("AlarmName", ""))
        for w in watched_metrics(alarm):
            for chart_id, q in queries:
                if covers(w, q.namespace, q.name, q.dims):
                    out.setdefault(chart_id, set()).add(name)
    return out


def transition(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """A StateUpdate history item as a marker ``{t (ms), alarm, state, old, reason}``."""
    if item.get("HistoryItemType") != "StateUpdate":
        return None
    try:
        data = json.loads(str(item.get("HistoryData") or "{}"))
    except ValueError:
        data = {}
    new = (data.get("newState") or {}) if isinstance(data, dict) else {}
    old = (data.get("oldState") or {}) if isinstance(data, dict) else {}
    return {
        "t": int(float(item["Timestamp"]) * 1000),
        "alarm": str(item.get("AlarmName", "")),
        "state": str(new.get("stateValue") or ""),
        "old": str(old.get("stateValue") or ""),
        "reason": str(new.get("stateReason") or item.get("HistorySummary") or ""),
    }


def markers_by_chart(
    items: Iterable[Mapping[str, Any]],
    watchers: Mapping[str, set[str]],
    *,
    alarm_only: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Every graph's state-change markers (oldest first) from the alarms that watch it; with
    ``alarm_only`` just the changes into or out of ALARM (a busy overview graph would otherwise
    carry every alarm's start-up INSUFFICIENT_DATA -> OK)."""
    markers = [m for m in (transition(i) for i in items) if m is not None]
    if alarm_only:
        markers = [m for m in markers if "ALARM" in (m["state"], m["old"])]
    markers.sort(key=lambda m: m["t"])
    out: dict[str, list[dict[str, Any]]] = {}
    for chart_id, names in watchers.items():
        mine = [m for m in markers if m["alarm"] in names]
        if mine:
            out[chart_id] = mine
    return out


def _num(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, int | float) else str(value)


def condition(alarm: Mapping[str, Any]) -> str:
    """The alarm's condition in words, e.g. ``Sum of AWS/Lambda Errors > 0 for 1 of 1 periods of
    300 s``; a composite alarm's rule."""
    if alarm.get("AlarmRule"):
        return f"rule {alarm['AlarmRule']}"
    op = OPERATORS.get(str(alarm.get("ComparisonOperator")), str(alarm.get("ComparisonOperator")))
    if "ThresholdMetricId" in alarm:
        target = f"{op} (band {alarm['ThresholdMetricId']})"
    else:
        target = f"{op} {_num(alarm.get('Threshold', ''))}"
    if alarm.get("MetricName"):
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic") or ""
        dims = ", ".join(f"{k}={v}" for k, v in sorted(_dims(alarm.get("Dimensions"))))
        what = f"{stat} of {alarm.get('Namespace')} {alarm['MetricName']}"
        what += f" ({dims})" if dims else ""
        period = alarm.get("Period")
    else:
        returned = [q for q in alarm.get("Metrics") or [] if q.get("ReturnData", True)]
        first = returned[0] if returned else {}
        what = str(
            first.get("Expression") or first.get("Label") or first.get("Id") or "metric math"
        )
        periods = [(q.get("MetricStat") or {}).get("Period") for q in alarm.get("Metrics") or []]
        period = next((p for p in periods if p), first.get("Period"))
    n, m = (
        alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods"),
        alarm.get("EvaluationPeriods"),
    )
    return f"{what} {target} for {n} of {m} periods of {period} s"


def alarm_period(alarm: Mapping[str, Any]) -> int:
    """The alarm's evaluation period in seconds (its first MetricStat's for metric math)."""
    if alarm.get("Period"):
        return int(alarm["Period"])
    for q in alarm.get("Metrics") or []:
        period = (q.get("MetricStat") or {}).get("Period") or q.get("Period")
        if period:
            return int(period)
    return 60


def graph_period(alarm_period_s: int, span_s: int) -> int:
    """The graph's period: the alarm's, or a whole multiple of it when the range needs fewer
    points (at most ``MAX_POINTS``)."""
    multiple = max(1, -(-span_s // (alarm_period_s * MAX_POINTS)))
    return alarm_period_s * multiple


def graph_queries(alarm: Mapping[str, Any], period_s: int) -> list[dict[str, Any]]:
    """GetMetricData queries that draw what the alarm evaluates, at ``period_s``."""
    if alarm.get("MetricName"):
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic") or "Average"
        metric_stat: dict[str, Any] = {
            "Metric": {
                "Namespace": alarm.get("Namespace"),
                "MetricName": alarm["MetricName"],
                "Dimensions": list(alarm.get("Dimensions") or []),
            },
            "Period": period_s,
            "Stat": stat,
        }
        if alarm.get("Unit"):
            metric_stat["Unit"] = alarm["Unit"]
        return [{"Id": "m1", "MetricStat": metric_stat, "Label": alarm["MetricName"]}]
    out = []
    for raw in alarm.get("Metrics") or []:
        q = {k: v for k, v in raw.items() if k != "AccountId"}
        if "MetricStat" in q:
            q["MetricStat"] = {**q["MetricStat"], "Period": period_s}
        elif "Period" in q:
            q["Period"] = period_s
        out.append(q)
    return out


def align(
    columns: Sequence[tuple[str, Sequence[int], Sequence[float]]],
    start_ms: int,
    period_s: int,
    size: int,
) -> dict[str, Any]:
    """(label, timestamps ms, values) series on the graph's grid of ``size`` periods."""
    labels, values = [], []
    for label, stamps, vals in columns:
        column: list[float | None] = [None] * size
        for ts, v in zip(stamps, vals, strict=True):
            k = (int(ts) - start_ms) // (period_s * 1000)
            if 0 <= k < size:
                column[k] = round(float(v), 6)
        labels.append(label)
        values.append(column)
    return {"start": start_ms, "period": period_s, "size": size, "series": labels, "values": values}


def thresholds(alarm: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The horizontal line the graph draws (none for a band or a composite alarm)."""
    if alarm.get("AlarmRule") or "ThresholdMetricId" in alarm or "Threshold" not in alarm:
        return []
    op = OPERATORS.get(str(alarm.get("ComparisonOperator")), "")
    return [
        {"value": float(alarm["Threshold"]), "label": f"threshold {op} {_num(alarm['Threshold'])}"}
    ]


def history_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """One history item for the page: time (ms), type, summary, and the states when a change."""
    row: dict[str, Any] = {
        "t": int(float(item["Timestamp"]) * 1000),
        "type": str(item.get("HistoryItemType", "")),
        "summary": str(item.get("HistorySummary", "")),
    }
    marker = transition(item)
    if marker is not None:
        row.update(state=marker["state"], old=marker["old"], reason=marker["reason"])
    return row


def definition(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """The alarm's definition as the page lists it (configuration, not state)."""
    keep = (
        "AlarmName", "AlarmDescription", "AlarmArn", "Namespace", "MetricName", "Dimensions",
        "Statistic", "ExtendedStatistic", "Period", "EvaluationPeriods", "DatapointsToAlarm",
        "Threshold", "ThresholdMetricId", "ComparisonOperator", "TreatMissingData",
        "EvaluateLowSampleCountPercentile", "Unit", "Metrics", "AlarmRule", "ActionsEnabled",
        "AlarmActions", "OKActions", "InsufficientDataActions",
    )  # fmt: skip
    return {k: alarm[k] for k in keep if k in alarm}
