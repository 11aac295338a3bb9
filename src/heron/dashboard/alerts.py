"""The active-alerts panel: open incidents with who is paged, silences, and the form input rules.

Pure functions over notify's values (``Incident``, ``Silence``, ``NotifyConfig``) with time passed
in; the routes in ``alert_routes`` call notify's operations and hand the results to these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.monitor.notify.config import NotifyConfig
from heron.monitor.notify.incidents import Incident
from heron.monitor.notify.routing import level_target, split_target
from heron.monitor.notify.silences import Silence

#: Shortest and longest snooze (Heron seconds).
SNOOZE_MIN_S = 60.0
SNOOZE_MAX_S = 7 * 86400.0
#: Shortest and longest silence.
SILENCE_MIN_S = 60.0
SILENCE_MAX_S = 90 * 86400.0
#: Longest silence pattern and comment accepted from the page.
MAX_PATTERN = 255
MAX_COMMENT = 500
#: Most incidents the panel lists (the newest).
MAX_INCIDENTS = 100

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 60.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_PATTERN = re.compile(r"^[\w.\-:/*?\[\]! ]+$")


class FieldError(ValueError):
    """Bad form input: names the field so the page can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_duration(text: str | None, field: str, lo: float, hi: float) -> float:
    """``30m``, ``2h``, ``1d``, ``1w``, ``90s`` or a bare number of minutes, as seconds in [lo, hi]."""
    match = _DURATION.match(text or "")
    if match is None:
        raise FieldError(field, f"{field} must look like 30m, 2h or 1d, got {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not lo <= seconds <= hi:
        raise FieldError(field, f"{field} must be between {_human(lo)} and {_human(hi)}")
    return seconds


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """A checked request to create a silence."""

    pattern: str
    duration_s: float
    comment: str


def parse_silence(form: Mapping[str, str]) -> SilenceRequest:
    """The silence form's fields checked (FieldError names the first bad one)."""
    pattern = (form.get("pattern") or "").strip()
    if not pattern:
        raise FieldError("pattern", "name the alarm (or a pattern such as createUser-*) to silence")
    if len(pattern) > MAX_PATTERN or not _PATTERN.match(pattern):
        raise FieldError(
            "pattern", "the pattern may use letters, digits, - _ . : / and the wildcards * ? [ ]"
        )
    duration = parse_duration(form.get("duration"), "duration", SILENCE_MIN_S, SILENCE_MAX_S)
    comment = (form.get("comment") or "").strip()
    if not comment:
        raise FieldError("comment", "say why (the comment is kept with the silence)")
    if len(comment) > MAX_COMMENT:
        raise FieldError("comment", f"the comment may be at most {MAX_COMMENT} characters")
    return SilenceRequest(pattern, duration, comment)


def parse_incident_id(text: str) -> int:
    """An incident id from the URL (FieldError when it is not a positive whole number)."""
    if not text.isdigit() or len(text) > 12:
        raise FieldError("id", f"incident id must be a positive whole number, got {text!r}")
    return int(text)


def _ms(t: float | None) -> int | None:
    return None if t is None else int(t * 1000)


def paged(incident: Incident, config: NotifyConfig, now: float) -> dict[str, Any]:
    """Who the incident pages now: its escalation level, the person there and the destinations."""
    person: str | None = None
    via: str | None = None
    policy = config.escalation
    if policy.levels:
        try:
            who = level_target(policy, config.schedules, incident.level, now)
        except KeyError:  # a schedule removed from the configuration since the incident opened
            who = None
        if who is not None:
            person, via = who.user, who.source
    targets = []
    for t in incident.targets:
        channel, name = split_target(t)
        targets.append(f"{channel} ({name})" if name else channel)
        if person is None and name:
            person = name  # the route's on-call channel named someone
    return {
        "level": incident.level + 1,
        "levels": len(policy.levels),
        "person": person,
        "via": via,
        "targets": targets,
    }


def incident_row(
    incident: Incident, config: NotifyConfig, now: float, tile: str | None = None
) -> dict[str, Any]:
    """One incident as the panel shows it (times in epoch ms)."""
    alert = incident.alert
    return {
        "id": incident.id,
        "alarm": incident.alarm,
        "severity": incident.severity.value,
        "status": incident.status,
        # When the alarm went to ALARM (the incident opens as the notifier takes the message).
        "since": _ms(min(alert.at, incident.opened) if alert.at else incident.opened),
        "opened": _ms(incident.opened),
        "updated": _ms(incident.updated),
        "reason": alert.reason,
        "metric": alert.metric,
        "threshold": alert.threshold,
        "paged": paged(incident, config, now),
        "nextEscalation": _ms(incident.next_escalation),
        "snoozedUntil": _ms(incident.snoozed_until),
        "acknowledgedBy": incident.acked_by,
        "resolved": _ms(incident.resolved),
        "alertId": alert.id,
        "tile": tile,
    }


def silence_row(silence: Silence, now: float) -> dict[str, Any]:
    """One silence with whether it is in force, pending (a maintenance window) or over."""
    if silence.active(now):
        status = "active"
    elif silence.starts > now:
        status = "pending"
    else:
        status = "expired"
    return {
        "id": silence.id,
        "pattern": silence.pattern,
        "starts": _ms(silence.starts),
        "ends": _ms(silence.ends),
        "comment": silence.comment,
        "createdBy": silence.created_by,
        "status": status,
    }


_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
_STATUS_ORDER = {"open": 0, "snoozed": 1, "acknowledged": 2, "resolved": 3}


def panel(
    incidents: Sequence[Incident],
    silences: Sequence[Silence],
    config: NotifyConfig,
    now: float,
    tiles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The panel: active incidents (open first, then by severity, newest first) and silences."""
    rows = [incident_row(i, config, now, (tiles or {}).get(i.alarm)) for i in incidents if i.active]
    rows.sort(key=lambda r: -int(r["since"] or 0))
    rows.sort(
        key=lambda r: (_STATUS_ORDER.get(r["status"], 9), _SEVERITY_ORDER.get(r["severity"], 9))
    )
    return {
        "incidents": rows,
        "silences": [silence_row(s, now) for s in silences],
        "counts": {
            "open": sum(1 for r in rows if r["status"] == "open"),
            "acknowledged": sum(1 for r in rows if r["status"] == "acknowledged"),
            "snoozed": sum(1 for r in rows if r["status"] == "snoozed"),
        },
    }
