"""Open-loop rate control, with trivial jobs so only the schedule is measured."""

from __future__ import annotations

import asyncio
import time

import pytest

from heron.load.schedule import every, planned_jobs, run_open_loop


def test_planned_jobs_is_bounded_by_rate_and_duration() -> None:
    assert planned_jobs(50, 2) == 100
    assert planned_jobs(3, 0.5) == 2
    assert planned_jobs(0.1, 1) == 1


async def test_jobs_launch_on_schedule_even_when_earlier_ones_are_slow() -> None:
    launched: list[float] = []

    async def slow_job() -> None:
        launched.append(time.monotonic())
        await asyncio.sleep(0.3)  # far longer than the 25 ms between launches

    start = time.monotonic()
    result = await run_open_loop(
        slow_job, rate=40, duration_s=0.5, max_in_flight=100, clock=time.monotonic, grace_s=1
    )
    assert (result.scheduled, result.skipped, result.unfinished) == (20, 0, 0)
    assert len(launched) == 20
    # Open loop: the i-th job starts on its own schedule, not after the previous one finished:
    # run one after another, the launches would span 19 * 0.3 s. (Loose bounds: CI is busy.)
    assert launched[-1] - start < 19 * 0.3 / 2
    assert result.elapsed_s < 19 * 0.3 / 2


async def test_achieved_rate_is_close_to_target() -> None:
    done = 0

    async def job() -> None:
        nonlocal done
        done += 1

    result = await run_open_loop(
        job, rate=500, duration_s=1.0, max_in_flight=1000, clock=time.monotonic, grace_s=1
    )
    assert result.scheduled == done == 500
    # Rate control without timing the machine: every job ran, none skipped, within ~2x duration.
    assert result.skipped == 0 and result.elapsed_s < 2.0


async def test_jobs_due_at_the_in_flight_cap_are_skipped() -> None:
    async def stuck() -> None:
        await asyncio.sleep(10)

    result = await run_open_loop(
        stuck, rate=50, duration_s=0.4, max_in_flight=5, clock=time.monotonic, grace_s=0.05
    )
    assert result.scheduled == 20
    assert result.skipped == 15
    assert result.unfinished == 5  # cancelled after the grace period
    assert result.elapsed_s < 2.0


async def test_every_repeats_until_cancelled() -> None:
    calls = 0

    def tick() -> None:
        nonlocal calls
        calls += 1

    task = asyncio.create_task(every(0.05, tick))
    await asyncio.sleep(0.28)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 2 <= calls <= 6
