"""Delivery retry policy in SNS's four phases: immediate, pre-backoff, backoff, post-backoff.

Like SNS's ``healthyRetryPolicy``: ``num_retries`` retries in total, the first
``num_no_delay_retries`` at once, then ``num_min_delay_retries`` at ``min_delay_s``, then the
backoff phase — its first retry waits ``min_delay_s``, its last ``max_delay_s``, and the
function (linear, arithmetic, geometric or exponential) shapes the ones between — then
``num_max_delay_retries`` at ``max_delay_s``. A 429's ``Retry-After`` stretches the delay and
does not use up a retry (the endpoint is healthy, only busy). After the last retry the delivery
goes to the dead-letter queue, from which ``heron notify dlq replay`` sends it again.

Two SNS limits hold: no delay exceeds ``maxDelayTarget``'s cap of 3,600 s, whatever the policy or
Retry-After says, and an HTTP/S policy's retries may not add up to more than 3,600 s
(``parse_retry(..., max_total_s=...)``; SNS's email policy runs over six hours and has no such
limit). SNS adds jitter; Heron does not, so delays are exact and testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heron.errors import ConfigError

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
#: SNS's upper bound on ``maxDelayTarget`` (and so on any one retry delay), in seconds.
MAX_DELAY_CAP_S = 3600.0
#: SNS's hard limit on the total retry time of an HTTP/S delivery policy, in seconds.
HTTP_TOTAL_CAP_S = 3600.0
#: SNS allows at most this many retries in a policy.
MAX_RETRIES = 100


def capped(delay: float) -> float:
    """``delay`` limited to SNS's 3,600 s cap (a Retry-After of a day still waits one hour)."""
    return min(max(delay, 0.0), MAX_DELAY_CAP_S)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retries, and how far apart (Heron's default for webhooks and Slack)."""

    num_retries: int = 20
    num_no_delay_retries: int = 1
    num_min_delay_retries: int = 2
    num_max_delay_retries: int = 5
    min_delay_s: float = 1.0
    max_delay_s: float = 300.0
    backoff: str = "exponential"

    @property
    def num_backoff_retries(self) -> int:
        """How many retries the backoff phase has (what the other three phases leave)."""
        return max(
            0,
            self.num_retries
            - self.num_no_delay_retries
            - self.num_min_delay_retries
            - self.num_max_delay_retries,
        )

    def delay(self, retry: int) -> float | None:
        """Seconds before retry number ``retry`` (1 = first retry), or None when exhausted."""
        if retry < 1 or retry > self.num_retries:
            return None
        if retry <= self.num_no_delay_retries:
            return 0.0
        retry -= self.num_no_delay_retries
        if retry <= self.num_min_delay_retries:
            return capped(self.min_delay_s)
        retry -= self.num_min_delay_retries
        steps = self.num_backoff_retries
        if retry > steps:
            return capped(self.max_delay_s)
        # The backoff phase runs from min_delay_s (its first retry) to max_delay_s (its last).
        position = (retry - 1) / (steps - 1) if steps > 1 else 0.0
        return capped(_backoff(self.backoff, self.min_delay_s, self.max_delay_s, position))

    def delays(self) -> list[float]:
        """Every retry's delay in order (``num_retries`` of them)."""
        return [self.delay(n) or 0.0 for n in range(1, self.num_retries + 1)]

    def total_s(self) -> float:
        """Seconds from the first attempt to the last retry (the sum of every delay)."""
        return sum(self.delays())


def _backoff(shape: str, low: float, high: float, position: float) -> float:
    """The delay at ``position`` (0 = first backoff retry, 1 = last) between ``low`` and ``high``."""
    if shape == "linear":  # equal steps
        return low + (high - low) * position
    if shape == "arithmetic":  # steps that grow by a constant amount: a parabola
        return low + (high - low) * position**2
    if shape == "geometric":  # slower still at first, steeper at the end: a cubic
        return low + (high - low) * position**3
    # exponential: a constant ratio between consecutive delays (low * r^k reaching high)
    return low * (high / low) ** position if low > 0 else high * position


#: SNS's default HTTP/S delivery policy: 3 retries, 20 s apart (linear).
SNS_HTTP_DEFAULT = RetryPolicy(
    num_retries=3,
    num_no_delay_retries=0,
    num_min_delay_retries=0,
    num_max_delay_retries=0,
    min_delay_s=20.0,
    max_delay_s=20.0,
    backoff="linear",
)
#: SNS's customer-managed policy (SMTP email): none at once, 2 at 10 s, 10 backing off
#: exponentially from 10 s to 600 s, then 38 at 600 s — over six hours.
SNS_EMAIL = RetryPolicy(
    num_retries=50,
    num_no_delay_retries=0,
    num_min_delay_retries=2,
    num_max_delay_retries=38,
    min_delay_s=10.0,
    max_delay_s=600.0,
    backoff="exponential",
)


def parse_retry(
    raw: Any, key: str, default: RetryPolicy, *, max_total_s: float | None = None
) -> RetryPolicy:
    """A ``retry = {...}`` table over ``default``; errors name the key. ``max_total_s`` bounds
    the sum of the delays (SNS's 3,600 s for HTTP/S endpoints)."""
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: expected a table like {{ num_retries = 5 }}")
    fields = set(RetryPolicy.__dataclass_fields__)
    unknown = set(raw) - fields
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)}; allowed: {sorted(fields)}")
    values = {f: getattr(default, f) for f in fields}
    for name, value in raw.items():
        if name == "backoff":
            if value not in BACKOFF_FUNCTIONS:
                raise ConfigError(f"{key}.backoff: one of {', '.join(BACKOFF_FUNCTIONS)}")
            values[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{key}.{name}: expected a non-negative number, got {value!r}")
        values[name] = float(value) if name.endswith("_s") else int(value)
    policy = RetryPolicy(**values)
    if policy.num_retries > MAX_RETRIES:
        raise ConfigError(f"{key}.num_retries: at most {MAX_RETRIES} (SNS's limit)")
    phases = (
        policy.num_no_delay_retries + policy.num_min_delay_retries + policy.num_max_delay_retries
    )
    if phases > policy.num_retries:
        raise ConfigError(f"{key}: the phase counts add up to more than num_retries")
    if policy.max_delay_s > MAX_DELAY_CAP_S:
        raise ConfigError(
            f"{key}.max_delay_s: at most {MAX_DELAY_CAP_S:g} (SNS's maxDelayTarget cap)"
        )
    if policy.min_delay_s > policy.max_delay_s:
        raise ConfigError(f"{key}.min_delay_s: must not exceed max_delay_s")
    if max_total_s is not None and policy.total_s() > max_total_s:
        raise ConfigError(
            f"{key}: the retries add up to {policy.total_s():,.0f} s; SNS allows at most "
            f"{max_total_s:,.0f} s in total for HTTP/S endpoints"
        )
    return policy
