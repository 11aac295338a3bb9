"""Routing decisions as pure functions: each takes what it needs and returns a named Decision.

Nothing here reads a clock or a database; the pipeline stages and the notifier call these and
record the answers in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.config import Escalation, Flapping, Route
from heron.monitor.notify.flapping import starts_flapping
from heron.monitor.notify.hours import Hours
from heron.monitor.notify.incidents import Incident
from heron.monitor.notify.model import Alert, Severity
from heron.monitor.notify.oncall import OnCall, Schedule
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.retry import RetryPolicy, capped
from heron.monitor.notify.silences import Silence, matching_silence


def stamp(at: float) -> str:
    """An epoch second as ``2026-03-06 09:00:00Z`` for decision details."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def silence_decision(alert: Alert, silences: Sequence[Silence], now: float) -> Decision:
    """Drop an alert an active silence (or maintenance window) covers."""
    hit = matching_silence(alert.alarm, silences, now)
    if hit is None:
        return Decision(Verdict.PASS, Reason.NOT_SILENCED)
    detail = f"#{hit.id} {hit.pattern!r} until {stamp(hit.ends)}"
    if hit.comment:
        detail += f" ({hit.comment})"
    return Decision(Verdict.DROP, Reason.SILENCED, detail, until=hit.ends)


def incident_decision(alert: Alert, active: Incident | None) -> Decision:
    """Open, deduplicate or resolve by the alarm's incident (the dedup key is the alarm)."""
    if alert.state == "MESSAGE":
        return Decision(Verdict.PASS, Reason.PLAIN_MESSAGE)
    if alert.state == "ALARM":
        if active is None:
            return Decision(Verdict.PASS, Reason.FIRST_NOTIFICATION)
        return Decision(Verdict.DROP, Reason.DUPLICATE, f"incident #{active.id} ({active.status})")
    if alert.state == "OK":
        if active is None:
            return Decision(Verdict.DROP, Reason.NOTHING_TO_RESOLVE)
        return Decision(Verdict.PASS, Reason.RESOLVED, f"incident #{active.id}")
    if alert.state == "INSUFFICIENT_DATA":
        # Missing data is worth knowing about but is not an outage: its own low-priority kind
        # that neither opens nor resolves an incident and never pages (docs/notify.md).
        open_now = f"incident #{active.id} stays {active.status}" if active else ""
        return Decision(Verdict.PASS, Reason.INSUFFICIENT_DATA, open_now)
    return Decision(Verdict.DROP, Reason.NOT_A_CHANGE, f"{alert.old_state} -> {alert.state}")


def flap_decision(changes: int, flapping: bool, policy: Flapping) -> Decision:
    """Announce flapping once, then stay quiet until the alarm settles."""
    window = f"{changes} changes in {policy.window_s / 60:g} min (limit {policy.changes})"
    if flapping:
        return Decision(Verdict.DROP, Reason.FLAPPING_SUPPRESSED, window)
    if starts_flapping(changes, policy):
        return Decision(Verdict.PASS, Reason.FLAPPING_STARTED, window)
    return Decision(Verdict.PASS, Reason.STEADY)


def window_decision(
    alert: Alert, route: Route, hours: Hours | None, now: float, *, pending_digest: bool
) -> Decision:
    """Critical now; otherwise inside the route's hours now, else deferred to their start.

    A resolution whose alarm notification still waits for the digest is folded into it.
    """
    if alert.is_resolution and pending_digest:
        return Decision(Verdict.DROP, Reason.FOLDED, "the morning digest lists it as resolved")
    if alert.severity is Severity.CRITICAL:
        return Decision(Verdict.SEND, Reason.CRITICAL_IMMEDIATE)
    if route.window is None or hours is None:
        return Decision(Verdict.SEND, Reason.ALWAYS)
    if hours.contains(now):
        return Decision(Verdict.SEND, Reason.INSIDE_HOURS, route.window)
    opens = hours.next_open(now)
    return Decision(Verdict.DEFER, Reason.OUTSIDE_HOURS, f"until {stamp(opens)}", until=opens)


@dataclass(frozen=True, slots=True)
class Step:
    """Where an escalation goes next."""

    level: int
    loop: int
    next_at: float | None
    decision: Decision


