"""Timelines: samples arrive at t, the alarm is evaluated every minute with an injected clock,
and at t' the state and reason are what CloudWatch would show.

A tiny fake metric source aggregates raw samples into the alarm's slots (the real store does
this in production); the alarm dict carries its state from one evaluation to the next the way
the alarm store does, changing only on a transition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from heron.monitor.alarms import reason as texts
from heron.monitor.alarms.evaluate import evaluate_metric_alarm, evaluation_window

T0 = 1_795_780_800_000  # 2026-11-27T12:00:00Z
MIN = 60_000


class FakeClock:
    """Epoch ms that tests advance by hand."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


class Samples:
    """Raw (timestamp ms, value) samples, aggregated per slot with a statistic."""

    def __init__(self) -> None:
        self.raw: list[tuple[int, float]] = []

    def put(self, ts: int, value: float) -> None:
        self.raw.append((ts, value))

    def series(self, start: int, end: int, period_s: int, stat: str) -> list[tuple[int, float]]:
        buckets: dict[int, list[float]] = {}
        for ts, value in self.raw:
            if start <= ts < end:
                slot = start + (ts - start) // (period_s * 1000) * period_s * 1000
                buckets.setdefault(slot, []).append(value)
        aggregates: dict[str, Callable[[list[float]], float]] = {
            "Sum": sum, "Maximum": max, "Average": lambda v: sum(v) / len(v),
        }  # fmt: skip
        agg = aggregates[stat]
        return sorted((slot, float(agg(values))) for slot, values in buckets.items())


class Harness:
    """An alarm evaluated every minute: records every transition with its reason."""

    def __init__(self, alarm: dict[str, Any], clock: FakeClock, samples: Samples) -> None:
        self.alarm = {"StateValue": "INSUFFICIENT_DATA", "StateReason": texts.INITIAL_REASON,
                      **alarm}  # fmt: skip
        self.clock, self.samples = clock, samples
        self.transitions: list[tuple[int, str, str]] = []

    def evaluate(self) -> str:
        now = self.clock.now_ms
        start, end, period = evaluation_window(self.alarm, now)
        points = self.samples.series(start, end, period, self.alarm["Statistic"])
        result = evaluate_metric_alarm(self.alarm, points, now_ms=now)
        if result.changed:
            self.alarm["StateValue"] = result.state
            self.alarm["StateReason"] = result.reason
            self.transitions.append((now, result.state, result.reason))
        return result.state

    def run_until(self, end_ms: int) -> None:
        while self.clock.now_ms < end_ms:
            self.clock.advance(MIN)
            self.evaluate()


def lambda_errors(**extra: Any) -> dict[str, Any]:
    return {"AlarmName": "LambdaErrors", "MetricName": "Errors", "Namespace": "AWS/Lambda",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold", **extra}  # fmt: skip


def test_error_burst_alarms_after_its_minute_closes_and_recovers() -> None:
    clock, samples = FakeClock(T0 + 5_000), Samples()
    h = Harness(lambda_errors(TreatMissingData="notBreaching"), clock, samples)
    assert h.evaluate() == "OK"  # nothing yet, missing treated as not breaching
    samples.put(T0 + 20_000, 1.0)
    samples.put(T0 + 40_000, 1.0)
    clock.now_ms = T0 + 59_000
    assert h.evaluate() == "OK"  # the minute is still in progress
    clock.now_ms = T0 + MIN + 1_000
    assert h.evaluate() == "ALARM"
    assert h.transitions[-1][2] == (
        f"Threshold Crossed: 1 datapoint [2.0 ({texts.reason_timestamp(T0)})] was greater than "
        "the threshold (0.0)."
    )
    # The next minute has no errors published: the newest real datapoint (the burst) is
    # still inside the range R = 3, so the alarm stays in ALARM (documented caveat) ...
    clock.now_ms = T0 + 2 * MIN + 1_000
    assert h.evaluate() == "ALARM"
    # ... until the burst leaves the range; then notBreaching decides.
    clock.now_ms = T0 + 4 * MIN + 1_000
    assert h.evaluate() == "OK"
    assert h.transitions[-1] == (
        T0 + 4 * MIN + 1_000,
        "OK",
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching].",
    )


