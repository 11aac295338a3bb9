"""Named reasons: every routing and delivery decision returns one, and the ledger stores it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What a decision does to an alert or a delivery."""

    PASS = "pass"
    DROP = "drop"
    DEFER = "defer"
    SEND = "send"
    WAIT = "wait"
    RETRY = "retry"
    DEAD = "dead"
    DONE = "done"


class Reason(StrEnum):
    """Why; the value is the short text ``heron notify explain`` prints."""

    RECEIVED = "received from the topic"
    ALREADY_PROCESSED = "already processed (duplicate delivery of the topic message)"
    NOT_SILENCED = "no silence matches"
    SILENCED = "silenced"
    FIRST_NOTIFICATION = "first notification: incident opened"
    DUPLICATE = "deduplicated: incident already open for this alarm"
    RESOLVED = "alarm back to OK: incident resolved"
    NOTHING_TO_RESOLVE = "alarm back to OK but nothing was announced"
    NOT_A_CHANGE = "state is not ALARM or OK"
    PLAIN_MESSAGE = "plain topic message"
    INSUFFICIENT_DATA = "insufficient data: low-priority notice, no incident, no page"
    NO_PAGE_FOR_NO_DATA = "insufficient data never pages on-call"
    MAINTENANCE = "maintenance window"
    UNSUBSCRIBED = "subscription deleted: not sent"
    LINK_ACTION = "signed link used"
    FLAPPING_STARTED = "flapping: too many state changes"
    FLAPPING_SUPPRESSED = "flapping: suppressed until it settles"
    SETTLED = "flapping settled"
    STEADY = "not flapping"
    ROUTED = "routed to the topic's channels"
    NO_CHANNELS = "no channel subscribed to the topic"
    NOBODY_ON_CALL = "nobody on call"
    CRITICAL_IMMEDIATE = "critical: immediate"
    ALWAYS = "route has no time window"
    INSIDE_HOURS = "inside business hours"
    OUTSIDE_HOURS = "outside business hours: deferred"
    FOLDED = "folded into the pending digest"
    ENQUEUED = "accepted into the outbox"
    DEDUP_KEY = "deduplicated by idempotency key"
    RATE_LIMITED = "rate-limited: waiting for the destination's next slot"
    COALESCED = "coalesced into one digest"
    NO_LONGER_RELEVANT = "resolved before business hours began: not sent"
    DIGEST_RELEASED = "business hours began: digest released"
    DELIVERED = "delivered"
    RETRY = "attempt failed: retry scheduled"
    THROTTLED = "throttled (429): retry after Retry-After"
    PERMANENT = "permanent failure: dead-lettered"
    EXHAUSTED = "retries exhausted: dead-lettered"
    REPLAYED = "replayed from the dead-letter queue"
    UNCONFIRMED = "waiting for subscription confirmation"
    CONFIRMATION_SENT = "subscription confirmation sent"
    CONFIRMATION_EXPIRED = "unconfirmed for 48 hours: subscription deleted"
    ESCALATED = "not acknowledged: escalated"
    REPEATED = "not acknowledged after the last level: repeating from the first"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    SNOOZE_ENDED = "snooze ended: paging again"
    PROMOTED = "warning firing too long: promoted to critical"
    MANUAL = "changed by hand"


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict, its named reason, and details a reader needs (times, ids, names)."""

    verdict: Verdict
    reason: Reason
    detail: str = ""
    until: float | None = None

    def __str__(self) -> str:
        return f"{self.reason.value}{': ' + self.detail if self.detail else ''}"
