"""Request checks and CloudWatch errors shared by the alarm operations, in CloudWatch's words."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from heron.awsapi.errors import AwsError, constraint
from heron.monitor.alarms.scheduler import alarm_children

log = logging.getLogger(__name__)

#: Alarm states, in the order AWS's enum message lists them.
STATES = ("INSUFFICIENT_DATA", "ALARM", "OK")
ALARM_TYPES = ("CompositeAlarm", "MetricAlarm", "LogAlarm")


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


def check_enum(value: Any, path: str, allowed: tuple[str, ...]) -> None:
    """Refuse ``value`` unless it is one of ``allowed``, naming the member at ``path``."""
    if value not in allowed:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def max_records(value: Any, default: int) -> int:
    """A request's MaxRecords (1 to 100), or ``default`` when absent."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise constraint(
            f"Value '{value}' at 'maxRecords' failed to satisfy constraint: "
            "Member must have value between 1 and 100"
        )
    return value


def page_token(value: str) -> str:
    """The NextToken that resumes a listing after ``value``."""
    return base64.urlsafe_b64encode(value.encode()).decode()


def page_after(token: Any) -> str:
    """The value a NextToken resumes after (InvalidNextToken if it is not one of ours)."""
    try:
        return base64.urlsafe_b64decode(str(token).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid_next_token() from exc


def alarm_names(request: Mapping[str, Any], member: str = "AlarmNames") -> list[str]:
    """The alarm names a request lists in ``member`` (at most 100)."""
    names = list(request.get(member) or [])
    if len(names) > 100:
        raise constraint(
            f"Value '[{', '.join(names)}]' at '{member[0].lower() + member[1:]}' failed to "
            "satisfy constraint: Member must have length less than or equal to 100"
        )
    return names


def combination_error(message: str) -> AwsError:
    """CloudWatch's InvalidParameterCombination."""
    return AwsError(
        "InvalidParameterCombinationException", message, query_code="InvalidParameterCombination"
    )


def alarm_kind(alarm: Mapping[str, Any]) -> str:
    """``CompositeAlarm`` or ``MetricAlarm``: the AlarmTypes member an alarm answers to."""
    return "CompositeAlarm" if "AlarmRule" in alarm else "MetricAlarm"


def safe_children(alarm: Mapping[str, Any]) -> list[str]:
    """The alarms a composite's rule names; none (logged) if the stored rule cannot be read."""
    try:
        return alarm_children(alarm)
    except Exception:  # a rule that cannot be read references nothing we can name
        log.exception("cannot parse the rule of composite alarm %s", alarm.get("AlarmName"))
        return []
