"""Shared wake-up deadlines (the next whole multiple of an interval), and sleeps a wake-up cuts
short."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.wakeups import Wakeable, delay_to_next


@given(
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.sampled_from([0.02, 0.25, 1.0, 60.0]),
)
def test_the_delay_lands_on_the_next_multiple_of_the_interval(now: float, interval: float) -> None:
    delay = delay_to_next(now, interval)
    assert 0 < delay <= interval
    steps = (now + delay) / interval
    assert math.isclose(steps, round(steps), abs_tol=1e-6)
    assert round(steps) * interval > now - 1e-9


def test_on_a_multiple_the_delay_is_a_whole_interval_and_tasks_share_deadlines() -> None:
    assert delay_to_next(10.0, 0.25) == 0.25
    assert 3.3 + delay_to_next(3.3, 1.0) == pytest.approx(4.0)
    assert 3.8 + delay_to_next(3.8, 0.25) == pytest.approx(4.0)  # the 0.25 s grid holds 4.0 too


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        delay_to_next(1.0, 0)


def test_a_wake_ends_the_sleep_in_progress_at_once() -> None:
    async def scenario() -> tuple[bool, float]:
        sleeper = Wakeable()
        asyncio.get_running_loop().call_later(0.05, sleeper.wake)
        began = time.monotonic()
        woken = await sleeper.sleep(30.0)
        return woken, time.monotonic() - began

    woken, took = asyncio.run(scenario())
    assert woken and took < 5.0


def test_an_unwoken_sleep_lasts_its_delay_and_says_so() -> None:
    async def scenario() -> tuple[bool, float, bool]:
        sleeper = Wakeable()
        began = time.monotonic()
        woken = await sleeper.sleep(0.1)
        took = time.monotonic() - began
        on_grid = await sleeper.sleep_on_grid(0.05)
        return woken, took, on_grid

    woken, took, on_grid = asyncio.run(scenario())
    assert not woken and not on_grid and took >= 0.09


def test_a_wake_between_sleeps_ends_the_next_one_once() -> None:
    async def scenario() -> list[bool]:
        sleeper = Wakeable()
        sleeper.wake()  # while the loop it wakes is busy elsewhere (a tick in a thread)
        sleeper.wake()  # two wakes before a sleep are one
        return [await sleeper.sleep(30.0), await sleeper.sleep(0.05)]

    assert asyncio.run(scenario()) == [True, False]


def test_a_woken_sleep_leaves_no_timer_behind() -> None:
    async def scenario() -> int:
        sleeper = Wakeable()
        loop = asyncio.get_running_loop()
        loop.call_soon(sleeper.wake)
        assert await sleeper.sleep(3600.0)
        # asyncio's own loop keeps its timers in ``_scheduled``; a cancelled one is marked.
        scheduled = loop._scheduled  # type: ignore[attr-defined]
        return sum(1 for handle in scheduled if not handle.cancelled())

    loop = asyncio.new_event_loop()  # the standard loop, whose timers the test can see
    try:
        assert loop.run_until_complete(scenario()) == 0
    finally:
        loop.close()


def test_a_wake_just_after_the_timer_fired_is_kept_for_the_next_sleep() -> None:
    async def scenario() -> list[bool]:
        sleeper = Wakeable()
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(sleeper.sleep(0.05))
        await asyncio.sleep(0)  # the sleep has begun and set its timer
        loop.call_later(0.05, sleeper.wake)  # due with that timer, before the sleeper resumes
        return [await first, await sleeper.sleep(30.0)]

    assert asyncio.run(scenario()) == [False, True]
