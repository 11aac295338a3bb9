"""The token bucket is a pure function of bucket, time and limits."""

from __future__ import annotations

from heron.gateway.throttle import Throttle, TokenBucket, take


def test_burst_then_steady_rate() -> None:
    throttle = Throttle(rate=10.0, burst=5, now=0.0)
    assert [throttle.allow(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert throttle.allow(0.1) is True  # 0.1 s at 10/s refills one token
    assert throttle.allow(0.1) is False


def test_refill_is_capped_at_burst() -> None:
    allowed, bucket = take(TokenBucket(0.0, 0.0), now=1000.0, rate=10.0, burst=3)
    assert allowed and bucket.tokens == 2.0


def test_clock_going_backwards_mints_nothing() -> None:
    allowed, bucket = take(TokenBucket(0.0, 10.0), now=5.0, rate=100.0, burst=100)
    assert not allowed and bucket == TokenBucket(0.0, 10.0)


def test_take_does_not_mutate_its_input() -> None:
    before = TokenBucket(1.0, 0.0)
    take(before, 0.0, 1.0, 1.0)
    assert before == TokenBucket(1.0, 0.0)
