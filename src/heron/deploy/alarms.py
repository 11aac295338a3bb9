"""Translated alarm requests as ``AWS::CloudWatch::Alarm`` / ``CompositeAlarm`` resources.

The CloudFormation properties carry the PutMetricAlarm / PutCompositeAlarm parameter names, so a
request maps over key by key; state members of a DescribeAlarms shape are left out. Composite
alarms depend on the alarms their rule names, which CloudFormation cannot infer from a string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from heron.deploy.names import DeployError, logical_id
from heron.deploy.translate import Translated

METRIC_PROPERTIES = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId", "Tags",
)  # fmt: skip
COMPOSITE_PROPERTIES = (
    "AlarmName", "AlarmRule", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
    "InsufficientDataActions", "ActionsSuppressor", "ActionsSuppressorWaitPeriod",
    "ActionsSuppressorExtensionPeriod", "Tags",
)  # fmt: skip


def alarm_logical_id(name: str, prefix: str) -> str:
    """``heron-prod-createUser-ErrorRate`` -> ``AlarmCreateUserErrorRate``."""
    return logical_id("Alarm", name.removeprefix(prefix + "-"))


def alarm_resources(alarms: Iterable[Translated], prefix: str) -> dict[str, dict[str, Any]]:
    """One resource per alarm; DeployError when two alarm names make the same logical id."""
    out: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    by_name: dict[str, str] = {}
    pending: list[tuple[str, Translated]] = []
    for alarm in alarms:
        name = str(alarm.request["AlarmName"])
        lid = alarm_logical_id(name, prefix)
        if lid in names and names[lid] != name:
            raise DeployError(
                f"alarms {names[lid]!r} and {name!r} make the same logical id {lid}; rename one"
            )
        names[lid] = name
        by_name[name] = lid
        pending.append((lid, alarm))
    for lid, alarm in pending:
        allowed = COMPOSITE_PROPERTIES if alarm.composite else METRIC_PROPERTIES
        props = {k: v for k, v in alarm.request.items() if k in allowed}
        resource: dict[str, Any] = {
            "Type": "AWS::CloudWatch::CompositeAlarm"
            if alarm.composite
            else "AWS::CloudWatch::Alarm",
            "Properties": props,
        }
        if alarm.composite:
            props.pop("Tags", None)
            depends = [by_name[n] for n in alarm.depends_on if n in by_name]
            depends += [
                by_name[n]
                for n in by_name
                if f'"{n}"' in str(props.get("AlarmRule")) and by_name[n] not in depends
            ]
            if depends:
                resource["DependsOn"] = sorted(set(depends))
        out[lid] = resource
    return out
