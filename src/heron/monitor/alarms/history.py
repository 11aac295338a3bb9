"""Alarm history items in DescribeAlarmHistory's shape, with AWS's summaries and JSON payloads.

Every builder is pure: it takes the alarm dicts and a timestamp and returns the item exactly as
DescribeAlarmHistory returns it (``Timestamp`` as float epoch seconds, ``HistoryData`` a compact
JSON string). Payload shapes follow cloudwatch.md §1.10: StateUpdate carries
``{"version":"1.0","oldState":{...},"newState":{...}}``; ConfigurationUpdate carries
``createdAlarm`` / ``updatedAlarm`` / ``deletedAlarm`` with AWS's camel-cased keys (and its
lower-case ``okactions``); Action carries ``actionState`` and ``notificationResource``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: Longest HistoryData AWS stores.
MAX_HISTORY_DATA = 4095
#: Keys that are state, not configuration (left out of ConfigurationUpdate payloads but stateValue).
_STATE_KEYS = ("StateReason", "StateReasonData", "StateTransitionedTimestamp")
_TIMESTAMP_KEYS = (
    "AlarmConfigurationUpdatedTimestamp",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
)


def aws_time(seconds: float) -> str:
    """``2019-10-02T17:04:40.985+0000``: the timestamp format of alarm JSON payloads."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_type(alarm: Mapping[str, Any]) -> str:
    """``CompositeAlarm`` for an alarm with an AlarmRule, else ``MetricAlarm``."""
    return "CompositeAlarm" if "AlarmRule" in alarm else "MetricAlarm"


def _item(
    alarm: Mapping[str, Any], timestamp: float, kind: str, summary: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmType": alarm_type(alarm),
        "Timestamp": timestamp,
        "HistoryItemType": kind,
        "HistorySummary": summary[:255],
        "HistoryData": _compact(data),
    }


def _compact(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _reason_data(raw: Any) -> Any:
    """StateReasonData as an object inside history payloads (it is a JSON string on alarms)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _state(value: str, reason: str, reason_data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"stateValue": value, "stateReason": reason}
    if reason_data is not None:
        out["stateReasonData"] = _reason_data(reason_data)
    return out


def state_update(
    alarm: Mapping[str, Any],
    *,
    old_state: str,
    old_reason: str,
    old_reason_data: str | None,
    timestamp: float,
) -> dict[str, Any]:
    """The StateUpdate item for ``alarm`` (already in its new state) leaving ``old_state``."""
    data = {
        "version": "1.0",
        "oldState": _state(old_state, old_reason, old_reason_data),
        "newState": _state(
            alarm["StateValue"], alarm.get("StateReason", ""), alarm.get("StateReasonData")
        ),
    }
    summary = f"Alarm updated from {old_state} to {alarm['StateValue']}"
    return _item(alarm, timestamp, "StateUpdate", summary, data)


def _camel(key: str) -> str:
    if key == "OKActions":
        return "okactions"  # AWS's own spelling in ConfigurationUpdate payloads
    return key[:1].lower() + key[1:]


def _config_value(key: str, value: Any) -> Any:
    if key in _TIMESTAMP_KEYS and isinstance(value, (int, float)):
        return aws_time(float(value))
    if key == "Dimensions":
        return [{"value": d["Value"], "name": d["Name"]} for d in value]
    if isinstance(value, Mapping):
        return {_camel(k): _config_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_config_value(key, v) for v in value]
    return value


def configuration(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """The alarm as ConfigurationUpdate payloads show it (camel-cased keys, string times)."""
    return {_camel(k): _config_value(k, v) for k, v in alarm.items() if k not in _STATE_KEYS}


def created(alarm: Mapping[str, Any], timestamp: float) -> dict[str, Any]:
    """The ConfigurationUpdate item for a new alarm."""
    data = {"version": "1.0", "type": "Create", "createdAlarm": configuration(alarm)}
    return _item(
        alarm, timestamp, "ConfigurationUpdate", f'Alarm "{alarm["AlarmName"]}" created', data
    )


def updated(
    before: Mapping[str, Any], after: Mapping[str, Any], timestamp: float
) -> dict[str, Any]:
    """The ConfigurationUpdate item for a changed alarm (payload keys [Inferred])."""
    data = {
        "version": "1.0",
        "type": "Update",
        "originalAlarm": configuration(before),
        "updatedAlarm": configuration(after),
    }
    if len(_compact(data)) > MAX_HISTORY_DATA:
        del data["originalAlarm"]
    return _item(
        after, timestamp, "ConfigurationUpdate", f'Alarm "{after["AlarmName"]}" updated', data
    )


def deleted(alarm: Mapping[str, Any], timestamp: float) -> dict[str, Any]:
    """The ConfigurationUpdate item for a deleted alarm (payload keys [Inferred])."""
    data = {"version": "1.0", "type": "Delete", "deletedAlarm": configuration(alarm)}
    return _item(
        alarm, timestamp, "ConfigurationUpdate", f'Alarm "{alarm["AlarmName"]}" deleted', data
    )


def action(
    alarm: Mapping[str, Any],
    resource: str,
    timestamp: float,
    *,
    error: str | None = None,
    published_message: str | None = None,
) -> dict[str, Any]:
    """The Action item for running ``resource`` (succeeded unless ``error`` is given)."""
    data: dict[str, Any] = {
        "actionState": "Failed" if error else "Succeeded",
        "stateUpdateTimestamp": round(float(alarm.get("StateUpdatedTimestamp", timestamp)) * 1000),
        "notificationResource": resource,
    }
    if error:
        data["error"] = error
        summary = f'Failed to execute action {resource}. Received error: "{error}"'
    else:
        summary = f"Successfully executed action {resource}"
        if published_message is not None:
            data["publishedMessage"] = published_message
            if len(_compact(data)) > MAX_HISTORY_DATA:
                del data["publishedMessage"]
    return _item(alarm, timestamp, "Action", summary, data)
