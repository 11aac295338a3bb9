"""Open-loop rate control: launch jobs on a fixed schedule, never waiting for earlier ones.

The i-th job is due at ``start + i / rate``. A job that is due is launched even while others are
still running, so a slow service shows up as latency instead of as a politely lowered rate (the
"coordinated omission" of closed-loop load tools). In-flight jobs are capped: a job due while the
cap is reached is skipped and counted. The schedule is bounded in count (``ceil(rate *
duration)``) and in time (``duration``), and stragglers get ``grace_s`` before they are cancelled.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from heron.types import Clock


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """What the schedule did: jobs due, skipped at the cap, cancelled at the end, and time taken."""

    scheduled: int
    skipped: int
    unfinished: int
    elapsed_s: float


def planned_jobs(rate: float, duration_s: float) -> int:
    """How many jobs a schedule of ``rate`` per second over ``duration_s`` launches at most."""
    return math.ceil(rate * duration_s)


async def run_open_loop(
    job: Callable[[], Awaitable[None]],
    *,
    rate: float,
    duration_s: float,
    max_in_flight: int,
    clock: Clock,
    grace_s: float,
) -> ScheduleResult:
    """Launch ``job()`` at ``rate`` per second for ``duration_s``; return once all are done.

    ``job`` must not raise: it records its own failures.
    """
    in_flight: set[asyncio.Task[None]] = set()
    scheduled = skipped = 0

    async def launch() -> None:  # create_task needs a coroutine, job() may be any awaitable
        await job()

    start = clock()
    for i in range(planned_jobs(rate, duration_s)):
        now = clock()
        if now - start >= duration_s:
            break
        due = start + i / rate
        if due > now:
            await asyncio.sleep(due - now)
        scheduled += 1
        if len(in_flight) >= max_in_flight:
            skipped += 1
            continue
        task = asyncio.create_task(launch())
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    # Wait out the planned duration, then give stragglers their grace before cancelling them.
    remaining = duration_s - (clock() - start)
    if remaining > 0:
        await asyncio.sleep(remaining)
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=grace_s)
    elapsed = clock() - start
    unfinished = list(in_flight)
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*unfinished, return_exceptions=True)
    return ScheduleResult(scheduled, skipped, len(unfinished), elapsed)


async def every(interval_s: float, action: Callable[[], None]) -> None:
    """Call ``action`` every ``interval_s`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        action()
