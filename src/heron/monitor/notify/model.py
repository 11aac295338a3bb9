"""The notifier's vocabulary: an Alert (one alarm state change read from a topic) and a Notice.

An Alert is what the routing pipeline decides about; a Notice is what a channel renders and
sends (one alert, a digest of several, a page, an escalation, a flapping notice). Both are plain
frozen values that round-trip through JSON, because the outbox stores Notices.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson


class Severity(StrEnum):
    """How urgent an alert is; the topic decides (``alerts`` critical, ``warnings`` warning)."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


#: The topic names whose messages carry a given severity (others are informational).
TOPIC_SEVERITY = {"alerts": Severity.CRITICAL, "warnings": Severity.WARNING}
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def worst(severities: list[Severity]) -> Severity:
    """The most urgent of ``severities`` (info when empty)."""
    return max(severities, key=_RANK.__getitem__, default=Severity.INFO)


class Kind(StrEnum):
    """What a Notice announces."""

    ALERT = "alert"
    RESOLUTION = "resolution"
    DIGEST = "digest"
    PAGE = "page"
    FLAPPING = "flapping"
    SETTLED = "settled"
    CONFIRMATION = "confirmation"
    NO_DATA = "no-data"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alarm state change as published to a topic (or a plain SNS message)."""

    id: str
    topic: str
    topic_arn: str
    alarm: str
    state: str
    old_state: str
    severity: Severity
    reason: str
    at: float
    metric: str = ""
    threshold: str = ""
    description: str = ""
    region: str = ""
    subject: str = ""
    message: str = ""
    channels: tuple[str, ...] = field(default=())
    defer_until: float | None = None
    incident: int | None = None
    thread: str = ""
    kind: str = ""

    @property
    def is_resolution(self) -> bool:
        """Whether the alarm went back to OK."""
        return self.state == "OK"

    def with_(self, **changes: Any) -> Alert:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``from_dict`` reverses it)."""
        # Field by field rather than dataclasses.asdict, whose recursive deep copy was a quarter
        # of intake's time; every field is a plain value except the enum and the tuple.
        out = {name: getattr(self, name) for name in _ALERT_FIELDS}
        out["severity"] = self.severity.value
        out["channels"] = list(self.channels)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Alert:
        """The Alert ``as_dict`` produced."""
        data = dict(raw)
        data["severity"] = Severity(data["severity"])
        data["channels"] = tuple(data.get("channels") or ())
        return cls(**data)


_ALERT_FIELDS = tuple(f.name for f in fields(Alert))


@dataclass(frozen=True, slots=True)
class Notice:
    """What one delivery says: its kind, severity, title, the alerts it covers and a note."""

    kind: Kind
    severity: Severity
    title: str
    alerts: tuple[Alert, ...]
    note: str = ""
    recipient: str = ""
    thread: str = ""
    resolved: tuple[Alert, ...] = field(default=())
    keys: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        """The outbox representation."""
        return orjson.dumps(
            {
                "kind": self.kind.value,
                "severity": self.severity.value,
                "title": self.title,
                "alerts": [a.as_dict() for a in self.alerts],
                "resolved": [a.as_dict() for a in self.resolved],
                "note": self.note,
                "recipient": self.recipient,
                "thread": self.thread,
                "keys": list(self.keys),
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> Notice:
        """The Notice ``to_json`` stored."""
        raw = orjson.loads(text)
        return cls(
            kind=Kind(raw["kind"]),
            severity=Severity(raw["severity"]),
            title=raw["title"],
            alerts=tuple(Alert.from_dict(a) for a in raw["alerts"]),
            resolved=tuple(Alert.from_dict(a) for a in raw.get("resolved", [])),
            note=raw.get("note", ""),
            recipient=raw.get("recipient", ""),
            thread=raw.get("thread", ""),
            keys=tuple(raw.get("keys", [])),
        )


def _epoch(text: Any, default: float) -> float:
    if not isinstance(text, str) or not text:
        return default
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _trigger_text(trigger: Mapping[str, Any]) -> tuple[str, str]:
    metric = " ".join(str(trigger.get(k) or "") for k in ("Namespace", "MetricName")).strip()
    dims = ", ".join(f"{d.get('name')}={d.get('value')}" for d in trigger.get("Dimensions") or [])
    if dims:
        metric += f" ({dims})"
    statistic = trigger.get("Statistic") or trigger.get("ExtendedStatistic") or ""
    if statistic and metric:
        metric = f"{statistic} of {metric}"
    operator = {
        "GreaterThanOrEqualToThreshold": ">=",
        "GreaterThanThreshold": ">",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }.get(str(trigger.get("ComparisonOperator")), str(trigger.get("ComparisonOperator") or ""))
    threshold = trigger.get("Threshold", trigger.get("ThresholdMetricId", ""))
    return metric, f"{operator} {threshold}".strip() if threshold != "" else operator


def alert_from_message(
    message_id: str,
    topic_arn: str,
    body: str,
    subject: str | None,
    published: float,
) -> Alert:
    """The Alert a topic message carries: a CloudWatch alarm message, else a plain message."""
    topic = topic_arn.rsplit(":", 1)[-1]
    severity = TOPIC_SEVERITY.get(topic, Severity.INFO)
    try:
        raw = json.loads(body)
    except ValueError:
        raw = None
    if isinstance(raw, dict) and "AlarmName" in raw and "NewStateValue" in raw:
        metric, threshold = _trigger_text(raw.get("Trigger") or {})
        if not metric and raw.get("AlarmRule"):
            metric, threshold = "composite", str(raw["AlarmRule"])
        return Alert(
            id=message_id,
            topic=topic,
            topic_arn=topic_arn,
            alarm=str(raw["AlarmName"]),
            state=str(raw["NewStateValue"]),
            old_state=str(raw.get("OldStateValue") or ""),
            severity=severity,
            reason=str(raw.get("NewStateReason") or ""),
            at=_epoch(raw.get("StateChangeTime"), published),
            metric=metric,
            threshold=threshold,
            description=str(raw.get("AlarmDescription") or ""),
            region=str(raw.get("Region") or ""),
            subject=subject or "",
            message=body,
        )
    # A plain Publish: announced as is, keyed by its subject (or id) so repeats group together.
    return Alert(
        id=message_id,
        topic=topic,
        topic_arn=topic_arn,
        alarm=subject or f"message {message_id[:8]}",
        state="MESSAGE",
        old_state="",
        severity=severity,
        reason=body[:2000],
        at=published,
        subject=subject or "",
        message=body,
    )
