"""Alarm actions: on a state transition, publish CloudWatch's alarm message to the SNS topics.

Actions run only for a transition and only while the alarm's ActionsEnabled is true (the caller
hands over transitions; nothing here re-checks states). The message is the JSON SNS delivers for
CloudWatch alarms (cloudwatch.md §2.2 for metric alarms, §2.3 for composite alarms), with the
subject ``ALARM: "name" in US East (N. Virginia)``. Each action writes an Action history item.
Lambda (and any other non-SNS) action ARNs are recorded as failed: Heron does not run them yet.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

from heron.monitor.alarms import history
from heron.monitor.alarms.history import aws_time
from heron.monitor.alarms.store import AlarmStore, Transition
from heron.types import Clock

#: The region names CloudWatch writes into alarm messages (its own ``EU (...)`` style).
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "me-south-1": "Middle East (Bahrain)",
    "sa-east-1": "South America (Sao Paulo)",
}
#: SNS's Subject limit; CloudWatch shortens the alarm name (inside the quotes) to fit.
MAX_SUBJECT = 100
_LIST_FOR_STATE = {
    "OK": "OKActions",
    "ALARM": "AlarmActions",
    "INSUFFICIENT_DATA": "InsufficientDataActions",
}


class Publisher(Protocol):
    """Where SNS messages go (``heron.monitor.notify.topics.TopicStore`` is one)."""

    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> str:
        """Publish and return the MessageId; raise KeyError for an unknown topic."""


def region_name(region: str) -> str:
    """CloudWatch's long name for ``region`` (the code itself when unknown)."""
    return REGION_NAMES.get(region, region)


def _arn_parts(alarm: Mapping[str, Any]) -> tuple[str, str]:
    parts = str(alarm["AlarmArn"]).split(":")
    return parts[3], parts[4]


def subject(alarm: Mapping[str, Any]) -> str:
    """``ALARM: "name" in US East (N. Virginia)``, the name shortened with ``...`` past 100."""
    region, _ = _arn_parts(alarm)
    state, name, where = alarm["StateValue"], str(alarm["AlarmName"]), region_name(region)
    text = f'{state}: "{name}" in {where}'
    if len(text) > MAX_SUBJECT:
        keep = max(0, len(name) - (len(text) - MAX_SUBJECT) - 3)
        text = f'{state}: "{name[:keep]}..." in {where}'
    return text


def _dimensions(raw: Any) -> list[dict[str, str]]:
    return [{"value": d["Value"], "name": d["Name"]} for d in raw or []]


def _metrics(queries: Any) -> list[Any]:
    """Metric-math queries as the message shows them: keys sorted, dimensions lower-cased."""

    def render(node: Any, key: str = "") -> Any:
        if key == "Dimensions":
            return _dimensions(node)
        if isinstance(node, Mapping):
            return {k: render(node[k], k) for k in sorted(node)}
        if isinstance(node, list):
            return [render(v) for v in node]
        return node

    return [render(q) for q in queries or []]