def test_a_published_zero_recovers_at_once() -> None:
    clock, samples = FakeClock(T0), Samples()
    h = Harness(lambda_errors(), clock, samples)
    samples.put(T0 + 1_000, 4.0)
    samples.put(T0 + MIN + 1_000, 0.0)
    h.run_until(T0 + MIN)
    assert h.alarm["StateValue"] == "ALARM"
    h.run_until(T0 + 2 * MIN)
    assert h.transitions[-1] == (
        T0 + 2 * MIN,
        "OK",
        f"Threshold Crossed: 1 datapoint [0.0 ({texts.reason_timestamp(T0 + MIN)})] was not "
        "greater than the threshold (0.0).",
    )


def test_missing_keeps_evaluating_the_last_points_until_they_leave_the_range() -> None:
    # N = 1, R = 3: the last real datapoint is re-used for two more minutes, then the alarm
    # goes to INSUFFICIENT_DATA (the documented "after a metric stops" caveat).
    clock, samples = FakeClock(T0), Samples()
    h = Harness(lambda_errors(), clock, samples)
    samples.put(T0 + 1_000, 3.0)
    states = []
    for _ in range(5):
        clock.advance(MIN)
        states.append(h.evaluate())
    assert states == ["ALARM", "ALARM", "ALARM", "INSUFFICIENT_DATA", "INSUFFICIENT_DATA"]
    assert h.transitions[-1] == (
        T0 + 4 * MIN,
        "INSUFFICIENT_DATA",
        "Insufficient Data: 1 datapoint was unknown.",
    )


def test_three_of_three_with_a_gap_alarms_prematurely_then_recovers() -> None:
    clock, samples = FakeClock(T0), Samples()
    h = Harness(lambda_errors(EvaluationPeriods=3, Statistic="Maximum", Threshold=100.0),
                clock, samples)  # fmt: skip
    for minute, value in [(0, 500.0), (2, 600.0)]:  # breach, gap, breach
        samples.put(T0 + minute * MIN + 30_000, value)
    clock.now_ms = T0 + 3 * MIN  # slots (oldest first) X - X
    # k = 2 < N, all real breaching, oldest breaching 3 slots old >= M = 3: premature ALARM
    assert h.evaluate() == "ALARM"
    s = [texts.reason_timestamp(T0 + k * MIN) for k in (2, 0)]
    assert h.transitions[-1][2] == (
        f"Threshold Crossed: 2 out of the last 2 datapoints [600.0 ({s[0]}), 500.0 ({s[1]})] "
        "were greater than the threshold (100.0) (minimum 3 datapoints for OK -> ALARM "
        "transition)."
    )
    samples.put(T0 + 3 * MIN + 30_000, 50.0)
    clock.now_ms = T0 + 4 * MIN  # - X - X 0 : three real points, one of them OK
    assert h.evaluate() == "OK"
    assert h.transitions[-1][2].startswith(
        "Threshold Crossed: 1 out of the last 3 datapoints [50.0"
    )


def test_five_minute_period_slides_every_minute() -> None:
    # Period 300, N = 1: at the end of minute 5 it sees minutes 1-5, at the end of minute 6
    # minutes 2-6 (the AWS-doc example).
    clock, samples = FakeClock(T0), Samples()
    h = Harness(lambda_errors(Period=300, Threshold=2.0), clock, samples)
    for minute in range(5):
        samples.put(T0 + minute * MIN + 1_000, 1.0)  # 5 in total over minutes 0-4
    clock.now_ms = T0 + 5 * MIN
    assert h.evaluate() == "ALARM"  # sum 5 > 2
    clock.now_ms = T0 + 8 * MIN  # window minutes 3-7: two samples
    assert h.evaluate() == "OK"
    assert h.transitions[-1][2].startswith(
        f"Threshold Crossed: 1 datapoint [2.0 ({texts.reason_timestamp(T0 + 3 * MIN)})]"
    )


def test_high_resolution_alarm_moves_on_a_ten_second_grid() -> None:
    clock, samples = FakeClock(T0), Samples()
    h = Harness(lambda_errors(Period=10, Statistic="Maximum", Threshold=10.0), clock, samples)
    samples.put(T0 + 3_000, 50.0)
    clock.now_ms = T0 + 9_999
    assert h.evaluate() == "INSUFFICIENT_DATA"
    clock.now_ms = T0 + 10_000
    assert h.evaluate() == "ALARM"
    clock.now_ms = T0 + 40_000  # the point left the 3-slot range
    assert h.evaluate() == "INSUFFICIENT_DATA"
