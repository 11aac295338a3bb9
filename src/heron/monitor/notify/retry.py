"""Delivery retry policy in SNS's four phases: immediate, pre-backoff, backoff, post-backoff.

Like SNS's ``healthyRetryPolicy``: ``num_retries`` retries in total, the first
``num_no_delay_retries`` at once, then ``num_min_delay_retries`` at ``min_delay_s``, then a
backoff from ``min_delay_s`` to ``max_delay_s`` (linear, arithmetic, geometric or exponential),
then ``num_max_delay_retries`` at ``max_delay_s``. A 429's ``Retry-After`` stretches the delay
and does not use up a retry (the endpoint is healthy, only busy). After the last retry the
delivery goes to the dead-letter queue, from which ``heron notify dlq replay`` sends it again.
No delay exceeds SNS's ``maxDelayTarget`` cap of 3,600 s, whatever the policy or Retry-After says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heron.errors import ConfigError

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
#: SNS's upper bound on ``maxDelayTarget`` (and so on any one retry delay), in seconds.
MAX_DELAY_CAP_S = 3600.0


def capped(delay: float) -> float:
    """``delay`` limited to SNS's 3,600 s cap (a Retry-After of a day still waits one hour)."""
    return min(max(delay, 0.0), MAX_DELAY_CAP_S)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retries, and how far apart."""

    num_retries: int = 20
    num_no_delay_retries: int = 1
    num_min_delay_retries: int = 2
    num_max_delay_retries: int = 5
    min_delay_s: float = 1.0
    max_delay_s: float = 300.0
    backoff: str = "exponential"

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
        steps = (
            self.num_retries
            - self.num_no_delay_retries
            - self.num_min_delay_retries
            - self.num_max_delay_retries
        )
        if retry > steps:
            return capped(self.max_delay_s)
        return capped(_backoff(self.backoff, self.min_delay_s, self.max_delay_s, retry / steps))


def _backoff(shape: str, low: float, high: float, f: float) -> float:
    if shape == "linear":
        return low + (high - low) * f
    if shape == "arithmetic":
        return low + (high - low) * f * f
    if shape == "geometric":
        return low + (high - low) * f**3
    return low * (high / low) ** f if low > 0 else high * f  # exponential


def parse_retry(raw: Any, key: str, default: RetryPolicy) -> RetryPolicy:
    """A ``retry = {...}`` table over ``default``; errors name the key."""
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
    if policy.num_retries > 100:
        raise ConfigError(f"{key}.num_retries: at most 100 (SNS's limit)")
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
    return policy
