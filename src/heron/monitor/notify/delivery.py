"""Delivery: per-destination rate limits that coalesce a backlog into one digest, retries with
SNS-style backoff (honouring 429 Retry-After), the dead-letter queue, and the digests of warnings
deferred to business hours.

Each destination's rows are handled by one worker at a time. An attempt is recorded after it
returns, in one transaction with the row's new status; a ``kill -9`` between the send and that
commit means the row is sent again after restart with the same idempotency key, which receivers
(and the inbox) use to drop the duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from heron.monitor.notify.channels import Outcome, Sender
from heron.monitor.notify.channels.webhook import WebhookSender
from heron.monitor.notify.config import INBOX, Channel
from heron.monitor.notify.model import Alert, Kind, Notice, worst
from heron.monitor.notify.outbox import DEFERRED, QUEUED, Row
from heron.monitor.notify.pipeline import Context
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.routing import rate_decision, retry_decision
from heron.monitor.notify.secrets import redact
from heron.monitor.notify.subscriptions import SUB_PREFIX

log = logging.getLogger("heron.notify")
#: How long an unanswered SubscriptionConfirmation waits before it is sent again.
CONFIRM_RESEND_S = 300.0


def digest_key(rows: Sequence[Row]) -> str:
    """A digest's idempotency key: a hash of the keys it replaces."""
    joined = "\n".join(sorted(r.key for r in rows))
    return "digest:" + hashlib.sha256(joined.encode()).hexdigest()[:32]


def digest_notice(rows: Sequence[Row], note: str, *, merge_identical: bool = True) -> Notice:
    """One Notice listing everything ``rows`` would have said (the notice itself when they all
    say the same thing, e.g. one resolution announced to a channel and a person paged there)."""
    threads = {r.notice.thread for r in rows}
    thread = threads.pop() if len(threads) == 1 else ""  # one incident's digest stays threaded
    recipients = {r.notice.recipient for r in rows}
    keys = tuple(r.key for r in rows)
    same = {(r.notice.kind, tuple(a.id for a in r.notice.alerts)) for r in rows}
    if merge_identical and len(same) == 1:
        only = recipients.pop() if len(recipients) == 1 else ""
        return replace(rows[0].notice, recipient=only, keys=keys, thread=thread)
    firing: list[Alert] = []
    resolved: list[Alert] = []
    for r in rows:
        (resolved if r.notice.kind is Kind.RESOLUTION else firing).extend(r.notice.alerts)
        resolved.extend(r.notice.resolved)
    severity = worst([r.notice.severity for r in rows])
    return Notice(
        Kind.DIGEST,
        severity,
        f"{len(firing)} alerts, {len(resolved)} resolved",
        tuple(firing),
        note=note,
        recipient=recipients.pop() if len(recipients) == 1 else "",
        resolved=tuple(resolved),
        keys=keys,
        thread=thread,
    )


class Deliverer:
    """Sends due outbox rows through their channels."""

    def __init__(
        self,
        ctx: Context,
        senders: Mapping[str, Sender],
        *,
        workers: int = 8,
        resolve: Callable[[str], tuple[Channel, Sender] | None] | None = None,
    ) -> None:
        """``resolve`` finds the channel and sender of an SNS API subscription destination."""
        self.ctx = ctx
        self.senders = senders
        self.resolve = resolve
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="heron-notify")

    def close(self) -> None:
        """Wait for sends in flight, then stop the workers."""
        self._pool.shutdown(wait=True)

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

    def deliver_due(self, now: float, *, wait: bool = True) -> None:
        """Start delivering every due row, one worker per destination; ``wait`` for them."""
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in self.ctx.outbox.rows(QUEUED, due_by=now):
            groups[row.channel].append(row)
        futures: list[Future[None]] = []
        for channel, rows in groups.items():
            with self._lock:
                if channel in self._busy:
                    continue
                self._busy.add(channel)
            futures.append(self._pool.submit(self._run_channel, channel, rows, now))
        if wait:
            for f in futures:
                f.result()

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

    def _run_channel(self, channel: str, rows: list[Row], now: float) -> None:
        try:
            rows = self._still_due(rows, now)
            if rows:
                self._deliver_channel(channel, rows, now)
        except Exception:  # one broken destination must not stop the others; rows stay queued
            log.exception("delivery to channel %s failed", channel)
        finally:
            with self._lock:
                self._busy.discard(channel)

    def _deliver_channel(self, name: str, rows: list[Row], now: float) -> None:
        config = self.ctx.config.channels.get(name)
        sender = self.senders.get(name)
        if name.startswith(SUB_PREFIX) and self.resolve is not None:
            found = self.resolve(name)
            if found is None:  # unsubscribed while the rows waited: SNS would not send them
                with self.ctx.db.transaction():
                    for r in rows:
                        self.ctx.outbox.expire(r.id, now, Reason.UNSUBSCRIBED.value)
                        self._note(r, Decision(Verdict.DROP, Reason.UNSUBSCRIBED), now, r.id)
                return
            config, sender = found
        if config is None or sender is None:
            # The channel left the configuration after the rows were accepted: never drop them.
            config, sender = self.ctx.config.channels[INBOX], self.senders[INBOX]
        if (
            isinstance(sender, WebhookSender)
            and config.confirm
            and not self._confirmed(name, sender, rows, now)
        ):
            return
        if config.rate_per_s > 0:
            decision = rate_decision(self.ctx.outbox.next_send(name), now)
            if decision.verdict is Verdict.WAIT:
                for r in rows:
                    if self.ctx.outbox.waiting(r.id, "rate-limited"):
                        self._note(r, decision, now, r.id)
                return
            if len(rows) > 1:
                rows = [self._coalesce(rows, now)]
        for row in rows:
            self._attempt(row, config, sender, now)

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

    def _attempt(self, row: Row, config: Channel, sender: Sender, now: float) -> None:
        try:
            outcome = sender.send(row.notice, row.key, now)
        except Exception as exc:  # a bug in a channel is a failed attempt, not a lost alert
            outcome = Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
        decision = retry_decision(outcome, row.retries, config.retry, now)
        with self.ctx.db.transaction():
            box = self.ctx.outbox
            if decision.verdict is Verdict.DONE:
                box.delivered(row.id, now, outcome.error)
            elif decision.verdict is Verdict.DEAD:
                box.dead(row.id, now, decision.detail)
            else:
                until = decision.until if decision.until is not None else now
                box.retry(row.id, until, decision.detail, counts=decision.reason is Reason.RETRY)
                if decision.reason is Reason.THROTTLED:
                    box.set_next_send(row.channel, until)
            if config.rate_per_s > 0:
                box.set_next_send(row.channel, now + 1.0 / config.rate_per_s)
            self._note(row, decision, now, row.id)

    def _confirmed(self, name: str, sender: WebhookSender, rows: list[Row], now: float) -> bool:
        confirmed, token, sent = self.ctx.outbox.confirmation(name)
        if confirmed:
            return True
        if token is None or sent is None or now - sent >= CONFIRM_RESEND_S:
            token = uuid.uuid4().hex
            topic_arn = next((a.topic_arn for r in rows for a in r.notice.alerts), "")
            outcome = sender.confirm(token, topic_arn, now)
            self.ctx.outbox.confirmation_sent(name, token, now)
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
