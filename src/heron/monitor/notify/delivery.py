"""Delivery: per-destination rate limits that coalesce a backlog into one digest, retries with
SNS-style backoff (honouring 429 Retry-After), the dead-letter queue, and the digests of warnings
deferred to business hours.

Each destination's rows are handled by one worker at a time, which keeps taking the
destination's newer rows while there are any. A webhook without a rate limit gets up to
``IN_FLIGHT`` requests at once: its rows are split into lanes by alarm, so one alarm's messages
still arrive in order. An attempt is recorded after it returns, with the row's new status (lanes
commit together: group commit); a ``kill -9`` between a send and that commit means the row is
sent again after restart with the same idempotency key, which receivers (and the inbox) use to
drop the duplicate — at most one row per lane in flight at the kill.
"""

from __future__ import annotations

import logging
import threading
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from heron.monitor.notify.channels import Outcome, Sender
from heron.monitor.notify.channels.webhook import WebhookSender
from heron.monitor.notify.coalesce import RATE_LIMITED, digest_key, digest_notice, slot_split
from heron.monitor.notify.config import INBOX, Channel
from heron.monitor.notify.model import Kind, Notice
from heron.monitor.notify.outbox import DEFERRED, QUEUED, Row
from heron.monitor.notify.pipeline import Context
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.routing import rate_decision, retry_decision, stamp
from heron.monitor.notify.secrets import redact
from heron.monitor.notify.subscriptions import SUB_PREFIX

log = logging.getLogger("heron.notify")
#: How long an unanswered SubscriptionConfirmation waits before it is sent again.
CONFIRM_RESEND_S = 300.0
#: Requests in flight at once to one webhook destination without a rate limit. Rows of one
#: alarm share a lane, so they still arrive in order; a ``kill -9`` may repeat at most this many.
IN_FLIGHT = 8
#: Rows one worker takes per read of its destination's queue.
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Attempt:
    """One send and what follows from it, waiting to be recorded."""

    row: Row
    outcome: Outcome
    decision: Decision
    at: float
    ended: float  # when the send returned (the next rate-limit slot counts from it)