def trigger(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """The message's ``Trigger`` object for a metric alarm."""
    out: dict[str, Any] = {}
    if "Metrics" in alarm:
        out["Period"] = _math_period(alarm)
    else:
        out["MetricName"] = alarm.get("MetricName")
        out["Namespace"] = alarm.get("Namespace")
        if "ExtendedStatistic" in alarm:
            out["StatisticType"] = "ExtendedStatistic"
            out["ExtendedStatistic"] = alarm["ExtendedStatistic"]
        else:
            out["StatisticType"] = "Statistic"
            out["Statistic"] = str(alarm.get("Statistic", "")).upper()
        out["Unit"] = alarm.get("Unit")
        out["Dimensions"] = _dimensions(alarm.get("Dimensions"))
        out["Period"] = alarm.get("Period")
    out["EvaluationPeriods"] = alarm.get("EvaluationPeriods")
    if "DatapointsToAlarm" in alarm:
        out["DatapointsToAlarm"] = alarm["DatapointsToAlarm"]
    out["ComparisonOperator"] = alarm.get("ComparisonOperator")
    if "ThresholdMetricId" in alarm:
        out["ThresholdMetricId"] = alarm["ThresholdMetricId"]
    else:
        out["Threshold"] = float(alarm.get("Threshold", 0.0))
    out["TreatMissingData"] = alarm.get("TreatMissingData", "")
    out["EvaluateLowSampleCountPercentile"] = alarm.get("EvaluateLowSampleCountPercentile", "")
    if "Metrics" in alarm:
        out["Metrics"] = _metrics(alarm["Metrics"])
    return out


def _math_period(alarm: Mapping[str, Any]) -> int | None:
    """A metric-math alarm's period: that of its returned query, else of any MetricStat."""
    queries = list(alarm.get("Metrics") or [])
    queries.sort(key=lambda q: not q.get("ReturnData", False))
    for q in queries:
        if q.get("Period"):
            return int(q["Period"])
        if q.get("MetricStat"):
            return int(q["MetricStat"]["Period"])
    return alarm.get("Period")


def alarm_message(alarm: Mapping[str, Any], old_state: str) -> dict[str, Any]:
    """The JSON object SNS delivers for ``alarm``'s transition out of ``old_state``."""
    region, account = _arn_parts(alarm)
    message: dict[str, Any] = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": aws_time(alarm["AlarmConfigurationUpdatedTimestamp"]),
        "NewStateValue": alarm["StateValue"],
        "NewStateReason": alarm.get("StateReason", ""),
        "StateChangeTime": aws_time(alarm["StateUpdatedTimestamp"]),
        "Region": region_name(region),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old_state,
        "OKActions": list(alarm.get("OKActions") or []),
        "AlarmActions": list(alarm.get("AlarmActions") or []),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions") or []),
    }
    if "AlarmRule" in alarm:
        message["AlarmRule"] = alarm["AlarmRule"]
        message["TriggeringChildren"] = _triggering_children(alarm.get("StateReasonData"))
    else:
        message["Trigger"] = trigger(alarm)
    return message


def _triggering_children(reason_data: Any) -> list[dict[str, Any]]:
    try:
        data = json.loads(reason_data) if isinstance(reason_data, str) else {}
    except ValueError:
        return []
    children = data.get("triggeringAlarms") if isinstance(data, dict) else None
    out = []
    for child in children or []:
        state = child.get("state") or {}
        out.append(
            {
                "Arn": child.get("arn"),
                "State": {"Value": state.get("value"), "Timestamp": state.get("timestamp")},
            }
        )
    return out


class AlarmActions:
    """Runs the actions of transitions and records an Action history item for each."""

    def __init__(self, store: AlarmStore, publisher: Publisher, *, clock: Clock = time.time):
        self._store = store
        self._publisher = publisher
        self._clock = clock

    def run(self, transition: Transition) -> list[dict[str, Any]]:
        """Execute the new state's actions (if enabled); the Action history items written."""
        alarm = transition.alarm
        if not alarm.get("ActionsEnabled", True):
            return []
        targets = alarm.get(_LIST_FOR_STATE[alarm["StateValue"]]) or []
        if not targets:
            return []
        body = json.dumps(
            alarm_message(alarm, transition.old_state), separators=(",", ":"), ensure_ascii=False
        )
        title = subject(alarm)
        items = []
        for arn in targets:
            items.append(self._execute(alarm, arn, body, title))
        self._store.record(items)
        return items

    def _execute(self, alarm: Mapping[str, Any], arn: str, body: str, title: str) -> dict[str, Any]:
        now = self._clock()
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        if service != "sns":
            what = "Lambda" if service == "lambda" else f"'{service or arn}'"
            error = f"{what} alarm actions are not supported by Heron yet"
            return history.action(alarm, arn, now, error=error)
        try:
            self._publisher.publish(arn, body, subject=title)
        except KeyError:
            return history.action(alarm, arn, now, error="Topic does not exist")
        return history.action(alarm, arn, now, published_message=body)
