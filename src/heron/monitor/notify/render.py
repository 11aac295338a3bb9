"""Plain-text rendering shared by every channel: subject line, alert facts, digest lists."""

from __future__ import annotations

from datetime import UTC, datetime

from heron.monitor.notify.model import Alert, Kind, Notice

TAGS = {"critical": "[CRITICAL]", "warning": "[WARNING]", "info": "[INFO]"}
#: Message priority by severity: critical alerts are high, warnings normal (medium), and
#: informational notices — "no data" above all — low.
PRIORITIES = {"critical": "high", "warning": "normal", "info": "low"}
#: How a priority is labelled for people (Slack, email bodies, the inbox).
PRIORITY_LABELS = {"high": "High", "normal": "Medium", "low": "Low"}


def priority(severity: str) -> str:
    """``high``, ``normal`` or ``low`` for a severity value (``critical``, ``warning``, ``info``)."""
    return PRIORITIES.get(severity, "low")


def priority_label(severity: str) -> str:
    """``High``, ``Medium`` or ``Low`` for a severity value."""
    return PRIORITY_LABELS[priority(severity)]


def when(at: float) -> str:
    """An epoch second as ISO-8601 UTC."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def subject(notice: Notice) -> str:
    """``[CRITICAL] LambdaErrors is in ALARM`` (SNS keeps subjects under 100 characters)."""
    text = f"{TAGS[notice.severity.value]} {notice.title}"
    if notice.kind is Kind.RESOLUTION:
        text = f"{TAGS[notice.severity.value]} RESOLVED: {notice.title}"
    return text if len(text) < 100 else text[:96] + "..."


def facts(alert: Alert) -> list[tuple[str, str]]:
    """The alert's labelled facts, in display order."""
    out = [("State", f"{alert.old_state} -> {alert.state}" if alert.old_state else alert.state)]
    if alert.reason:
        out.append(("Reason", alert.reason))
    if alert.metric:
        out.append(("Metric", alert.metric))
    if alert.threshold:
        out.append(("Threshold", alert.threshold))
    out.append(("Time", when(alert.at)))
    if alert.incident is not None:
        out.append(("Incident", f"#{alert.incident}"))
    return out


Links = tuple[tuple[str, str], ...]


def link_lines(links: Links) -> list[str]:
    """The action links as text lines (signed; opening one asks before acting)."""
    if not links:
        return []
    return ["", "Act on this incident (each link asks for confirmation):"] + [
        f"  {label}: {url}" for label, url in links
    ]


def text(notice: Notice, links: Links = ()) -> str:
    """The notice as plain text, with the incident's action links when given."""
    lines = [subject(notice), "", f"Priority: {priority_label(notice.severity.value)}"]
    if notice.recipient:
        lines.append(f"Paging {notice.recipient}.")
    if notice.note:
        lines.append(notice.note)
    if notice.kind is Kind.DIGEST:
        lines.append(f"{len(notice.alerts)} firing:")
        lines += [
            f"  - {a.alarm}: {a.state} since {when(a.at)} ({a.reason})" for a in notice.alerts
        ]
        if notice.resolved:
            lines.append(f"{len(notice.resolved)} fired and resolved meanwhile:")
            lines += [f"  - {a.alarm} ({a.reason})" for a in notice.resolved]
        return "\n".join(lines) + "\n"
    for alert in notice.alerts:
        lines += [f"{label}: {value}" for label, value in facts(alert)]
        if alert.description:
            lines.append(f"Description: {alert.description}")
    lines += link_lines(links)
    return "\n".join(lines) + "\n"
