"""CloudWatch alarm operations: Put/Describe/Delete alarms, history, state, actions and tags.

Each handler takes the decoded request (botocore input shape; timestamps as epoch seconds) and
returns the output shape, raising AwsError with CloudWatch's awsQueryCompatible codes (``code``
the modelled exception name, ``query_code`` the Query code). Alarm definitions are validated by
``heron.monitor.alarms.validate``; this module owns the operation semantics around them: alarms
are stored with state kept across updates, evaluated at once after a Put, and every change is
visible to the scheduler. Real CloudWatch accepts an action naming an SNS topic that does not
exist (only the console warns); Heron refuses it with InvalidParameterValue, since such an alarm
pages nobody, and the seed's ``region``/``account`` placeholders are resolved before the check.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from heron.awsapi.errors import AwsError, constraint, invalid, missing, validation_error
from heron.monitor.alarms import validate_fields
from heron.monitor.alarms.scheduler import AlarmScheduler, alarm_children
from heron.monitor.alarms.store import (
    ACTION_KEYS,
    AlarmStore,
    HistoryQuery,
    normalize_action_arns,
)
from heron.monitor.notify.topics import TopicStore
from heron.types import Clock

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]

_STATES = ("INSUFFICIENT_DATA", "ALARM", "OK")  # the order AWS's enum message lists them in
_TYPES = ("CompositeAlarm", "MetricAlarm", "LogAlarm")
_HISTORY_TYPES = (
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
)
_DESCRIBE_PAGE = 50
_HISTORY_PAGE = 100
_MAX_TAGS = 50
#: Members ChildrenOfAlarmName / ParentsOfAlarmName leave in each returned alarm.
_CHILD_KEYS = ("AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp")
_PARENT_KEYS = ("AlarmName", "AlarmArn")


def resource_not_found(message: str = "") -> AwsError:
    """CloudWatch's ResourceNotFound (HTTP 404) for an unknown alarm."""
    return AwsError("ResourceNotFound", message, status=404, query_code="ResourceNotFound")


def invalid_next_token() -> AwsError:
    """CloudWatch's InvalidNextToken."""
    return AwsError(
        "InvalidNextToken",
        "The service cannot find the specified token.",
        query_code="InvalidNextToken",
    )


