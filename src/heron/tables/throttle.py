"""Provisioned-capacity throttling: a token bucket per table (and GSI) and direction.

DynamoDB refills a provisioned table at its configured units per second and lets it bank up to
300 seconds of unused capacity for bursts. A request is admitted when the bucket holds its units;
it then spends them. The decision is pure; the backends keep the bucket state (the SQLite one in
the database, inside the same transaction as the operation, so every process shares it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.tables.base import TableSchema


@dataclass(frozen=True, slots=True)
class Bucket:
    """A token bucket's state: tokens available and when they were last refilled."""

    tokens: float
    updated: float


@dataclass(frozen=True, slots=True)
class Demand:
    """Units an operation wants from one bucket, refilled at ``rate`` per second up to ``cap``."""

    name: str
    rate: float
    cap: float
    units: float


def bucket_name(table: str, direction: str, index: str | None = None) -> str:
    """The stored name of a table's (or GSI's) read or write bucket."""
    return f"{table}/{index}/{direction}" if index else f"{table}/{direction}"


def capacity_cap(rate: float, burst_seconds: float) -> float:
    """A bucket's capacity: ``burst_seconds`` of the rate, and at least one second's worth."""
    return rate * max(burst_seconds, 1.0)


def demand(
    schema: TableSchema, direction: str, units: float, index: str | None = None
) -> Demand | None:
    """The Demand a provisioned table's operation makes; None for on-demand tables or no units."""
    if schema.provisioned is None or units <= 0:
        return None
    rate = float(schema.provisioned[0] if direction == "read" else schema.provisioned[1])
    return Demand(
        bucket_name(schema.name, direction, index),
        rate,
        capacity_cap(rate, schema.burst_seconds),
        units,
    )


def refill(state: Bucket | None, rate: float, cap: float, now: float) -> Bucket:
    """The bucket at ``now``: full when new, otherwise topped up by the elapsed time."""
    if state is None:
        return Bucket(cap, now)
    elapsed = max(0.0, now - state.updated)
    return Bucket(min(cap, state.tokens + rate * elapsed), max(now, state.updated))


def admits(bucket: Bucket, units: float, cap: float) -> bool:
    """True when the bucket can pay ``units``; a full bucket admits even an oversized request."""
    return bucket.tokens >= units or bucket.tokens >= cap


def settle(
    demands: Sequence[Demand], states: Sequence[Bucket | None], now: float
) -> list[Bucket] | None:
    """The buckets after paying every demand, or None if any bucket cannot pay (throttled).

    All-or-nothing: a request that needs a table and a GSI bucket is throttled if either is empty.
    """
    paid: list[Bucket] = []
    for want, state in zip(demands, states, strict=True):
        bucket = refill(state, want.rate, want.cap, now)
        if not admits(bucket, want.units, want.cap):
            return None
        paid.append(Bucket(bucket.tokens - want.units, bucket.updated))
    return paid
