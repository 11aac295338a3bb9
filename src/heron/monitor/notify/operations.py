"""What people do to incidents, silences and the dead-letter queue — shared by the CLI and the API.

Each operation changes the store and records who did it in the ledger, in one transaction.
"""

from __future__ import annotations

from heron.monitor.notify.incidents import Incident
from heron.monitor.notify.outbox import Row
from heron.monitor.notify.pipeline import Context
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.routing import stamp
from heron.monitor.notify.silences import Silence


def acknowledge(ctx: Context, incident_id: int, by: str, now: float) -> Incident:
    """Acknowledge an incident: escalation stops."""
    with ctx.db.transaction():
        incident = ctx.incidents.acknowledge(incident_id, now, by)
        _note(ctx, incident, Decision(Verdict.DONE, Reason.ACKNOWLEDGED, f"by {by}"), now)
    return incident


def snooze(ctx: Context, incident_id: int, by: str, until: float, now: float) -> Incident:
    """Snooze an incident until ``until``; then it pages its current level again."""
    with ctx.db.transaction():
        incident = ctx.incidents.snooze(incident_id, now, until, by)
        detail = f"by {by} until {stamp(until)}"
        _note(ctx, incident, Decision(Verdict.WAIT, Reason.SNOOZED, detail, until=until), now)
    return incident


def resolve(ctx: Context, incident_id: int, by: str, now: float) -> Incident:
    """Resolve an incident by hand."""
    with ctx.db.transaction():
        incident = ctx.incidents.resolve(incident_id, now, f"resolved by {by}")
        _note(ctx, incident, Decision(Verdict.DONE, Reason.MANUAL, f"resolved by {by}"), now)
    return incident


def replay(ctx: Context, row_id: int, now: float) -> Row:
    """Send a dead-lettered delivery again."""
    with ctx.db.transaction():
        row = ctx.outbox.replay(row_id, now)
        ctx.ledger.note(
            row.alert_id,
            row.alarm,
            "dlq",
            Decision(Verdict.RETRY, Reason.REPLAYED),
            now,
            delivery=row.id,
            channel=row.channel,
        )
    return row


def silence(
    ctx: Context, pattern: str, starts: float, ends: float, comment: str, by: str, now: float
) -> Silence:
    """Create a silence (a maintenance window when it starts later)."""
    return ctx.silences.add(pattern, starts, ends, comment=comment, created_by=by, now=now)


def _note(ctx: Context, incident: Incident, decision: Decision, now: float) -> None:
    ctx.ledger.note(incident.alert.id, incident.alarm, "incident", decision, now)
