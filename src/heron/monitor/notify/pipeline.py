"""The routing pipeline: stages with one interface, assembled in ``build_pipeline``.

A stage takes alerts and returns those that survive, recording a named reason for every decision
in the ledger. Stages run inside the caller's transaction, so one topic message's incident
changes, outbox rows and ledger entries commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from heron.monitor.notify.config import INBOX, ONCALL, NotifyConfig
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.flapping import AlarmStates
from heron.monitor.notify.hours import DEFAULT_HOURS
from heron.monitor.notify.incidents import IncidentStore
from heron.monitor.notify.ledger import Ledger
from heron.monitor.notify.links import Linker
from heron.monitor.notify.maintenance import MaintenanceStore, Window, maintenance_decision
from heron.monitor.notify.model import Alert, Kind, Notice, Severity
from heron.monitor.notify.oncall import OnCall
from heron.monitor.notify.outbox import DEFERRED, QUEUED, Outbox
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.routing import (
    flap_decision,
    incident_decision,
    interval,
    level_target,
    silence_decision,
    split_target,
    target,
    window_decision,
)
from heron.monitor.notify.silences import Silence as SilenceRow
from heron.monitor.notify.silences import Silences
from heron.monitor.notify.subscriptions import Subscribers
from heron.monitor.notify.topics import TopicStore


@dataclass(frozen=True, slots=True)
class Context:
    """What the stages read and write: the configuration and the stores."""

    config: NotifyConfig
    db: NotifyDB
    ledger: Ledger
    incidents: IncidentStore
    states: AlarmStates
    silences: Silences
    outbox: Outbox
    links: Linker | None = None
    topics: TopicStore | None = None
    subscribers: Subscribers | None = None


class Stage(Protocol):
    """One step of the policy."""

    name: str

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        """The alerts that survive this stage (each decision recorded in the ledger)."""


class Pipeline:
    """Stages run in order; an alert dropped by one never reaches the next."""

    def __init__(self, *stages: Stage) -> None:
        self.stages = stages

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        """Run every stage."""
        for stage in self.stages:
            if not alerts:
                break
            alerts = stage(alerts, now)
        return alerts

    @contextlib.contextmanager
    def batch(self, now: float) -> Iterator[None]:
        """Within the caller's transaction, let stages read what no alert changes only once
        (the silences and maintenance windows) for the many alerts of one intake batch."""
        with contextlib.ExitStack() as stack:
            for stage in self.stages:
                if isinstance(stage, Silence):
                    stack.enter_context(stage.snapshot(now))
            yield


class _Base:
    name = "stage"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def note(
        self, alert: Alert, decision: Decision, now: float, channel: str | None = None
    ) -> None:
        self.ctx.ledger.record(alert, self.name, decision, now, channel=channel)


class Observe(_Base):
    """Remembers every alarm's latest state and its changes (for flap counting and settling)."""

    name = "observe"

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        for a in alerts:
            if a.state != "MESSAGE":
                self.ctx.states.observe(a)
            detail = f"{a.topic}: {a.old_state} -> {a.state}" if a.old_state else a.topic
            self.note(a, Decision(Verdict.PASS, Reason.RECEIVED, detail), now)
        return alerts


class Silence(_Base):
    """Silences and maintenance windows mute matching alarms."""

    name = "silence"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._snapshot: tuple[list[SilenceRow], list[Window]] | None = None

    @contextlib.contextmanager
    def snapshot(self, now: float) -> Iterator[None]:
        """Read the silences and windows once for every alert run inside the block."""
        self._snapshot = self._read(now)
        try:
            yield
        finally:
            self._snapshot = None

    def _read(self, now: float) -> tuple[list[SilenceRow], list[Window]]:
        windows = [*self.ctx.config.maintenance, *MaintenanceStore(self.ctx.db).all()]
        return self.ctx.silences.current(now), windows

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        active, windows = self._snapshot or self._read(now)
        out = []
        for a in alerts:
            decision = silence_decision(a, active, now)
            if decision.verdict is not Verdict.DROP:
                decision = maintenance_decision(a.alarm, windows, now)
            if decision.verdict is Verdict.DROP:
                self.note(a, decision, now)
            else:
                out.append(a)
        return out


