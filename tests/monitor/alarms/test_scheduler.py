"""The scheduler on an injected clock: cadence, period-close evaluation, actions, composites.

Timelines put datapoints into a real MetricStore at t, tick at t', and check state, history and
the published message.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from heron.monitor.alarms.history_log import HistoryQuery
from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.contracts import MetricId

from .alarm_support import (
    ALERTS,
    METRIC,
    T0,
    WARNINGS,
    FakeClock,
    World,
    composite_alarm,
    metric_alarm,
    open_world,
    sample,
)


@pytest.fixture
def world(tmp_path: Path) -> Any:
    w = open_world(tmp_path)
    yield w
    w.close()


def _put(world: World, config: dict[str, Any]) -> None:
    world.alarms.put_alarm(config)
    world.scheduler.evaluate_now([config["AlarmName"]])


def _state(world: World, name: str) -> str:
    alarm = world.alarms.get(name)
    assert alarm is not None
    return str(alarm["StateValue"])


def test_breach_is_recorded_right_after_the_period_closes_and_clears_later(world: World) -> None:
    _put(world, metric_alarm("Errors"))
    assert _state(world, "Errors") == "OK"  # evaluated at creation: no data, notBreaching
    world.clock.now = T0 + 30
    world.metrics.put_samples([sample(3.0, T0 + 20)])
    world.scheduler.tick(world.clock.now)
    assert _state(world, "Errors") == "OK"  # the minute holding the error has not closed
    # Run the loop's schedule by hand: wake at each due instant, tick, until something changes.
    transitions: list[Any] = []
    while not transitions and world.clock.now < T0 + 120:
        world.clock.now = world.scheduler.next_due(world.clock.now)
        transitions = world.scheduler.tick(world.clock.now)
    assert world.clock.now == T0 + 60 + world.scheduler.settle_s
    [transition] = transitions
    alarm = world.alarms.get("Errors")
    assert alarm is not None and alarm["StateValue"] == "ALARM"
    assert alarm["StateUpdatedTimestamp"] - (T0 + 60) <= 2.0  # within 2 s of the period's end
    assert alarm["StateReason"].startswith("Threshold Crossed")
    assert transition.old_state == "OK"
    messages = world.topics.published(ALERTS)
    assert [json.loads(m.message)["NewStateValue"] for m in messages] == ["OK", "ALARM"]
    assert messages[-1].subject == 'ALARM: "Errors" in US East (N. Virginia)'
    # No new data: the breaching minute stays in the evaluation range (N=1 -> R=3 slots) for
    # two more minutes, then everything is missing and notBreaching clears the alarm.
    for minute in (2, 3):
        world.clock.now = T0 + minute * 60 + 1
        assert world.scheduler.tick(world.clock.now) == []
        assert _state(world, "Errors") == "ALARM"
    world.clock.now = T0 + 4 * 60 + 1
    world.scheduler.tick(world.clock.now)
    assert _state(world, "Errors") == "OK"
    summaries = [
        i["HistorySummary"]
        for _, i in world.alarms.history(HistoryQuery(kind="StateUpdate", ascending=True))
    ]
    assert summaries == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert [json.loads(m.message)["NewStateValue"] for m in world.topics.published(ALERTS)] == [
        "OK",
        "ALARM",
        "OK",
    ]


def test_a_round_runs_once_per_boundary(world: World) -> None:
    _put(world, metric_alarm("Errors"))
    world.clock.now = T0 + 1
    world.scheduler.tick(world.clock.now)
    before = world.scheduler.evaluations
    world.scheduler.tick(T0 + 5)
    world.scheduler.tick(T0 + 59)
    assert world.scheduler.evaluations == before
    world.scheduler.tick(T0 + 60)
    assert world.scheduler.evaluations == before + 1


def test_high_resolution_alarms_run_every_ten_seconds(world: World) -> None:
    _put(world, metric_alarm("Fast", Period=10, EvaluationPeriods=1))
    world.scheduler.tick(T0)
    assert world.scheduler.next_due(T0 + 0.5) == T0 + 10 + world.scheduler.settle_s
    world.clock.now = T0 + 12
    world.metrics.put_samples([sample(1.0, T0 + 12, resolution=1)])
    world.scheduler.tick(T0 + 12)
    assert _state(world, "Fast") == "OK"
    world.clock.now = T0 + 21
    world.scheduler.tick(T0 + 21)
    assert _state(world, "Fast") == "ALARM"


def test_standard_alarms_alone_wake_the_loop_at_the_minute(world: World) -> None:
    _put(world, metric_alarm("Errors"))
    world.scheduler.tick(T0 + 1)
    # No wake-up every 10 s: an alarm created meanwhile wakes ``run`` itself (tested below).
    assert world.scheduler.next_due(T0 + 2) == T0 + 60 + world.scheduler.settle_s
    assert world.scheduler.next_due(T0 + 55.5) == T0 + 60 + world.scheduler.settle_s


def test_set_alarm_state_runs_actions_and_the_next_evaluation_reverts_it(world: World) -> None:
    _put(world, metric_alarm("Errors"))
    world.clock.now = T0 + 10
    transition = world.scheduler.set_state("Errors", "ALARM", "testing", '{"manual":true}')
    assert transition is not None
    assert _state(world, "Errors") == "ALARM"
    assert json.loads(world.topics.published(ALERTS)[-1].message)["NewStateReason"] == "testing"
    world.clock.now = T0 + 61
    world.scheduler.tick(world.clock.now)
    assert _state(world, "Errors") == "OK"


def test_disabled_actions_still_change_state_but_publish_nothing(world: World) -> None:
    _put(world, metric_alarm("Quiet", ActionsEnabled=False))
    world.clock.now = T0 + 30
    world.metrics.put_samples([sample(3.0, T0 + 20)])
    world.clock.now = T0 + 61
    world.scheduler.tick(world.clock.now)
    assert _state(world, "Quiet") == "ALARM"
    assert world.topics.published() == []
    world.alarms.set_actions_enabled(["Quiet"], True)
    world.clock.now = T0 + 121
    world.scheduler.tick(world.clock.now)
    assert world.topics.published() == []  # re-enabling replays nothing; no transition happened


def test_composite_alarms_follow_their_children(world: World) -> None:
    _put(world, metric_alarm("A"))
    _put(world, metric_alarm("B", Threshold=100.0))
    _put(world, composite_alarm("Either", "ALARM(A) OR ALARM(B)"))
    assert _state(world, "Either") == "OK"
    world.clock.now = T0 + 30
    world.metrics.put_samples([sample(3.0, T0 + 20)])
    world.clock.now = T0 + 61
    transitions = world.scheduler.tick(world.clock.now)
    assert [(t.alarm["AlarmName"], t.alarm["StateValue"]) for t in transitions] == [
        ("A", "ALARM"),
        ("Either", "ALARM"),
    ]
    [message] = world.topics.published(WARNINGS)
    body = json.loads(message.message)
    assert body["AlarmRule"] == "ALARM(A) OR ALARM(B)" and "Trigger" not in body
    assert body["TriggeringChildren"][0]["Arn"].endswith(":alarm:A")
    either = world.alarms.get("Either")
    assert either is not None and "A transitioned to ALARM" in either["StateReason"]


class CountingMetrics:
    """The metric store, counting series reads (single or batched) and batched calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.batches = 0

    def series(self, metric: MetricId, **kwargs: Any) -> tuple[list[int], list[float]]:
        self.calls += 1
        result: tuple[list[int], list[float]] = self.inner.series(metric, **kwargs)
        return result

    def series_many(self, requests: list[Any]) -> list[tuple[list[int], list[float]]]:
        self.calls += len(requests)
        self.batches += 1
        result: list[tuple[list[int], list[float]]] = self.inner.series_many(requests)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_alarms_on_one_metric_share_one_fetch_per_round(tmp_path: Path) -> None:
    w = open_world(tmp_path)
    counting = CountingMetrics(w.metrics)
    scheduler = AlarmScheduler(w.alarms, counting, w.topics, w.clock)  # type: ignore[arg-type]
    other = MetricId("Heron", "Throttles", METRIC.dimensions)
    for i in range(300):
        w.alarms.put_alarm(
            metric_alarm(f"E{i:03d}", Threshold=float(i), EvaluationPeriods=1 + i % 3)
        )
        w.alarms.put_alarm(
            metric_alarm(f"T{i:03d}", MetricName=other.name, Threshold=float(i), AlarmActions=[])
        )
    w.clock.now = T0 + 30
    w.metrics.put_samples([sample(150.0, T0 + 20), sample(5.0, T0 + 20, metric=other)])
    w.clock.now = T0 + 61
    started = time.perf_counter()
    scheduler.tick(w.clock.now)
    elapsed = time.perf_counter() - started
    assert counting.calls == 2 and counting.batches == 1  # two series, one store call
    assert scheduler.evaluations == 600
    states = w.alarms.states()
    assert states["E147"] == "ALARM" and states["E150"] == "OK"  # N = 1
    assert states["E148"] == "OK"  # N = M = 2: one breaching minute is not enough
    assert states["T004"] == "ALARM" and states["T005"] == "OK"
    assert elapsed < 5.0
    w.close()


