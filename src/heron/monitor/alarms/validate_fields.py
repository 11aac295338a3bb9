"""Field checks shared by PutMetricAlarm and PutCompositeAlarm: errors, names, actions, tags.

Errors follow CloudWatch's awsQueryCompatible codes (``code`` the modelled exception,
``query_code`` the Query code). Model-constraint failures use AWS's "1 validation error
detected: Value ... at 'memberPath' failed to satisfy constraint: ..." form; messages marked
[AWS-observed] are AWS's words, the rest are [Inferred] in AWS's phrasing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from heron.awsapi.errors import (
    AwsError,
    combination,
    constraint,
    invalid,
    limit_exceeded,
    missing,
    validation_error,
)
from heron.awsapi.metric_fields import check_length

__all__ = [
    "check_length",
    "combination",
    "constraint",
    "invalid",
    "limit_exceeded",
    "missing",
    "validation_error",
]

MAX_ACTIONS = 5
MAX_TAGS = 50

ACTION_LISTS = (
    ("OKActions", "oKActions"),
    ("AlarmActions", "alarmActions"),
    ("InsufficientDataActions", "insufficientDataActions"),
)

_PARTITION = r"arn:aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_ACCOUNT = r"\d{12}"
#: Action ARNs PutMetricAlarm documents; the region group is checked against the alarm's.
_ACTION_PATTERNS: dict[str, re.Pattern[str]] = {
    "sns": re.compile(
        rf"^{_PARTITION}:sns:({_REGION}):{_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?$"
    ),
    "lambda": re.compile(
        rf"^{_PARTITION}:lambda:({_REGION}):{_ACCOUNT}:function:[A-Za-z0-9_-]{{1,64}}"
        r"(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
    ),
    "ec2": re.compile(
        rf"^{_PARTITION}:automate:({_REGION}):ec2:(?:stop|terminate|reboot|recover)$"
    ),
    "swf": re.compile(
        rf"^{_PARTITION}:swf:({_REGION}):{_ACCOUNT}:action/actions/"
        r"AWS_EC2\.InstanceId\.(?:Stop|Terminate|Reboot|Recover)/1\.0$"
    ),
    "autoscaling": re.compile(
        rf"^{_PARTITION}:autoscaling:({_REGION}):{_ACCOUNT}:scalingPolicy:.+$"
    ),
    "ssm": re.compile(rf"^{_PARTITION}:ssm:({_REGION}):{_ACCOUNT}:opsitem:.+$"),
    "ssm-incidents": re.compile(rf"^{_PARTITION}:ssm-incidents:():{_ACCOUNT}:responseplan/.+$"),
    "aiops": re.compile(rf"^{_PARTITION}:aiops:({_REGION}):{_ACCOUNT}:investigation-group:.+$"),
}
METRIC_ALARM_ACTIONS = tuple(_ACTION_PATTERNS)
COMPOSITE_ALARM_ACTIONS = ("sns", "lambda", "ssm", "ssm-incidents", "aiops")


def not_null(path: str) -> AwsError:
    """A required model member is absent."""
    return constraint(
        f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
    )


def string(value: Any, name: str, path: str, low: int, high: int) -> str:
    """A string member of the right type and length."""
    if not isinstance(value, str):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    check_length(value, path, low, high)
    return value


def alarm_name(value: Any) -> str:
    """AlarmName: 1-255 UTF-8 characters, no ASCII control characters [AWS-doc]."""
    if value is None:
        raise not_null("alarmName")
    name = string(value, "AlarmName", "alarmName", 1, 255)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise invalid(f"The value {name!r} for parameter AlarmName is invalid.")
    return name


def integer(value: Any, name: str, path: str, low: int) -> int:
    """An integer member with a model minimum."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    if value < low:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have value greater than or equal to {low}"
        )
    return value


def number(value: Any, name: str) -> float:
    """A finite double member."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    return float(value)


def boolean(value: Any, name: str) -> bool:
    """A boolean member."""
    if not isinstance(value, bool):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    return value


def actions(raw: Any, name: str, path: str, *, region: str, kinds: Sequence[str]) -> list[str]:
    """One action list: at most five ARNs of the allowed kinds, in the alarm's region.

    The targets' existence is not checked here (CloudWatch does not check it either; Heron's
    store checks SNS topics).
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(f"The value {raw} for parameter {name} is invalid.")
    if len(raw) > MAX_ACTIONS:
        raise constraint(
            f"Value '[{', '.join(map(str, raw))}]' at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_ACTIONS}"
        )
    out: list[str] = []
    for i, arn in enumerate(raw, 1):
        text = string(arn, f"{name}.member.{i}", f"{path}.{i}.member", 1, 1024)
        match = None
        for kind in kinds:
            match = _ACTION_PATTERNS[kind].match(text)
            if match:
                break
        if match is None:  # [Inferred] wording
            raise validation_error(f"Invalid arn syntax: {text}")
        action_region = match.group(1)
        if action_region and action_region != region:  # [Inferred] wording
            raise validation_error(
                f"Invalid region {action_region} specified. Only {region} is supported."
            )
        if text not in out:  # AWS stores each action once
            out.append(text)
    return out


def tags(raw: Any) -> list[dict[str, str]]:
    """Tags: at most 50, keys 1-128 and values 0-256 characters, keys unique."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(f"The value {raw} for parameter Tags is invalid.")
    if len(raw) > MAX_TAGS:  # [Inferred] wording
        raise limit_exceeded(f"The number of tags ({len(raw)}) exceeds the limit of {MAX_TAGS}.")
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for i, tag in enumerate(raw, 1):
        if not isinstance(tag, dict):
            raise invalid(f"The value {tag} for parameter Tags.member.{i} is invalid.")
        if tag.get("Key") is None:
            raise not_null(f"tags.{i}.member.key")
        if tag.get("Value") is None:
            raise not_null(f"tags.{i}.member.value")
        key = string(tag["Key"], f"Tags.member.{i}.Key", f"tags.{i}.member.key", 1, 128)
        value = string(tag["Value"], f"Tags.member.{i}.Value", f"tags.{i}.member.value", 0, 256)
        if key in seen:  # [Inferred] wording
            raise invalid(f"The tag key {key} is duplicated in parameter Tags.")
        seen.add(key)
        out.append({"Key": key, "Value": value})
    return out