class Dedup(_Base):
    """One incident per alarm: ALARM opens it, repeats are deduplicated, OK resolves it."""

    name = "incident"

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        out = []
        for a in alerts:
            active = self.ctx.incidents.active_for(a.alarm)
            decision = incident_decision(a, active)
            self.note(a, decision, now)
            if decision.reason is Reason.FIRST_NOTIFICATION:
                route, subs = self.ctx.config.route(a.topic), self.ctx.subscribers
                pages = route.escalate or bool(subs is not None and subs.oncall(a.topic_arn))
                escalates = pages and a.severity is Severity.CRITICAL
                policy = self.ctx.config.escalation
                next_at = now + interval(0, policy) if escalates and policy.levels else None
                incident = self.ctx.incidents.open(a, now, next_at)
                a = a.with_(incident=incident.id, thread=incident.thread)
            elif decision.reason is Reason.INSUFFICIENT_DATA:
                a = a.with_(kind=Kind.NO_DATA.value, severity=Severity.INFO, channels=())
                if active is not None:
                    a = a.with_(incident=active.id, thread=active.thread)
            elif decision.reason is Reason.RESOLVED and active is not None:
                self.ctx.incidents.resolve(active.id, now, "alarm returned to OK")
                a = a.with_(incident=active.id, thread=active.thread, channels=active.targets)
            elif decision.verdict is Verdict.DROP:
                continue
            out.append(a)
        return out


class Flap(_Base):
    """More than K changes in T minutes: one flapping notice, then quiet until it settles."""

    name = "flapping"

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        policy = self.ctx.config.flapping
        out = []
        for a in alerts:
            if a.state == "MESSAGE":
                out.append(a)
                continue
            changes = self.ctx.states.changes(a.alarm, now - policy.window_s)
            decision = flap_decision(changes, self.ctx.states.is_flapping(a.alarm), policy)
            if decision.verdict is Verdict.DROP:
                self.note(a, decision, now)
                continue
            if decision.reason is Reason.FLAPPING_STARTED:
                self.note(a, decision, now)
                self.ctx.states.mark_flapping(a.alarm, now, changes)
                a = a.with_(kind=Kind.FLAPPING.value, channels=())
            out.append(a)
        return out


class Route(_Base):
    """The topic's channels; ``oncall`` becomes the contacts of whoever is on call now."""

    name = "route"

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        out = []
        for a in alerts:
            if a.channels:  # a resolution goes where its incident was announced
                self.note(a, Decision(Verdict.PASS, Reason.ROUTED, ", ".join(a.channels)), now)
                out.append(a)
                continue
            targets = self._targets(a, now)
            if a.incident is not None:
                self.ctx.incidents.add_targets(a.incident, targets)
            out.append(a.with_(channels=targets))
        return out

    def _targets(self, a: Alert, now: float) -> tuple[str, ...]:
        config = self.ctx.config
        route = config.route(a.topic)
        targets: list[str] = []
        for channel in route.channels:
            if channel == ONCALL and a.kind == Kind.NO_DATA.value:
                self.note(a, Decision(Verdict.PASS, Reason.NO_PAGE_FOR_NO_DATA), now)
                continue
            if channel != ONCALL:
                targets.append(channel)
                continue
            who = level_target(config.escalation, config.schedules, 0, now)
            targets += self._page(a, who, "", now)
        if self.ctx.subscribers is not None:  # subscriptions made through the SNS API
            targets += self.ctx.subscribers.targets(a.topic_arn)
            for arn, schedule in self.ctx.subscribers.oncall(a.topic_arn):
                via = f" (subscription {arn}, schedule {schedule!r})"
                if a.kind == Kind.NO_DATA.value:
                    self.note(a, Decision(Verdict.PASS, Reason.NO_PAGE_FOR_NO_DATA, via), now)
                    continue
                sched = config.schedules.get(schedule)
                found = sched.who(now) if sched is not None else None
                who = OnCall(found.user, f"{schedule} {found.source}") if found else None
                why = "" if sched is not None else f"; no schedule named {schedule!r}"
                targets += self._page(a, who, via + why, now)
        if not targets:
            self.note(a, Decision(Verdict.PASS, Reason.NO_CHANNELS, "delivering to the inbox"), now)
            targets.append(INBOX)
        self.note(a, Decision(Verdict.PASS, Reason.ROUTED, ", ".join(targets)), now)
        return tuple(dict.fromkeys(targets))

    def _page(self, a: Alert, who: OnCall | None, via: str, now: float) -> list[str]:
        """The destinations paging ``who`` (their contacts), or the inbox when nobody is on call."""
        if who is None:
            detail = "paging the inbox" + via
            self.note(a, Decision(Verdict.PASS, Reason.NOBODY_ON_CALL, detail), now)
            return [target(INBOX, "nobody on call")]
        detail = f"on call: {who.user} ({who.source}){via}"
        self.note(a, Decision(Verdict.PASS, Reason.ROUTED, detail), now)
        return [target(c, who.user) for c in self.ctx.config.contacts(who.user)]


