"""Token-bucket throttling, as API Gateway applies to stages and to new WebSocket connections.

The decision is a pure function of the bucket, the time and the limits; ``Throttle`` only holds
the current bucket so callers don't have to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """A bucket holding ``tokens`` (at most the burst size) as of ``updated_at`` seconds."""

    tokens: float
    updated_at: float


def take(
    bucket: TokenBucket, now: float, rate: float, burst: float, cost: float = 1.0
) -> tuple[bool, TokenBucket]:
    """Refill at ``rate`` tokens/s up to ``burst``, then try to take ``cost``; return (allowed, bucket)."""
    # A clock that steps backwards must not mint tokens, so elapsed time is clamped at zero.
    elapsed = max(0.0, now - bucket.updated_at)
    tokens = min(float(burst), bucket.tokens + elapsed * rate)
    updated_at = max(now, bucket.updated_at)
    if tokens >= cost:
        return True, TokenBucket(tokens - cost, updated_at)
    return False, TokenBucket(tokens, updated_at)


class Throttle:
    """A token bucket that starts full; ``allow(now)`` takes one token if there is one."""

    __slots__ = ("_bucket", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._bucket = TokenBucket(float(burst), now)

    def allow(self, now: float) -> bool:
        """Take a token for one request at time ``now``; False means throttle it (429)."""
        allowed, self._bucket = take(self._bucket, now, self.rate, self.burst)
        return allowed

    @property
    def tokens(self) -> float:
        """Tokens left as of the last decision."""
        return self._bucket.tokens
