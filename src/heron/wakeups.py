"""Periodic loops that wake together: each sleeps to the next multiple of its interval.

An idle ``heron up`` spends its CPU on waking up, not on the work it wakes for: on this kind
of virtual machine a wake-up after a quiet spell (cold caches, a vCPU that must be scheduled
again) costs about 0.5-1 ms, while uvicorn's Date tick or an empty telemetry hand-over is a few
microseconds of Python. The event loop's periodic tasks (uvicorn's tick, the gateway's
housekeeping, the runtime's metric flush, the notifier's poll) therefore sleep to shared
deadlines, whole multiples of their interval on the event loop's monotonic clock, so that one
wake-up serves all of them instead of one each (bench/README.md, figure 7b).

With nothing to do they sleep longer still: ``IDLE_WAKE_S``, on the same grid, and whatever
gives them work (a connection, a request, an invocation, a publish) wakes them early through a
``Wakeable``. An idle ``heron up`` then wakes once every ``IDLE_WAKE_S`` instead of every second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

#: How long the event loop's periodic tasks sleep while they have nothing to do.
IDLE_WAKE_S = 10.0


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


def _resolve(waiter: asyncio.Future[bool], woken: bool) -> None:
    if not waiter.done():
        waiter.set_result(woken)


class Wakeable:
    """A sleep that ``wake()`` cuts short, for loops that wait for "this event or the next tick".

    It costs one timer and one future per sleep. ``asyncio.wait_for(event.wait(), timeout)``
    costs a task, its cancellation at the timeout and two more passes of the event loop, and an
    idle ``heron up`` paid that several times a second (see the module docstring).
    """

    def __init__(self) -> None:
        self._waiter: asyncio.Future[bool] | None = None
        self._woken = False

    def wake(self) -> None:
        """End the sleep in progress, or else the next one at once (call on the loop's thread)."""
        if self._waiter is None or self._waiter.done():  # awake, or its timer has just fired
            self._woken = True
        else:
            self._waiter.set_result(True)

    async def sleep(self, delay_s: float) -> bool:
        """Sleep ``delay_s`` seconds unless woken first; True when woken."""
        if self._woken:
            self._woken = False
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(delay_s, _resolve, waiter, False)
        self._waiter = waiter
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def threadsafe_wake(self) -> Callable[[], None]:
        """``wake`` for other threads, bound to the running loop (a no-op once it is closed)."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # after shutdown the loop is gone
                loop.call_soon_threadsafe(self.wake)

        return wake

    @contextlib.contextmanager
    def woken_by(self, stop: asyncio.Event) -> Iterator[None]:
        """Within the block, ``stop`` being set wakes the sleeper (use inside a coroutine)."""
        stopping = asyncio.ensure_future(stop.wait())
        stopping.add_done_callback(lambda _: self.wake())
        try:
            yield
        finally:
            stopping.cancel()

    async def sleep_on_grid(self, interval_s: float) -> bool:
        """Sleep to the next whole multiple of ``interval_s`` unless woken first; True when woken."""
        return await self.sleep(delay_on_grid(interval_s))
