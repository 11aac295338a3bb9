"""CloudWatch alarm write operations: Put/Delete alarms, state, actions and tags.

Each handler takes the decoded request (botocore input shape; timestamps as epoch seconds) and
returns the output shape, raising AwsError with CloudWatch's awsQueryCompatible codes (``code``
the modelled exception name, ``query_code`` the Query code). Alarm definitions are validated by
``heron.monitor.alarms.validate``; this module owns the operation semantics around them: alarms
are stored with state kept across updates, evaluated at once after a Put, and every change is
visible to the scheduler. Real CloudWatch accepts an action naming an SNS topic that does not
exist (only the console warns); Heron refuses it with InvalidParameterValue, since such an alarm
pages nobody, and the seed's ``region``/``account`` placeholders are resolved before the check.
The Describe operations live in ``alarm_describe``; ``alarm_operations`` registers both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from heron.awsapi.alarm_describe import AlarmDescriptions
from heron.awsapi.alarm_requests import (
    STATES,
    alarm_names,
    check_enum,
    resource_not_found,
    safe_children,
)
from heron.awsapi.errors import AwsError, constraint, missing, validation_error
from heron.monitor.alarms import validate_fields
from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.alarms.store import (
    ACTION_KEYS,
    AlarmStore,
    concrete_arns,
    normalize_action_arns,
)
from heron.monitor.notify.topics import TopicStore
from heron.types import Clock

Handler = Callable[[dict[str, Any]], dict[str, Any]]
_MAX_TAGS = 50


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

        request = concrete_arns(request, self.region, self.account_id)
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

        request = concrete_arns(request, self.region, self.account_id)
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

    # -- Delete / state / actions ----------------------------------------------------------

    def delete_alarms(self, request: dict[str, Any]) -> dict[str, Any]:
        """Delete alarms: all or nothing; refused while a composite alarm depends on one."""
        names = list(dict.fromkeys(alarm_names(request)))
        existing = {a["AlarmName"]: a for a in self.store.alarms(names)}
        unknown = [n for n in names if n not in existing]
        if unknown:
            raise resource_not_found(f"The alarm(s) [{', '.join(unknown)}] do not exist.")
        deleting = set(names)
        blocked: list[str] = []
        for alarm in self.store.alarms():
            if "AlarmRule" in alarm and alarm["AlarmName"] not in deleting:
                blocked.extend(c for c in safe_children(alarm) if c in deleting)
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
        check_enum(state, "stateValue", STATES)
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
        self.store.set_actions_enabled(alarm_names(request), True)
        return {}

    def disable_alarm_actions(self, request: dict[str, Any]) -> dict[str, Any]:
        """Turn actions off: states still change, no actions run, none are replayed later."""
        self.store.set_actions_enabled(alarm_names(request), False)
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
    reads = AlarmDescriptions(store)
    return {
        "PutMetricAlarm": ops.put_metric_alarm,
        "PutCompositeAlarm": ops.put_composite_alarm,
        "DescribeAlarms": reads.describe_alarms,
        "DescribeAlarmsForMetric": reads.describe_alarms_for_metric,
        "DescribeAlarmHistory": reads.describe_alarm_history,
        "DeleteAlarms": ops.delete_alarms,
        "SetAlarmState": ops.set_alarm_state,
        "EnableAlarmActions": ops.enable_alarm_actions,
        "DisableAlarmActions": ops.disable_alarm_actions,
        "TagResource": ops.tag_resource,
        "UntagResource": ops.untag_resource,
        "ListTagsForResource": ops.list_tags_for_resource,
    }
