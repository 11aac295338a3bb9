"""The notify views: the local inbox and the delivery ledger's "explain" for one alert.

``explain(ctx, what)`` reads the same ledger as ``heron notify explain``: every decision about an
alarm, an alert (topic message) id or a delivery ``#id``, grouped by alert, each decision tagged
with the kind of reason (grouped, deferred, silenced, rate-limited, deduplicated...) and every
delivery it produced with its attempts and outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from heron.monitor.notify.channels.inbox import Inbox, InboxItem
from heron.monitor.notify.ledger import Entry
from heron.monitor.notify.outbox import Row
from heron.monitor.notify.pipeline import Context
from heron.monitor.notify.reasons import Reason

#: Most inbox messages one request returns.
MAX_INBOX = 200
#: Longest ``what`` accepted (alarm names are at most 255 characters).
MAX_WHAT = 255
#: Most ledger entries one explain reads.
MAX_ENTRIES = 1000

#: What kind of decision each reason is, for the page's badges.
KINDS: dict[Reason, str] = {
    Reason.SILENCED: "silenced",
    Reason.DUPLICATE: "deduplicated",
    Reason.ALREADY_PROCESSED: "deduplicated",
    Reason.DEDUP_KEY: "deduplicated",
    Reason.OUTSIDE_HOURS: "deferred",
    Reason.FOLDED: "grouped",
    Reason.COALESCED: "grouped",
    Reason.DIGEST_RELEASED: "grouped",
    Reason.RATE_LIMITED: "rate-limited",
    Reason.THROTTLED: "rate-limited",
    Reason.FLAPPING_STARTED: "flapping",
    Reason.FLAPPING_SUPPRESSED: "flapping",
    Reason.DELIVERED: "delivered",
    Reason.RETRY: "retry",
    Reason.PERMANENT: "failed",
    Reason.EXHAUSTED: "failed",
    Reason.NO_LONGER_RELEVANT: "dropped",
    Reason.NOTHING_TO_RESOLVE: "dropped",
    Reason.NO_CHANNELS: "dropped",
    Reason.NOBODY_ON_CALL: "dropped",
    Reason.ACKNOWLEDGED: "human",
    Reason.SNOOZED: "human",
    Reason.MANUAL: "human",
    Reason.ESCALATED: "escalated",
    Reason.REPEATED: "escalated",
}
_BY_TEXT = {r.value: k for r, k in KINDS.items()}


def _ms(t: float | None) -> int | None:
    return None if t is None else int(t * 1000)


def inbox_item(item: InboxItem) -> dict[str, Any]:
    """One inbox message as the page shows it."""
    return {
        "id": item.id,
        "at": _ms(item.at),
        "recipient": item.recipient,
        "severity": item.severity,
        "title": item.title,
        "body": item.body,
        "alarm": item.alarm,
    }


def inbox(ctx: Context, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` inbox messages."""
    return [inbox_item(i) for i in Inbox(ctx.db).items(min(limit, MAX_INBOX))]


def entry_json(e: Entry) -> dict[str, Any]:
    """One ledger decision, with the kind of its reason."""
    return {
        "id": e.id,
        "at": _ms(e.at),
        "stage": e.stage,
        "verdict": e.verdict,
        "reason": e.reason,
        "kind": _BY_TEXT.get(e.reason, ""),
        "detail": e.detail,
        "delivery": e.delivery,
        "channel": e.channel,
    }


def delivery_json(row: Row) -> dict[str, Any]:
    """One outbox row: where it went, its status and attempts (no message body)."""
    return {
        "id": row.id,
        "channel": row.channel,
        "recipient": row.notice.recipient,
        "kind": row.kind,
        "status": row.status,
        "due": _ms(row.due),
        "attempts": row.attempts,
        "retries": row.retries,
        "lastError": row.last_error,
        "created": _ms(row.created),
        "done": _ms(row.done),
        "parent": row.parent,
    }


def group(entries: Iterable[Entry], rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Entries grouped by alert (in order of first appearance) with each alert's deliveries."""
    alerts: dict[str, dict[str, Any]] = {}
    for e in entries:
        block = alerts.setdefault(
            e.alert_id,
            {"alertId": e.alert_id, "alarm": e.alarm, "entries": [], "deliveries": []},
        )
        block["entries"].append(entry_json(e))
    for row in rows:
        if row.alert_id in alerts:
            alerts[row.alert_id]["deliveries"].append(delivery_json(row))
    return list(alerts.values())


def explain(ctx: Context, what: str) -> list[dict[str, Any]]:
    """The route ``what`` (an alarm name, an alert id or ``#delivery``) took; [] if unknown."""
    entries = ctx.ledger.entries(what, MAX_ENTRIES)
    if not entries:
        return []
    # A delivery's later attempts are recorded against it; pull in those the query missed.
    seen = {e.id for e in entries}
    extra: list[Entry] = []
    for delivery in sorted({e.delivery for e in entries if e.delivery is not None}):
        extra += [
            e
            for e in ctx.ledger.entries(f"#{delivery}")
            if e.delivery == delivery and e.id not in seen
        ]
        seen.update(e.id for e in extra)
    merged = sorted([*entries, *extra], key=lambda e: e.id)
    rows: list[Row] = []
    for alarm in sorted({e.alarm for e in merged}):
        rows += ctx.outbox.for_alarm(alarm)
    return group(merged, rows)
