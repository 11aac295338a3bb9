"""PutLogEvents' batch rules as one pure decision: reject the batch, or say which events to keep.

Whole-batch failures (too many events, too many bytes, out of order, spanning more than 24 h)
raise ``BatchError`` with AWS's message. Events too far in the past, older than the group's
retention or too far in the future are not errors: AWS stores the rest and reports the rejected
ranges in ``rejectedLogEventsInfo``, and so does ``check_batch``.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

#: Most bytes one PutLogEvents batch may carry (UTF-8 messages plus 26 bytes per event).
MAX_BATCH_BYTES = 1_048_576
#: Bytes CloudWatch adds to each event when sizing a batch.
EVENT_OVERHEAD_BYTES = 26
#: Most events one PutLogEvents batch may carry.
MAX_BATCH_EVENTS = 10_000
#: Largest single event (CloudWatch raised the limit from 256 KB to 1 MB; the batch limit binds).
MAX_EVENT_BYTES = MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES
#: Longest time one batch may span.
MAX_SPAN_MS = 24 * 3600 * 1000
#: Oldest event CloudWatch accepts, relative to now.
MAX_AGE_MS = 14 * 24 * 3600 * 1000
#: Furthest into the future CloudWatch accepts an event, relative to now.
MAX_FUTURE_MS = 2 * 3600 * 1000

MSG_ORDER = "Log events in a single PutLogEvents request must be in chronological order."
MSG_SPAN = (
    "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
)


class BatchError(ValueError):
    """A batch AWS refuses as a whole (InvalidParameterException); nothing was stored."""


@dataclass(frozen=True, slots=True)
class BatchDecision:
    """Keep ``events[start:end]``; the three indexes are AWS's rejectedLogEventsInfo members."""

    start: int
    end: int
    too_new_start: int | None = None
    too_old_end: int | None = None
    expired_end: int | None = None

    def rejected_info(self) -> dict[str, int]:
        """The ``rejectedLogEventsInfo`` structure (empty when nothing was rejected)."""
        info: dict[str, int] = {}
        if self.too_new_start is not None:
            info["tooNewLogEventStartIndex"] = self.too_new_start
        if self.too_old_end is not None:
            info["tooOldLogEventEndIndex"] = self.too_old_end
        if self.expired_end is not None:
            info["expiredLogEventEndIndex"] = self.expired_end
        return info


def batch_bytes(messages: Sequence[str]) -> int:
    """The size AWS charges a batch: UTF-8 bytes of every message plus 26 bytes per event."""
    text = "".join(messages)
    # One join and (for non-ASCII text) one encode, not one bytes object per message.
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return size + EVENT_OVERHEAD_BYTES * len(messages)


def check_batch(
    timestamps: Sequence[int],
    messages: Sequence[str],
    *,
    now_ms: int,
    retention_days: int | None,
) -> BatchDecision:
    """Decide what happens to a PutLogEvents batch (``BatchError`` when it fails as a whole)."""
    n = len(timestamps)
    if n > MAX_BATCH_EVENTS:
        raise BatchError(
            f"1 validation error detected: Value at 'logEvents' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_BATCH_EVENTS}"
        )
    size = batch_bytes(messages)
    if size > MAX_BATCH_BYTES:
        raise BatchError(f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
    if any(map(operator.gt, timestamps, itertools.islice(timestamps, 1, None))):
        raise BatchError(MSG_ORDER)
    if n and timestamps[-1] - timestamps[0] > MAX_SPAN_MS:
        raise BatchError(MSG_SPAN)
    # The batch is sorted: old events are a prefix and new ones a suffix, found by bisection.
    too_old = bisect.bisect_left(timestamps, now_ms - MAX_AGE_MS)
    expired = 0
    if retention_days is not None:
        expired = bisect.bisect_left(timestamps, now_ms - retention_days * 86_400_000)
    too_new = bisect.bisect_right(timestamps, now_ms + MAX_FUTURE_MS)
    # A prefix and a suffix of a sorted batch never overlap.
    return BatchDecision(
        start=max(too_old, expired),
        end=too_new,
        too_new_start=too_new if too_new < n else None,
        too_old_end=too_old if too_old else None,
        expired_end=expired if expired else None,
    )