def interval(level: int, policy: Escalation) -> float:
    """Seconds until the step after ``level``: ``after_s`` to climb, ``repeat_s`` to loop."""
    return policy.after_s if level + 1 < len(policy.levels) else policy.repeat_s


def escalation_step(incident: Incident, policy: Escalation, now: float) -> Step:
    """The next escalation step of an unacknowledged (or un-snoozed) incident."""
    if incident.status == "snoozed":
        level, loop = incident.level, incident.loop
        reason, detail = Reason.SNOOZE_ENDED, f"level {level + 1}"
    elif incident.level + 1 < len(policy.levels):
        level, loop = incident.level + 1, incident.loop
        reason = Reason.ESCALATED
        detail = f"to level {level + 1} ({policy.levels[level]}) after {policy.after_s / 60:g} min"
    else:
        level, loop = 0, incident.loop + 1
        if policy.max_loops and loop >= policy.max_loops:
            detail = f"max_loops={policy.max_loops} reached: no further pages"
            return Step(
                incident.level,
                incident.loop,
                None,
                Decision(Verdict.DROP, Reason.EXHAUSTED, detail),
            )
        reason = Reason.REPEATED
        detail = f"loop {loop + 1}, level 1 ({policy.levels[0]})"
    next_at = now + interval(level, policy)
    return Step(level, loop, next_at, Decision(Verdict.SEND, reason, detail, until=next_at))


def promote_decision(incident: Incident, route: Route, now: float) -> Decision:
    """Promote a warning that has fired longer than the route allows."""
    if route.promote_after_s <= 0 or incident.promoted or not incident.active:
        return Decision(Verdict.DROP, Reason.STEADY)
    if now - incident.opened < route.promote_after_s:
        return Decision(Verdict.WAIT, Reason.STEADY, until=incident.opened + route.promote_after_s)
    return Decision(
        Verdict.SEND, Reason.PROMOTED, f"firing for {(now - incident.opened) / 60:.0f} min"
    )


def rate_decision(next_send: float, now: float) -> Decision:
    """Send now, or wait for the destination's next slot."""
    if now >= next_send:
        return Decision(Verdict.SEND, Reason.ENQUEUED)
    return Decision(
        Verdict.WAIT, Reason.RATE_LIMITED, f"next slot {stamp(next_send)}", until=next_send
    )


def retry_decision(outcome: Outcome, retries: int, policy: RetryPolicy, now: float) -> Decision:
    """After an attempt: done, retry (when), or dead-letter."""
    if outcome.ok:
        return Decision(Verdict.DONE, Reason.DELIVERED, str(outcome))
    if outcome.permanent:
        return Decision(Verdict.DEAD, Reason.PERMANENT, str(outcome))
    if outcome.retry_after is not None:
        wait = capped(outcome.retry_after)
        return Decision(
            Verdict.RETRY, Reason.THROTTLED, f"{outcome}; waiting {wait:g} s", until=now + wait
        )
    delay = policy.delay(retries + 1)
    if delay is None:
        return Decision(Verdict.DEAD, Reason.EXHAUSTED, f"{outcome}; after {retries} retries")
    return Decision(
        Verdict.RETRY,
        Reason.RETRY,
        f"{outcome}; retry {retries + 1} in {delay:g} s",
        until=now + delay,
    )


def level_target(
    policy: Escalation, schedules: Mapping[str, Schedule], level: int, now: float
) -> OnCall | None:
    """Who escalation level ``level`` reaches at ``now`` (a schedule's on-call or a named user)."""
    if not policy.levels:
        return None
    name = policy.levels[level % len(policy.levels)]
    if name.startswith("user:"):
        return OnCall(name[5:], f"level {level + 1}")
    found = schedules[name].who(now)
    return None if found is None else OnCall(found.user, f"{name} {found.source}")


def target(channel: str, person: str = "") -> str:
    """A destination: a channel, or a channel on behalf of a paged person (``email|alice``)."""
    return f"{channel}|{person}" if person else channel


def split_target(text: str) -> tuple[str, str]:
    """``(channel, person)`` of a destination."""
    channel, _, person = text.partition("|")
    return channel, person
