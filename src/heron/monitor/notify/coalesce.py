"""What one message to a destination says when several rows are due there: the digest a
rate-limited destination or the end of a deferral sends instead of many messages, and which rows
a free rate-limit slot carries now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from heron.monitor.notify.model import Alert, Kind, Notice, worst
from heron.monitor.notify.outbox import Row

#: The note on a row that waits for its destination's next rate-limit slot.
RATE_LIMITED = "rate-limited"


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


def slot_split(rows: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """What a free rate-limit slot carries, and what waits for the next one.

    Rows that already waited for a slot go now, with everything due beside them, as one digest.
    Otherwise the oldest row goes as it is (a full card, not a "2 alerts" digest), together with
    the rows saying the same thing (one resolution to a channel and to a person paged there);
    the rest wait and are coalesced at the next slot.
    """
    if any(r.last_error == RATE_LIMITED for r in rows):
        return list(rows), []
    first = rows[0]
    same = (first.notice.kind, tuple(a.id for a in first.notice.alerts))
    now_rows: list[Row] = []
    later: list[Row] = []
    for r in rows:
        alike = (r.notice.kind, tuple(a.id for a in r.notice.alerts)) == same
        (now_rows if alike else later).append(r)
    return now_rows, later
