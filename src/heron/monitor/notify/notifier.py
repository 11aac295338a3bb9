"""The Notifier: consumes TopicStore's pending messages, runs the pipeline, escalates, releases
digests and delivers — one ``tick(now)`` at a time, with time passed in.

``heron up`` starts ``run(stop)``, which ticks as soon as a message is published (so critical
alerts leave at once), again at once while a backlog exceeds one intake batch, at the next
rate-limit slot or retry when one is due sooner, and otherwise every ``POLL_S`` seconds for what
time alone makes due (escalations, digests). When nothing is pending that time could make due
(see ``quiet``) it skips those ticks until a database changes, and then looks only every
``IDLE_WAKE_S``. Tests call ``tick(now)`` with an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from heron.monitor.notify.channels import Sender
from heron.monitor.notify.channels.email import EmailSender
from heron.monitor.notify.channels.inbox import Inbox
from heron.monitor.notify.channels.keepalive import Endpoints
from heron.monitor.notify.channels.outbound import OutboundHttp
from heron.monitor.notify.channels.slack import SlackSender
from heron.monitor.notify.channels.slack_api import SlackApiSender
from heron.monitor.notify.channels.webhook import WebhookSender
from heron.monitor.notify.clockfile import forget_clock, record_clock
from heron.monitor.notify.config import INBOX, NotifyConfig
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.delivery import Deliverer
from heron.monitor.notify.flapping import AlarmStates, has_settled
from heron.monitor.notify.incidents import IncidentStore
from heron.monitor.notify.ledger import Ledger
from heron.monitor.notify.links import Linker, load_or_create_key
from heron.monitor.notify.maintenance import MaintenanceStore, active_window
from heron.monitor.notify.model import Alert, Kind, Notice, Severity, alert_from_message
from heron.monitor.notify.outbox import QUEUED, Outbox
from heron.monitor.notify.pipeline import Context, Enqueue, Route, build_pipeline
from heron.monitor.notify.quiet import ChangeWatch, nothing_pending
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.routing import escalation_step, level_target, promote_decision, target
from heron.monitor.notify.secrets import install_log_redaction
from heron.monitor.notify.silences import Silences
from heron.monitor.notify.subscriptions import ApiSubscriptions, Subscribers
from heron.monitor.notify.topics import DELIVERED, TopicStore
from heron.types import Clock
from heron.wakeups import IDLE_WAKE_S, Wakeable, delay_on_grid

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("heron.notify")
#: Seconds between ticks of ``run``.
POLL_S = 1.0
#: Topic messages taken per tick (and per intake transaction).
BATCH = 500
#: The shortest wait between ticks when a row is due soon (a rate slot, a retry).
MIN_SLEEP_S = 0.02
#: While nothing is pending (see ``quiet``), the longest ``run`` goes without a full tick. The
#: database watch already sees every write (at the next look, every ``IDLE_WAKE_S``); this only
#: bounds the cost of a write it cannot see (a database file replaced under a running ``heron up``).
RECHECK_S = 60.0


def open_context(
    config: NotifyConfig,
    path: Path | str,
    *,
    links: Linker | None = None,
    topics: TopicStore | None = None,
) -> Context:
    """The stores over the notify database at ``path`` (``topics`` adds SNS API subscriptions)."""
    db = NotifyDB(path)
    subscribers = Subscribers(topics) if topics is not None else None
    return Context(
        config, db, Ledger(db), IncidentStore(db), AlarmStates(db), Silences(db), Outbox(db),
        links, topics, subscribers,
    )  # fmt: skip


def build_senders(
    ctx: Context, client: OutboundHttp, endpoints: Endpoints | None = None
) -> dict[str, Sender]:
    """One sender per configured channel (``endpoints``: keep-alive pools for http:// hooks)."""
    senders: dict[str, Sender] = {}
    for name, ch in ctx.config.channels.items():
        if ch.protocol == "slack" and ch.token is not None:
            senders[name] = SlackApiSender(ch, client, ctx.db, ctx.links)
        elif ch.protocol == "slack":
            senders[name] = SlackSender(ch, client, ctx.links)
        elif ch.protocol == "email":
            senders[name] = EmailSender(ch, ctx.links)
        elif ch.protocol in ("http", "https"):
            senders[name] = WebhookSender(ch, client, ctx.config.public_url, endpoints=endpoints)
        else:
            senders[name] = Inbox(ctx.db)
    senders.setdefault(INBOX, Inbox(ctx.db))
    return senders


class Notifier:
    """Routing, escalation and delivery for the messages alarms publish to topics."""

    def __init__(
        self,
        topics: TopicStore,
        config: NotifyConfig,
        db_path: Path | str,
        *,
        clock: Clock = time.time,
        client: httpx.Client | None = None,
    ) -> None:
        install_log_redaction()
        self.topics = topics
        self.config = config
        self.clock = clock
        key = load_or_create_key(Path(db_path).parent)
        linker = Linker(key, config.public_url, config.link_expiry_s, config.snooze_min)
        self.ctx = open_context(config, db_path, links=linker, topics=topics)
        self.pipeline = build_pipeline(self.ctx)
        self._client = OutboundHttp(client)
        self._endpoints = Endpoints()
        self.subscriptions = ApiSubscriptions(
            topics, config, self._client, self.ctx.db, linker, endpoints=self._endpoints
        )
        self.deliverer = Deliverer(
            self.ctx,
            build_senders(self.ctx, self._client, self._endpoints),
            resolve=self.subscriptions.resolve,
        )
        self._last_tick: float | None = None
        self._watch = ChangeWatch((db_path, topics.path))
        # (database versions, time) of the last tick that left nothing pending, else None.
        self._quiet: tuple[tuple[int, ...], float] | None = None
        self._data_dir = Path(db_path).parent
        # `heron notify ack|snooze|silence` stamp times with this clock (see clockfile).
        with contextlib.suppress(OSError):
            record_clock(self._data_dir, clock)

    def close(self) -> None:
        """Finish sends in flight and close the database."""
        forget_clock(self._data_dir)
        self.deliverer.close()
        self._endpoints.close()
        self._client.close()
        self.ctx.db.close()
        self._watch.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Tick on every publish and every ``POLL_S``, skipping ticks that would find nothing,
        until ``stop`` is set (work runs in a thread)."""
        published = Wakeable()
        self.topics.on_publish(published.threadsafe_wake())  # from API and scheduler threads
        with published.woken_by(stop):
            while not stop.is_set():
                now = self.clock()
                if self._skips(now):  # a tick would read a dozen tables, find nothing
                    # Publishes in this process wake it at once; writes from other processes
                    # (``heron notify subscribe``, ``dlq replay``) are seen at the next look.
                    await published.sleep_on_grid(IDLE_WAKE_S)
                    continue
                try:
                    backlog = await asyncio.to_thread(self.tick, now, wait=False, clock=self.clock)
                except Exception:  # the next tick retries; rows stay in the outbox
                    log.exception("notifier tick failed")
                    backlog = False
                if backlog:  # more messages than one batch: take the next at once
                    await asyncio.sleep(0)
                    continue
                timeout = self._sleep_s(self.clock())
                if timeout >= POLL_S:  # a plain poll wakes with the other periodic tasks
                    timeout = delay_on_grid(POLL_S)
                await published.sleep(timeout)

    def _skips(self, now: float) -> bool:
        try:
            return self.skip_if_idle(now)
        except Exception:  # e.g. an I/O error reading the watch: tick, which logs and retries
            log.exception("notifier idle check failed")
            self._quiet = None
            return False

    def skip_if_idle(self, now: float) -> bool:
        """Count ``now`` as ticked, and say so, when a tick would find nothing: the last one
        left nothing pending that time can make due (see ``quiet``), no database has changed
        since, and it was less than ``RECHECK_S`` ago."""
        if self._quiet is None:
            return False
        versions, at = self._quiet
        if now - at >= RECHECK_S or self._watch.versions() != versions:
            return False
        self._last_tick = now  # as the skipped tick would have: see unsilence
        return True

    def _sleep_s(self, now: float) -> float:
        # Until the next row can go (a rate-limit slot, a retry), at most POLL_S; escalations
        # and digests are checked every POLL_S anyway.
        if self._quiet is not None:  # no queued rows, so nothing to wake for sooner
            return POLL_S
        wake = self.deliverer.next_wake(now)
        return POLL_S if wake is None else min(POLL_S, max(MIN_SLEEP_S, wake - now))

    def tick(self, now: float, *, wait: bool = True, clock: Clock | None = None) -> bool:
        """One round: accept new messages, react to time passing, deliver what is due; True
        when a full batch was taken (more messages may be waiting).

        With ``clock`` (the live loop) delivery reads the time again: intake of a large batch
        can take most of a second, and a rate limit's next slot must count from the real send.
        """
        self._quiet = None  # until this tick has finished (one that raises leaves it so)
        if self.ctx.subscribers is not None:
            self.ctx.subscribers.refresh()  # before any transaction: see Subscribers
        taken = self.accept(now)
        self.subscriptions.send_confirmations(self.ctx.ledger, now)
        self.unsilence(now)
        self.settle(now)
        self.escalate(now)
        self.promote(now)
        sending = max(now, clock()) if clock is not None else now
        self.deliverer.release_digests(sending)
        self.deliverer.deliver_due(sending, wait=wait, clock=clock)
        self._last_tick = now
        self._note_quiet(now)
        return taken >= BATCH

    def _note_quiet(self, now: float) -> None:
        # The versions come first: a commit after them, even one the reads below already
        # see, changes them, and the next poll ticks.
        versions = self._watch.versions()
        quiet = nothing_pending(self.ctx.db, self.topics)
        self._quiet = (versions, now) if quiet else None

    # -- intake -----------------------------------------------------------------------------

    def accept(self, now: float) -> int:
        """Run the pipeline over pending topic messages; how many were taken.

        A batch is one transaction (each message still runs the pipeline on its own, in
        order): its incidents, outbox rows, ledger entries and processed marks commit together,
        so a ``kill -9`` leaves either all of them or none, and a re-read batch is a no-op.
        """
        messages = self.topics.pending(BATCH)
        if not messages:
            return 0
        db = self.ctx.db
        ids = [m.message_id for m in messages]
        with db.transaction(), self.pipeline.batch(now):
            marks = ",".join("?" * len(ids))
            done = {
                r[0]
                for r in db.all(
                    f"SELECT message_id FROM nt_processed WHERE message_id IN ({marks})", ids
                )
            }
            for m in messages:
                alert = alert_from_message(
                    m.message_id, m.topic_arn, m.message, m.subject, m.published
                )
                if alert.id in done:
                    decision = Decision(Verdict.DROP, Reason.ALREADY_PROCESSED)
                    self.ctx.ledger.record(alert, "intake", decision, now)
                    continue
                self.pipeline([alert], now)
                done.add(alert.id)
            db.executemany(
                "INSERT OR IGNORE INTO nt_processed VALUES (?, ?)", [(i, now) for i in ids]
            )
        # After the commit: a crash before this line re-reads the messages, and the processed
        # marks above make that a no-op.
        self.topics.mark_many(ids, DELIVERED)
        return len(messages)

    def inject(self, alert: Alert, now: float) -> None:
        """Run the pipeline over one alert (re-announcements, promotions, tests)."""
        with self.ctx.db.transaction():
            self.pipeline([alert], now)

    # -- time-driven decisions --------------------------------------------------------------

    def unsilence(self, now: float) -> None:
        """Announce alarms still firing when the silence that muted them ends."""
        since = self._last_tick if self._last_tick is not None else now
        for s in self.ctx.silences.ended_between(since, now):
            for alarm in self._firing_alarms():
                last = self.ctx.states.last(alarm)
                if last is None or not s.matches(alarm) or self.ctx.incidents.active_for(alarm):
                    continue
                self.inject(last.with_(id=f"{last.id}:unsilenced:{s.id}"), now)
        if since >= now:
            return
        windows = [*self.config.maintenance, *MaintenanceStore(self.ctx.db).all()]
        for alarm in self._firing_alarms():
            was = active_window(alarm, windows, since)
            if was is None or active_window(alarm, windows, now) is not None:
                continue
            last = self.ctx.states.last(alarm)
            if last is not None and not self.ctx.incidents.active_for(alarm):
                self.inject(last.with_(id=f"{last.id}:after-maintenance:{was.name}:{now:.0f}"), now)

    def _firing_alarms(self) -> list[str]:
        rows = self.ctx.db.all("SELECT alarm FROM nt_states WHERE state='ALARM' ORDER BY alarm")
        return [r[0] for r in rows]

    def settle(self, now: float) -> None:
        """Announce flapping alarms that have calmed down, with the state they settled in."""
        policy = self.config.flapping
        for alarm in self.ctx.states.flapping():
            changes = self.ctx.states.changes(alarm, now - policy.window_s)
            if not has_settled(changes, policy):
                continue
            last = self.ctx.states.last(alarm)
            with self.ctx.db.transaction():
                self.ctx.states.clear_flapping(alarm)
                if last is None:
                    continue
                settled = last.with_(id=f"{last.id}:settled", kind=Kind.SETTLED.value, channels=())
                detail = f"{changes} changes in the window; now {last.state}"
                self.ctx.ledger.record(
                    settled, "flapping", Decision(Verdict.PASS, Reason.SETTLED, detail), now
                )
                self._route_and_enqueue(settled, now)

    def _route_and_enqueue(self, alert: Alert, now: float) -> None:
        Enqueue(self.ctx)(Route(self.ctx)([alert], now), now)

    def escalate(self, now: float) -> None:
        """Page the next level for unacknowledged critical incidents whose time has come."""
        policy = self.config.escalation
        for incident in self.ctx.incidents.due(now):
            alert = incident.alert.with_(incident=incident.id, thread=incident.thread)
            with self.ctx.db.transaction():
                if self.ctx.states.is_flapping(incident.alarm):
                    later = now + policy.repeat_s
                    self.ctx.incidents.escalate_to(
                        incident.id, now, incident.level, incident.loop, later
                    )
                    decision = Decision(Verdict.WAIT, Reason.FLAPPING_SUPPRESSED, "escalation held")
                    self.ctx.ledger.record(alert, "escalation", decision, now)
                    continue
                step = escalation_step(incident, policy, now)
                self.ctx.ledger.record(alert, "escalation", step.decision, now)
                self.ctx.incidents.escalate_to(
                    incident.id, now, step.level, step.loop, step.next_at
                )
                if step.decision.verdict is not Verdict.SEND:
                    continue
                who = level_target(policy, self.config.schedules, step.level, now)
                person = who.user if who else "nobody on call"
                contacts = self.config.contacts(who.user) if who else (INBOX,)
                dests = tuple(target(c, person) for c in contacts)
                self.ctx.incidents.add_targets(incident.id, dests)
                notice = Notice(
                    Kind.PAGE,
                    Severity.CRITICAL,
                    f"{incident.alarm} is still in ALARM (incident #{incident.id})",
                    (alert,),
                    note=str(step.decision),
                    recipient=person,
                    thread=incident.thread,
                )
                for dest in dests:
                    key = f"esc:{incident.id}:{step.loop}:{step.level}:{incident.updated}:{dest}"
                    row, _ = self.ctx.outbox.add(
                        key, dest.split("|")[0], notice, alarm=incident.alarm,
                        alert_id=incident.alert.id, status=QUEUED, due=now, now=now,
                    )  # fmt: skip
                    enq = Decision(Verdict.PASS, Reason.ENQUEUED, f"page {person}")
                    self.ctx.ledger.record(alert, "outbox", enq, now, delivery=row, channel=dest)

    def promote(self, now: float) -> None:
        """Promote warnings that have fired longer than their route allows to critical."""
        for topic, route in self.config.routes.items():
            if route.promote_after_s <= 0:
                continue
            for incident in self.ctx.incidents.firing_warnings(now - route.promote_after_s):
                if incident.alert.topic != topic:
                    continue
                decision = promote_decision(incident, route, now)
                if decision.verdict is not Verdict.SEND:
                    continue
                critical = self.config.route("alerts")
                policy = self.config.escalation
                next_at = now + policy.after_s if critical.escalate and policy.levels else None
                alert = incident.alert.with_(
                    id=f"{incident.alert.id}:promoted", severity=Severity.CRITICAL, topic="alerts",
                    incident=incident.id, thread=incident.thread, kind=Kind.PAGE.value, channels=(),
                )  # fmt: skip
                with self.ctx.db.transaction():
                    self.ctx.incidents.promote(incident.id, now, next_at)
                    self.ctx.ledger.record(alert, "promote", decision, now)
                    self._route_and_enqueue(alert, now)
