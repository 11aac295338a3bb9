"""Log groups with retention, and the CloudWatch Logs metric filters alarms watch.

Each function gets ``/aws/lambda/<name>`` created by the template (not by Lambda on first write),
so retention applies from the start and metric filters have a group to attach to. The two APIs
get access-log groups. Metric filters come from the catalogue and from alarm translation; they
are keyed by (group, filter name) so the same filter asked for twice is created once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from heron.deploy.names import DeployError, check_name, logical_id
from heron.monitor.alarms.catalogue import (
    COLD_START_PATTERN,
    ERROR_PATTERN,
    LOG_NAMESPACE,
    REPORT_PATTERN,
    TIMEOUT_PATTERN,
    MetricFilterSpec,
)

#: The catalogue's metric filters per function: suffix -> (pattern, metric value, unit).
FILTERS = {
    "MaxMemoryUsed": (REPORT_PATTERN, "$max_memory_used", "Megabytes"),
    "ColdStarts": (COLD_START_PATTERN, "1", None),
    "TaskTimeouts": (TIMEOUT_PATTERN, "1", None),
    "ErrorRecords": (ERROR_PATTERN, "1", None),
}


def function_filter(physical: str, suffix: str) -> MetricFilterSpec:
    """The catalogue's metric filter ``suffix`` on a deployed function's log group."""
    pattern, value, unit = FILTERS[suffix]
    transformation: dict[str, Any] = {
        "metricName": f"{physical}{suffix}",
        "metricNamespace": LOG_NAMESPACE,
        "metricValue": value,
    }
    if unit:
        transformation["unit"] = unit
    return MetricFilterSpec(f"/aws/lambda/{physical}", suffix, pattern, transformation)


def log_group_resource(name: str, retention_days: int) -> dict[str, Any]:
    """An ``AWS::Logs::LogGroup`` named ``name`` keeping events ``retention_days`` days."""
    check_name("log group name", name)
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": name, "RetentionInDays": retention_days},
    }


def metric_filter_resources(
    filters: Iterable[MetricFilterSpec], group_ids: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """One ``AWS::Logs::MetricFilter`` per distinct filter, on a group the template creates."""
    out: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for spec in filters:
        if (spec.group, spec.name) in seen:
            continue
        seen.add((spec.group, spec.name))
        group_id = group_ids.get(spec.group)
        if group_id is None:
            raise DeployError(
                f"metric filter {spec.name!r} watches log group {spec.group!r}, which this"
                " deployment does not create (known: " + ", ".join(sorted(group_ids)) + ")"
            )
        check_name("metric filter name", spec.name)
        t = spec.transformation
        transformation: dict[str, Any] = {
            "MetricName": t["metricName"],
            "MetricNamespace": t["metricNamespace"],
            "MetricValue": str(t["metricValue"]),
        }
        if t.get("unit"):
            transformation["Unit"] = t["unit"]
        if t.get("defaultValue") is not None:
            transformation["DefaultValue"] = float(t["defaultValue"])
        if t.get("dimensions"):
            transformation["Dimensions"] = [
                {"Key": k, "Value": v} for k, v in dict(t["dimensions"]).items()
            ]
        out[logical_id(group_id, spec.name, "Filter")] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": group_id},
                "FilterName": spec.name,
                "FilterPattern": spec.pattern,
                "MetricTransformations": [transformation],
            },
        }
    return out