def _enum(value: Any, path: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def _max_records(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise constraint(
            f"Value '{value}' at 'maxRecords' failed to satisfy constraint: "
            "Member must have value between 1 and 100"
        )
    return value


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _untoken(token: Any) -> str:
    try:
        return base64.urlsafe_b64decode(str(token).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid_next_token() from exc


def _names(request: Mapping[str, Any], member: str = "AlarmNames") -> list[str]:
    names = list(request.get(member) or [])
    if len(names) > 100:
        raise constraint(
            f"Value '[{', '.join(names)}]' at '{member[0].lower() + member[1:]}' failed to "
            "satisfy constraint: Member must have length less than or equal to 100"
        )
    return names


def _normalize_request(request: dict[str, Any], region: str, account_id: str) -> dict[str, Any]:
    """The request with ``arn:aws:sns:region:account:x`` placeholders made concrete."""
    out = dict(request)
    for key in ACTION_KEYS:
        if key in out:
            out[key] = [_concrete(arn, region, account_id) for arn in out[key] or []]
    return out


def _concrete(arn: Any, region: str, account_id: str) -> Any:
    if not isinstance(arn, str):
        return arn
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[3] == "region" and parts[4] == "account":
        parts[3], parts[4] = region, account_id
        return ":".join(parts)
    return arn


class _AlarmOps:
    """The handlers, bound to the alarm store, scheduler and topics."""

    def __init__(
        self,
        store: AlarmStore,
        scheduler: AlarmScheduler,
        topics: TopicStore | None,
        clock: Clock,
        region: str,
        account_id: str,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.topics = topics
        self.clock = clock
        self.region = region
        self.account_id = account_id

    # -- Put -------------------------------------------------------------------------------

    def put_metric_alarm(self, request: dict[str, Any]) -> dict[str, Any]:
        """Create or update a metric alarm, then evaluate it at once."""
        from heron.monitor.alarms.validate import validate_put_metric_alarm

        request = _normalize_request(request, self.region, self.account_id)
        config = validate_put_metric_alarm(request, region=self.region, account_id=self.account_id)
        tags = validate_fields.tags(request.get("Tags"))
        self._check_kind(config["AlarmName"], composite=False)
        self._check_topics(config)
        _, created = self.store.put_alarm(config, tags=tags)
        if created:
            # A new alarm is evaluated at once; an updated one keeps its state until its next
            # round (the update "leaves its state unchanged" [AWS-doc]).
            self.scheduler.evaluate_now([config["AlarmName"]])
        return {}

    def put_composite_alarm(self, request: dict[str, Any]) -> dict[str, Any]:
        """Create or update a composite alarm, then evaluate it at once."""
        from heron.monitor.alarms.validate import validate_put_composite_alarm

        request = _normalize_request(request, self.region, self.account_id)
        config = validate_put_composite_alarm(
            request,
            region=self.region,
            account_id=self.account_id,
            existing=self.store.snapshot(),
        )
        tags = validate_fields.tags(request.get("Tags"))
        self._check_kind(config["AlarmName"], composite=True)
        self._check_topics(config)
        self.store.put_alarm(config, tags=tags)
        self.scheduler.evaluate_now([config["AlarmName"]])
        return {}

    def _check_kind(self, name: str, *, composite: bool) -> None:
        """An alarm cannot change between metric and composite under the same name."""
        existing = self.store.get(name)
        if existing is not None and ("AlarmRule" in existing) != composite:
            kind = "composite alarm" if "AlarmRule" in existing else "metric alarm"
            raise validation_error(f"An alarm named {name} already exists as a {kind}.")

    def _check_topics(self, config: Mapping[str, Any]) -> None:
        """Refuse actions naming SNS topics that do not exist (after resolving placeholders)."""
        if self.topics is None:
            return
        resolved = {k: list(config[k]) for k in ACTION_KEYS if k in config}
        resolved["AlarmArn"] = config.get("AlarmArn", "")
        normalize_action_arns(resolved)
        for key in ACTION_KEYS:
            for arn in resolved.get(key) or []:
                if arn.startswith("arn:aws:sns:") and not self.topics.exists(arn):
                    raise AwsError(
                        "InvalidParameterValueException",
                        f"Invalid value for parameter {key}: SNS topic {arn} does not exist."
                        " Create it with CreateTopic first.",
                        query_code="InvalidParameterValue",
                    )

    # -- Describe --------------------------------------------------------------------------

    def describe_alarms(self, request: dict[str, Any]) -> dict[str, Any]:
        """Alarms matching the filters, by name, MaxRecords (default 50) per page."""
        limit = _max_records(request.get("MaxRecords"), _DESCRIBE_PAGE)
        types = list(request.get("AlarmTypes") or [])
        for i, kind in enumerate(types, 1):
            _enum(kind, f"alarmTypes.{i}.member", _TYPES)
        state = request.get("StateValue")
        if state is not None:
            _enum(state, "stateValue", _STATES)
        names = _names(request)
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
        alarms = [a for a in alarms if _kind(a) in wanted]
        if request.get("NextToken"):
            after = _untoken(request["NextToken"])
            alarms = [a for a in alarms if a["AlarmName"] > after]
        page = alarms[:limit]
        out: dict[str, Any] = {"MetricAlarms": [], "CompositeAlarms": []}
        for alarm in page:
            shown = {k: alarm[k] for k in keys if k in alarm} if keys else alarm
            out["CompositeAlarms" if "AlarmRule" in alarm else "MetricAlarms"].append(shown)
        if len(alarms) > limit:
            out["NextToken"] = _token(page[-1]["AlarmName"])
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
            if "AlarmRule" in alarm and str(parents_of) in _safe_children(alarm):
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
        limit = _max_records(request.get("MaxRecords"), _HISTORY_PAGE)
        types = list(request.get("AlarmTypes") or ["MetricAlarm"])
        for i, kind in enumerate(types, 1):
            _enum(kind, f"alarmTypes.{i}.member", _TYPES)
        kind = request.get("HistoryItemType")
        if kind is not None:
            _enum(kind, "historyItemType", _HISTORY_TYPES)
        scan = request.get("ScanBy", "TimestampDescending")
        _enum(scan, "scanBy", ("TimestampDescending", "TimestampAscending"))
        start, end = request.get("StartDate"), request.get("EndDate")
        if start is not None and end is not None and float(start) > float(end):
            raise invalid(
                "The parameter StartDate must be less than or equal to the parameter EndDate."
            )
        after = None
        if request.get("NextToken"):
            raw = _untoken(request["NextToken"])
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
            out["NextToken"] = _token(f"{last['Timestamp']!r}/{last_id}")
        return out

    # -- Delete / state / actions ----------------------------------------------------------

    def delete_alarms(self, request: dict[str, Any]) -> dict[str, Any]:
        """Delete alarms: all or nothing; refused while a composite alarm depends on one."""
        names = list(dict.fromkeys(_names(request)))
        existing = {a["AlarmName"]: a for a in self.store.alarms(names)}
        unknown = [n for n in names if n not in existing]
        if unknown:
            raise resource_not_found(f"The alarm(s) [{', '.join(unknown)}] do not exist.")
        deleting = set(names)
        blocked: list[str] = []
        for alarm in self.store.alarms():
            if "AlarmRule" in alarm and alarm["AlarmName"] not in deleting:
                blocked.extend(c for c in _safe_children(alarm) if c in deleting)
        if blocked:
            shown = ",".join(dict.fromkeys(blocked))
            pronoun = "them" if len(set(blocked)) > 1 else "it"
            raise validation_error(
                f"Cannot delete {shown} as there are composite alarm(s) depending on {pronoun}."
            )
        self.store.delete(names)
        return {}

    def set_alarm_state(self, request: dict[str, Any]) -> dict[str, Any]:
        """Set an alarm's state until its next evaluation (actions run on a change)."""
        name = request.get("AlarmName")
        if not name:
            raise missing("AlarmName")
        state = request.get("StateValue")
        if state is None:
            raise missing("StateValue")
        _enum(state, "stateValue", _STATES)
        reason = request.get("StateReason")
        if reason is None:
            raise missing("StateReason")
        if len(reason) > 1023:
            raise constraint(
                f"Value '{reason}' at 'stateReason' failed to satisfy constraint: "
                "Member must have length less than or equal to 1023"
            )
        data = request.get("StateReasonData")
        if data is not None:
            if len(data) > 4000:
                raise constraint(
                    f"Value '{data}' at 'stateReasonData' failed to satisfy constraint: "
                    "Member must have length less than or equal to 4000"
                )
            try:
                json.loads(data)
            except ValueError:
                raise AwsError(
                    "InvalidFormatFault",
                    "Data format is invalid: StateReasonData is not valid JSON.",
                    query_code="InvalidFormat",
                ) from None
        if self.store.get(name) is None:
            raise resource_not_found()
        self.scheduler.set_state(name, state, reason, data)
        return {}

    def enable_alarm_actions(self, request: dict[str, Any]) -> dict[str, Any]:
        """Turn actions on (unknown names are ignored, as on AWS)."""
        self.store.set_actions_enabled(_names(request), True)
        return {}

    def disable_alarm_actions(self, request: dict[str, Any]) -> dict[str, Any]:
        """Turn actions off: states still change, no actions run, none are replayed later."""
        self.store.set_actions_enabled(_names(request), False)
        return {}

    # -- Tags ------------------------------------------------------------------------------

    def _alarm_arn(self, request: Mapping[str, Any]) -> str:
        arn = request.get("ResourceARN")
        if not arn:
            raise missing("ResourceARN")
        prefix = f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:"
        if not str(arn).startswith(prefix) or self.store.get(str(arn)[len(prefix) :]) is None:
            raise AwsError(
                "ResourceNotFoundException",
                "The specified resource does not exist.",
                status=404,
                query_code="ResourceNotFoundException",
            )
        return str(arn)

    def tag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        """Add or overwrite tags on an alarm."""
        arn = self._alarm_arn(request)
        tags = validate_fields.tags(request.get("Tags"))
        merged = {t["Key"] for t in self.store.tags(arn)} | {t["Key"] for t in tags}
        if len(merged) > _MAX_TAGS:
            raise AwsError(
                "LimitExceededFault",
                f"The maximum number of tags ({_MAX_TAGS}) for the resource would be exceeded.",
                query_code="LimitExceeded",
            )
        self.store.tag(arn, tags)
        return {}

    def untag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        """Remove tags from an alarm by key."""
        arn = self._alarm_arn(request)
        self.store.untag(arn, [str(k) for k in request.get("TagKeys") or []])
        return {}

    def list_tags_for_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        """An alarm's tags."""
        return {"Tags": self.store.tags(self._alarm_arn(request))}


def combination_error(message: str) -> AwsError:
    """CloudWatch's InvalidParameterCombination."""
    return AwsError(
        "InvalidParameterCombinationException", message, query_code="InvalidParameterCombination"
    )


def _kind(alarm: Mapping[str, Any]) -> str:
    return "CompositeAlarm" if "AlarmRule" in alarm else "MetricAlarm"


def _safe_children(alarm: Mapping[str, Any]) -> list[str]:
    try:
        return alarm_children(alarm)
    except Exception:  # a rule that cannot be read references nothing we can name
        log.exception("cannot parse the rule of composite alarm %s", alarm.get("AlarmName"))
        return []


def alarm_operations(
    store: AlarmStore,
    scheduler: AlarmScheduler,
    topics: TopicStore | None,
    *,
    clock: Clock,
    region: str,
    account_id: str,
) -> dict[str, Handler]:
    """CloudWatch's alarm operations keyed by name (merge into the ``cloudwatch`` service)."""
    ops = _AlarmOps(store, scheduler, topics, clock, region, account_id)
    return {
        "PutMetricAlarm": ops.put_metric_alarm,
        "PutCompositeAlarm": ops.put_composite_alarm,
        "DescribeAlarms": ops.describe_alarms,
        "DescribeAlarmsForMetric": ops.describe_alarms_for_metric,
        "DescribeAlarmHistory": ops.describe_alarm_history,
        "DeleteAlarms": ops.delete_alarms,
        "SetAlarmState": ops.set_alarm_state,
        "EnableAlarmActions": ops.enable_alarm_actions,
        "DisableAlarmActions": ops.disable_alarm_actions,
        "TagResource": ops.tag_resource,
        "UntagResource": ops.untag_resource,
        "ListTagsForResource": ops.list_tags_for_resource,
    }
