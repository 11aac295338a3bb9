"""The PutMetricAlarm request builders every family of catalogue alarms is written with."""

from __future__ import annotations

from typing import Any

from heron.monitor.alarms.catalogue import SEED_THRESHOLDS, TOPICS, CatalogueAlarm

#: CloudWatch's limit on the metrics one metric-math alarm may fetch.
_MAX_METRIC_STATS = 10


def dims(**pairs: str) -> list[dict[str, str]]:
    """CloudWatch dimensions from keyword pairs, in the order given."""
    return [{"Name": k, "Value": v} for k, v in pairs.items()]


def metric_stat(
    ident: str, namespace: str, metric: str, dims: list[dict[str, str]], stat: str, period: int
) -> dict[str, Any]:
    """A MetricDataQuery that fetches one statistic of one metric (not returned itself)."""
    return {
        "Id": ident,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": False,
    }


def alarm(
    name: str,
    severity: str,
    covers: str,
    description: str,
    *,
    threshold: float,
    operator: str = "GreaterThanThreshold",
    evaluation_periods: int = 1,
    datapoints: int | None = None,
    missing: str = "notBreaching",
    **metric: Any,
) -> CatalogueAlarm:
    """A catalogue alarm notifying its severity's topic on ALARM and OK, tagged with what it covers."""
    topic = TOPICS[severity]
    request: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": f"{description} [{severity}; seed: {SEED_THRESHOLDS[covers]}]",
        "ActionsEnabled": True,
        "OKActions": [topic],
        "AlarmActions": [topic],
        **metric,
        "EvaluationPeriods": evaluation_periods,
        "Threshold": threshold,
        "ComparisonOperator": operator,
        "TreatMissingData": missing,
        "Tags": [
            {"Key": "severity", "Value": severity},
            {"Key": "heron:catalogue", "Value": covers},
        ],
    }
    if datapoints is not None:
        request["DatapointsToAlarm"] = datapoints
    return CatalogueAlarm(request, severity, covers)


def metric_math(expression: str, label: str, *stats: dict[str, Any]) -> dict[str, Any]:
    """The ``Metrics`` of a metric-math alarm: ``stats`` and the one expression it alarms on."""
    if len(stats) > _MAX_METRIC_STATS:
        raise ValueError(f"{label}: {len(stats)} metrics, CloudWatch allows {_MAX_METRIC_STATS}")
    return {
        "Metrics": [
            *stats,
            {"Id": "result", "Expression": expression, "Label": label, "ReturnData": True},
        ]
    }
