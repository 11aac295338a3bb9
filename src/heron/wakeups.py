"""Periodic loops that wake together: each sleeps to the next multiple of its interval.

An idle ``heron up`` spends its CPU on waking up, not on the work it wakes for: on this kind
of virtual machine a wake-up after a quiet spell (cold caches, a vCPU that must be scheduled
again) costs about 0.5-1 ms, while uvicorn's Date tick or an empty telemetry hand-over is a few
microseconds of Python. The event loop's periodic tasks (uvicorn's tick, the gateway's
housekeeping, the runtime's metric flush, the notifier's poll) therefore sleep to shared
deadlines, whole multiples of their interval on the event loop's monotonic clock, so that one
wake-up serves all of them instead of one each (bench/README.md, figure 7b).
"""

from __future__ import annotations

import asyncio


def delay_to_next(now: float, interval_s: float) -> float:
    """Seconds from ``now`` to the next whole multiple of ``interval_s``: in (0, interval_s]."""
    if interval_s <= 0:
        raise ValueError(f"interval must be positive, got {interval_s!r}")
    return interval_s - now % interval_s


def delay_on_grid(interval_s: float) -> float:
    """``delay_to_next`` from the running event loop's clock (call inside a coroutine)."""
    return delay_to_next(asyncio.get_running_loop().time(), interval_s)


async def sleep_on_grid(interval_s: float) -> None:
    """Sleep until the event loop clock's next whole multiple of ``interval_s``."""
    await asyncio.sleep(delay_on_grid(interval_s))