class TimeWindow(_Base):
    """Critical now; warnings inside business hours, else deferred to a digest when they begin."""

    name = "window"

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        config = self.ctx.config
        out = []
        for a in alerts:
            route = config.route(a.topic)
            if a.kind == Kind.NO_DATA.value and route.window is None:
                # Low priority even on the critical topic: it waits for business hours.
                route = replace(route, window=DEFAULT_HOURS)
            hours = config.hours.get(route.window) if route.window else None
            pending = a.is_resolution and self.ctx.outbox.has_deferred(a.alarm)
            decision = window_decision(a, route, hours, now, pending_digest=pending)
            self.note(a, decision, now)
            if decision.verdict is Verdict.DROP:
                continue
            out.append(a.with_(defer_until=decision.until) if decision.until else a)
        return out


def notice_for(alert: Alert, person: str = "") -> Notice:
    """The Notice one destination receives for ``alert``."""
    if alert.kind == Kind.NO_DATA.value:
        kind, title = Kind.NO_DATA, f"{alert.alarm} has insufficient data"
    elif alert.kind == Kind.FLAPPING.value:
        kind, title = Kind.FLAPPING, f"{alert.alarm} is flapping"
    elif alert.kind == Kind.SETTLED.value:
        kind, title = Kind.SETTLED, f"{alert.alarm} settled: now {alert.state}"
    elif alert.kind == Kind.PAGE.value:
        kind, title = Kind.PAGE, f"{alert.alarm} is in ALARM (promoted to critical)"
    elif alert.is_resolution:
        kind, title = Kind.RESOLUTION, f"{alert.alarm} resolved"
    elif person:
        kind, title = Kind.PAGE, f"{alert.alarm} is in ALARM"
    else:
        kind, title = Kind.ALERT, f"{alert.alarm} is in {alert.state}"
    return Notice(kind, alert.severity, title, (alert,), recipient=person, thread=alert.thread)


class Enqueue(_Base):
    """The durable outbox: one row per destination, keyed ``<message id>:<destination>``."""

    name = "outbox"

    def __call__(self, alerts: list[Alert], now: float) -> list[Alert]:
        for a in alerts:
            for dest in a.channels:
                channel, person = split_target(dest)
                status = DEFERRED if a.defer_until else QUEUED
                row, new = self.ctx.outbox.add(
                    f"{a.id}:{a.kind or 'n'}:{dest}",
                    channel,
                    notice_for(a, person),
                    alarm=a.alarm,
                    alert_id=a.id,
                    status=status,
                    due=a.defer_until or now,
                    now=now,
                )
                reason = Reason.ENQUEUED if new else Reason.DEDUP_KEY
                self.ctx.ledger.record(
                    a,
                    self.name,
                    Decision(Verdict.PASS, reason, status),
                    now,
                    delivery=row,
                    channel=dest,
                )
        return alerts


def build_pipeline(ctx: Context) -> Pipeline:
    """The notification policy, in the order it applies."""
    return Pipeline(
        Observe(ctx),  # remember each alarm's state and its changes
        Silence(ctx),  # silences and maintenance windows mute matching alarms
        Dedup(ctx),  # one incident per alarm: ALARM opens, repeats dropped, OK resolves
        Flap(ctx),  # > K changes in T minutes: one flapping notice, then quiet until settled
        Route(ctx),  # the topic's channels; 'oncall' is whoever is on call right now
        TimeWindow(ctx),  # critical now; warnings in business hours, else deferred to a digest
        Enqueue(ctx),  # durable outbox rows with idempotency keys; delivery.py takes over
    )


def stage_names(pipeline: Pipeline) -> Sequence[str]:
    """The stages' names in order (for docs and explain)."""
    return [s.name for s in pipeline.stages]