class OffsetClock:
    """Wall time shifted so a minute boundary is a fraction of a second away."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_the_run_loop_evaluates_just_after_the_boundary(tmp_path: Path) -> None:
    real = time.time()
    boundary = (real // 60 + 1) * 60 + 600
    clock = OffsetClock(boundary - 0.3 - real)  # 0.3 s before a minute boundary
    w = open_world(tmp_path, clock=clock, settle_s=0.05)  # type: ignore[arg-type]
    w.alarms.put_alarm(metric_alarm("Errors"))
    w.metrics.put_samples([sample(3.0, boundary - 30)])
    stop = asyncio.Event()
    task = asyncio.create_task(w.scheduler.run(stop))
    deadline = time.monotonic() + 5
    while _state(w, "Errors") != "ALARM" and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 2)
    alarm = w.alarms.get("Errors")
    assert alarm is not None and alarm["StateValue"] == "ALARM"
    assert boundary <= alarm["StateUpdatedTimestamp"] <= boundary + 2
    w.close()


async def test_an_alarm_put_while_the_loop_sleeps_is_scheduled_at_once(tmp_path: Path) -> None:
    real = time.time()
    minute = (real // 60 + 1) * 60 + 600
    clock = OffsetClock(minute - 40 - real)  # 40 s before a minute boundary
    w = open_world(tmp_path, clock=clock, settle_s=0.05)  # type: ignore[arg-type]
    w.alarms.put_alarm(metric_alarm("Errors"))  # evaluated each minute: the loop sleeps ~40 s
    stop = asyncio.Event()
    task = asyncio.create_task(w.scheduler.run(stop))
    await asyncio.sleep(0.3)
    before = w.scheduler.evaluations
    # Put without evaluate_now (which the API calls): only the loop can evaluate it.
    w.alarms.put_alarm(metric_alarm("Fast", Period=10, EvaluationPeriods=1))
    deadline = time.monotonic() + 5
    while w.scheduler.evaluations == before and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    evaluated_at = clock()
    stop.set()
    await asyncio.wait_for(task, 2)
    w.close()
    # The new alarm alone, for the 10 s boundary just passed, long before the minute.
    assert w.scheduler.evaluations == before + 1
    assert evaluated_at < minute - 30


def test_unused_clock_is_not_read_by_tick(tmp_path: Path) -> None:
    class Exploding(FakeClock):
        armed = False

        def __call__(self) -> float:
            assert not self.armed, "tick read the clock"
            return self.now

    w = open_world(tmp_path)
    clock = Exploding()
    scheduler = AlarmScheduler(w.alarms, w.metrics, w.topics, clock)
    w.alarms.put_alarm(metric_alarm("Errors"))
    clock.armed = True
    scheduler.tick(T0 + 1)
    assert _state(w, "Errors") == "OK"
    w.close()
