"""CloudWatch's alarm read operations: DescribeAlarms, DescribeAlarmsForMetric and history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heron.awsapi.alarm_requests import (
    ALARM_TYPES,
    STATES,
    alarm_kind,
    alarm_names,
    check_enum,
    combination_error,
    invalid_next_token,
    max_records,
    page_after,
    page_token,
    safe_children,
)
from heron.awsapi.errors import invalid, missing
from heron.monitor.alarms.history_log import HistoryQuery
from heron.monitor.alarms.scheduler import alarm_children
from heron.monitor.alarms.store import ACTION_KEYS, AlarmStore

_HISTORY_TYPES = (
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
)
_DESCRIBE_PAGE = 50
_HISTORY_PAGE = 100
#: Members ChildrenOfAlarmName / ParentsOfAlarmName leave in each returned alarm.
_CHILD_KEYS = ("AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp")
_PARENT_KEYS = ("AlarmName", "AlarmArn")


class AlarmDescriptions:
    """The Describe handlers, reading the alarm store."""

    def __init__(self, store: AlarmStore) -> None:
        self.store = store

    def describe_alarms(self, request: dict[str, Any]) -> dict[str, Any]:
        """Alarms matching the filters, by name, MaxRecords (default 50) per page."""
        limit = max_records(request.get("MaxRecords"), _DESCRIBE_PAGE)
        types = list(request.get("AlarmTypes") or [])
        for i, kind in enumerate(types, 1):
            check_enum(kind, f"alarmTypes.{i}.member", ALARM_TYPES)
        state = request.get("StateValue")
        if state is not None:
            check_enum(state, "stateValue", STATES)
        names = alarm_names(request)
        children_of, parents_of = (
            request.get("ChildrenOfAlarmName"),
            request.get("ParentsOfAlarmName"),
        )
        if children_of is not None or parents_of is not None:
            alarms, keys = self._relatives(request, children_of, parents_of)
            wanted = set(types) or {"MetricAlarm", "CompositeAlarm"}
        else:
            alarms = self.store.alarms(names or None)
            keys = None
            wanted = set(types) or {"MetricAlarm"}
            prefix, action = request.get("AlarmNamePrefix"), request.get("ActionPrefix")
            if prefix is not None:
                alarms = [a for a in alarms if a["AlarmName"].startswith(prefix)]
            if state is not None:
                alarms = [a for a in alarms if a["StateValue"] == state]
            if action is not None:
                alarms = [
                    a
                    for a in alarms
                    if any(arn.startswith(action) for k in ACTION_KEYS for arn in a.get(k) or [])
                ]
        alarms = [a for a in alarms if alarm_kind(a) in wanted]
        if request.get("NextToken"):
            after = page_after(request["NextToken"])
            alarms = [a for a in alarms if a["AlarmName"] > after]
        page = alarms[:limit]
        out: dict[str, Any] = {"MetricAlarms": [], "CompositeAlarms": []}
        for alarm in page:
            shown = {k: alarm[k] for k in keys if k in alarm} if keys else alarm
            out["CompositeAlarms" if "AlarmRule" in alarm else "MetricAlarms"].append(shown)
        if len(alarms) > limit:
            out["NextToken"] = page_token(page[-1]["AlarmName"])
        return out

    def _relatives(
        self, request: Mapping[str, Any], children_of: Any, parents_of: Any
    ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        allowed = {
            "ChildrenOfAlarmName",
            "ParentsOfAlarmName",
            "MaxRecords",
            "NextToken",
            "AlarmTypes",
        }
        extra = sorted(k for k in request if k not in allowed)
        if extra or (children_of is not None and parents_of is not None):
            # [Inferred] wording; AWS documents that no other parameter may be combined.
            raise combination_error(
                "If ChildrenOfAlarmName or ParentsOfAlarmName is specified, only MaxRecords "
                "and NextToken may be specified with it."
            )
        if children_of is not None:
            parent = self.store.get(str(children_of))
            if parent is None or "AlarmRule" not in parent:
                return [], _CHILD_KEYS
            return self.store.alarms(alarm_children(parent)), _CHILD_KEYS
        parents = []
        for alarm in self.store.alarms():
            if "AlarmRule" in alarm and str(parents_of) in safe_children(alarm):
                parents.append(alarm)
        return parents, _PARENT_KEYS

    def describe_alarms_for_metric(self, request: dict[str, Any]) -> dict[str, Any]:
        """Metric alarms watching the given metric (optionally narrowed by stat/period/unit)."""
        for member in ("MetricName", "Namespace"):
            if not request.get(member):
                raise missing(member)
        dims = sorted((d["Name"], d["Value"]) for d in request.get("Dimensions") or [])
        found = []
        for alarm in self.store.alarms():
            if "AlarmRule" in alarm or "Metrics" in alarm:
                continue
            if (alarm.get("Namespace"), alarm.get("MetricName")) != (
                request["Namespace"],
                request["MetricName"],
            ):
                continue
            if "Dimensions" in request and dims != sorted(
                (d["Name"], d["Value"]) for d in alarm.get("Dimensions") or []
            ):
                continue
            if any(
                member in request and alarm.get(member) != request[member]
                for member in ("Statistic", "ExtendedStatistic", "Period", "Unit")
            ):
                continue
            found.append(alarm)
        return {"MetricAlarms": found}

    def describe_alarm_history(self, request: dict[str, Any]) -> dict[str, Any]:
        """History items, newest first by default, MaxRecords (default 100) per page."""
        limit = max_records(request.get("MaxRecords"), _HISTORY_PAGE)
        types = list(request.get("AlarmTypes") or ["MetricAlarm"])
        for i, kind in enumerate(types, 1):
            check_enum(kind, f"alarmTypes.{i}.member", ALARM_TYPES)
        kind = request.get("HistoryItemType")
        if kind is not None:
            check_enum(kind, "historyItemType", _HISTORY_TYPES)
        scan = request.get("ScanBy", "TimestampDescending")
        check_enum(scan, "scanBy", ("TimestampDescending", "TimestampAscending"))
        start, end = request.get("StartDate"), request.get("EndDate")
        if start is not None and end is not None and float(start) > float(end):
            raise invalid(
                "The parameter StartDate must be less than or equal to the parameter EndDate."
            )
        after = None
        if request.get("NextToken"):
            raw = page_after(request["NextToken"])
            try:
                ts, ident = raw.split("/", 1)
                after = (float(ts), int(ident))
            except ValueError as exc:
                raise invalid_next_token() from exc
        found = self.store.history(
            HistoryQuery(
                name=request.get("AlarmName"),
                types=frozenset(types),
                kind=kind,
                start=float(start) if start is not None else None,
                end=float(end) if end is not None else None,
                ascending=scan == "TimestampAscending",
                after=after,
                limit=limit + 1,
            )
        )
        page = found[:limit]
        out: dict[str, Any] = {"AlarmHistoryItems": [item for _, item in page]}
        if len(found) > limit:
            last_id, last = page[-1]
            out["NextToken"] = page_token(f"{last['Timestamp']!r}/{last_id}")
        return out