class Deliverer:
    """Sends due outbox rows through their channels."""

    def __init__(
        self,
        ctx: Context,
        senders: Mapping[str, Sender],
        *,
        workers: int = 8,
        in_flight: int = IN_FLIGHT,
        resolve: Callable[[str], tuple[Channel, Sender] | None] | None = None,
    ) -> None:
        """``resolve`` finds the channel and sender of an SNS API subscription destination;
        ``in_flight`` bounds the concurrent requests to one unthrottled webhook."""
        self.ctx = ctx
        self.senders = senders
        self.resolve = resolve
        self.in_flight = in_flight
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="heron-notify")
        self._lanes = ThreadPoolExecutor(
            max_workers=max(1, in_flight) * 2, thread_name_prefix="heron-notify-lane"
        )
        self._results: list[Attempt] = []
        self._results_lock = threading.Lock()

    def close(self) -> None:
        """Wait for sends in flight, then stop the workers."""
        self._pool.shutdown(wait=True)
        self._lanes.shutdown(wait=True)

    # -- deferred warnings ------------------------------------------------------------------

    def release_digests(self, now: float) -> None:
        """Turn deferred rows whose hours have begun into one digest per destination."""
        groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in self.ctx.outbox.rows(DEFERRED, due_by=now):
            groups[(row.channel, row.notice.recipient)].append(row)
        for rows in groups.values():
            with self.ctx.db.transaction():
                self._release(rows, now)

    def _release(self, rows: list[Row], now: float) -> None:
        firing = []
        for r in rows:
            incident = self.ctx.incidents.latest_for(r.alarm)
            still = incident is not None and incident.active
            if r.notice.kind is Kind.NO_DATA:  # no incident: relevant while data is missing
                last = self.ctx.states.last(r.alarm)
                still = last is not None and last.state == "INSUFFICIENT_DATA"
            if r.notice.kind is Kind.RESOLUTION or still:
                firing.append(r)
        if not firing:
            for r in rows:
                self.ctx.outbox.expire(r.id, now, Reason.NO_LONGER_RELEVANT.value)
                self._note(r, Decision(Verdict.DROP, Reason.NO_LONGER_RELEVANT), now)
            return
        notice = digest_notice(
            firing, "Held outside business hours; delivered as one digest.", merge_identical=False
        )
        stale = [r for r in rows if r not in firing]
        stale_alerts = tuple(a for r in stale for a in r.notice.alerts)
        notice = Notice(
            notice.kind,
            notice.severity,
            f"Digest: {len(notice.alerts)} firing, {len(notice.resolved) + len(stale_alerts)} "
            "resolved",
            notice.alerts,
            note=notice.note,
            recipient=notice.recipient,
            resolved=notice.resolved + stale_alerts,
            keys=tuple(r.key for r in rows),
        )
        digest = self.ctx.outbox.coalesce(rows, digest_key(rows), notice, now=now)
        for r in rows:
            self._note(
                r, Decision(Verdict.PASS, Reason.DIGEST_RELEASED, f"digest #{digest}"), now, digest
            )

    # -- sending ----------------------------------------------------------------------------

    def deliver_due(
        self, now: float, *, wait: bool = True, clock: Callable[[], float] | None = None
    ) -> None:
        """Start delivering every due row, one worker per destination; ``wait`` for them.

        A worker keeps taking its destination's newer due rows until none is left (reading
        the time from ``clock`` when given), so a backlog does not wait for the next tick.
        """
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in self.ctx.outbox.rows(QUEUED, due_by=now, limit=CHUNK):
            groups[row.channel].append(row)
        futures: list[Future[None]] = []
        for channel, rows in groups.items():
            with self._lock:
                if channel in self._busy:
                    continue
                self._busy.add(channel)
            futures.append(self._pool.submit(self._run_channel, channel, rows, now, clock))
        if wait:
            for f in futures:
                f.result()

    def next_wake(self, now: float) -> float | None:
        """The next moment after ``now`` at which a queued row becomes sendable (its retry
        time or its destination's rate-limit slot), or None. Rows already sendable but held
        (a busy worker, an unconfirmed endpoint) are not counted: nothing changes for them
        at a known time."""
        row = self.ctx.db.one(
            "SELECT MIN(t) FROM (SELECT MAX(o.due, COALESCE(c.next_send, 0)) AS t"
            " FROM nt_outbox o LEFT JOIN nt_channels c ON c.channel=o.channel"
            " WHERE o.status=?) WHERE t>?",
            (QUEUED, now),
        )
        return None if row is None or row[0] is None else float(row[0])

    def _still_due(self, rows: list[Row], now: float) -> list[Row]:
        # ``rows`` were read before this destination was claimed: a worker that finished in
        # between has delivered (or rescheduled) some of them, and must not be repeated.
        marks = ",".join("?" * len(rows))
        due = self.ctx.db.all(
            f"SELECT id FROM nt_outbox WHERE status=? AND due<=? AND id IN ({marks})",
            (QUEUED, now, *(r.id for r in rows)),
        )
        ids = {r[0] for r in due}
        return [r for r in rows if r.id in ids]

    def _run_channel(
        self, channel: str, rows: list[Row], now: float, clock: Callable[[], float] | None = None
    ) -> None:
        try:
            rows = self._still_due(rows, now)
            while rows:
                if not self._deliver_channel(channel, rows, now, clock):
                    break
                # Only rows newer than those just handled: a row retried "at once" waits for the
                # next tick, as it would without this loop.
                after = max(r.id for r in rows)
                now = max(now, clock()) if clock is not None else now
                rows = self.ctx.outbox.rows(
                    QUEUED, due_by=now, limit=CHUNK, channel=channel, after_id=after
                )
        except Exception:  # one broken destination must not stop the others; rows stay queued
            log.exception("delivery to channel %s failed", channel)
        finally:
            with self._lock:
                self._busy.discard(channel)

    def _deliver_channel(
        self, name: str, rows: list[Row], now: float, clock: Callable[[], float] | None = None
    ) -> bool:
        """Deliver ``rows``; whether the worker may go on with the destination's newer rows
        (not for a rate-limited one: its waiting rows go first, at the next slot, together)."""
        config = self.ctx.config.channels.get(name)
        sender = self.senders.get(name)
        if name.startswith(SUB_PREFIX) and self.resolve is not None:
            found = self.resolve(name)
            if found is None:  # unsubscribed while the rows waited: SNS would not send them
                with self.ctx.db.transaction():
                    for r in rows:
                        self.ctx.outbox.expire(r.id, now, Reason.UNSUBSCRIBED.value)
                        self._note(r, Decision(Verdict.DROP, Reason.UNSUBSCRIBED), now, r.id)
                return False
            config, sender = found
        if config is None or sender is None:
            # The channel left the configuration after the rows were accepted: never drop them.
            config, sender = self.ctx.config.channels[INBOX], self.senders[INBOX]
        if (
            isinstance(sender, WebhookSender)
            and config.confirm
            and not self._confirmed(name, sender, rows, now)
        ):
            return False
        if config.rate_per_s > 0:
            decision = rate_decision(self.ctx.outbox.next_send(name), now)
            if decision.verdict is Verdict.WAIT:
                self._wait_for_slot(rows, decision, now)
                return False
            rows, later = slot_split(rows)
            if len(rows) > 1:
                rows = [self._coalesce(rows, now)]
            for row in rows:
                self._attempt(row, config, sender, now, clock)
            if later:  # after the send, which must not wait for this; then one digest
                slot = self.ctx.outbox.next_send(name)
                wait = Decision(Verdict.WAIT, Reason.RATE_LIMITED, f"next slot {stamp(slot)}")
                self._wait_for_slot(later, wait, now)
            return False
        if self.in_flight > 1 and isinstance(sender, WebhookSender) and len(rows) > 1:
            self._send_in_lanes(rows, config, sender, now)
            return True
        for row in rows:
            self._attempt(row, config, sender, now)
        return True

    def _wait_for_slot(self, rows: list[Row], decision: Decision, now: float) -> None:
        with self.ctx.db.transaction():
            for r in rows:
                if self.ctx.outbox.waiting(r.id, RATE_LIMITED):
                    self._note(r, decision, now, r.id)

    def _send_in_lanes(self, rows: list[Row], config: Channel, sender: Sender, now: float) -> None:
        # One lane per alarm (hashed), each sending its rows in order; lanes run concurrently.
        lanes: dict[int, list[Row]] = defaultdict(list)
        for r in rows:
            lanes[zlib.crc32(r.alarm.encode()) % self.in_flight].append(r)
        futures = [
            self._lanes.submit(self._run_lane, lane, config, sender, now) for lane in lanes.values()
        ]
        for f in futures:
            f.result()

    def _run_lane(self, rows: list[Row], config: Channel, sender: Sender, now: float) -> None:
        for row in rows:
            attempt = self._send(row, config, sender, now)
            with self._results_lock:
                self._results.append(attempt)
            self._flush_results(config)

    def _flush_results(self, config: Channel) -> None:
        # Group commit: whoever holds the transaction records every finished attempt, so when
        # this returns this lane's attempt is committed (by itself or by the lane before it).
        with self.ctx.db.transaction():
            with self._results_lock:
                done, self._results = self._results, []
            for attempt in done:
                self._record(attempt, config)

    def _coalesce(self, rows: list[Row], now: float) -> Row:
        with self.ctx.db.transaction():
            note = f"{len(rows)} notifications coalesced to respect this destination's rate limit."
            digest = self.ctx.outbox.coalesce(
                rows, digest_key(rows), digest_notice(rows, note), now=now
            )
            for r in rows:
                self._note(
                    r, Decision(Verdict.PASS, Reason.COALESCED, f"into #{digest}"), now, digest
                )
        return self.ctx.outbox.get(digest)

    def _attempt(
        self,
        row: Row,
        config: Channel,
        sender: Sender,
        now: float,
        clock: Callable[[], float] | None = None,
    ) -> None:
        attempt = self._send(row, config, sender, now)
        if clock is not None:  # a rate slot counts from the send, not from a `now` read before
            attempt = replace(attempt, ended=max(attempt.ended, clock()))
        with self.ctx.db.transaction():
            self._record(attempt, config)

    def _send(self, row: Row, config: Channel, sender: Sender, now: float) -> Attempt:
        try:
            outcome = sender.send(row.notice, row.key, now)
        except Exception as exc:  # a bug in a channel is a failed attempt, not a lost alert
            outcome = Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
        decision = retry_decision(outcome, row.retries, config.retry, now)
        return Attempt(row, outcome, decision, now, now)

    def _record(self, attempt: Attempt, config: Channel) -> None:
        row, decision, now = attempt.row, attempt.decision, attempt.at
        box = self.ctx.outbox
        if decision.verdict is Verdict.DONE:
            box.delivered(row.id, now, attempt.outcome.error)
        elif decision.verdict is Verdict.DEAD:
            box.dead(row.id, now, decision.detail)
        else:
            until = decision.until if decision.until is not None else now
            box.retry(row.id, until, decision.detail, counts=decision.reason is Reason.RETRY)
            if decision.reason is Reason.THROTTLED:
                box.set_next_send(row.channel, until)
        if config.rate_per_s > 0:
            box.set_next_send(row.channel, attempt.ended + 1.0 / config.rate_per_s)
        self._note(row, decision, now, row.id)

    def _confirmed(self, name: str, sender: WebhookSender, rows: list[Row], now: float) -> bool:
        confirmed, token, sent = self.ctx.outbox.confirmation(name)
        if confirmed:
            return True
        if token is None or sent is None or now - sent >= CONFIRM_RESEND_S:
            token = uuid.uuid4().hex
            topic_arn = next((a.topic_arn for r in rows for a in r.notice.alerts), "")
            # The token is stored before it is sent: a quick endpoint GETs the SubscribeURL
            # while the POST is still being answered, and must find it.
            self.ctx.outbox.confirmation_sent(name, token, now)
            outcome = sender.confirm(token, topic_arn, now)
            decision = Decision(Verdict.WAIT, Reason.CONFIRMATION_SENT, str(outcome))
            for r in rows:
                self._note(r, decision, now, r.id)
        for r in rows:
            if self.ctx.outbox.waiting(r.id, "unconfirmed"):
                self._note(r, Decision(Verdict.WAIT, Reason.UNCONFIRMED), now, r.id)
        return False

    def _note(self, row: Row, decision: Decision, now: float, delivery: int | None = None) -> None:
        self.ctx.ledger.note(
            row.alert_id,
            row.alarm,
            "delivery",
            decision,
            now,
            delivery=delivery,
            channel=row.channel,
        )
