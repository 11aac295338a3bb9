"""Server-sent events: one shared snapshot loop that runs only while a page listens.

``Broadcaster`` computes a snapshot (in a worker thread) about once a second while at least one
subscriber is connected and hands the same encoded bytes to every subscriber; with no page open
it does no work at all. It also accounts the CPU its computations cost, which the dashboard
reports so the "cost per open dashboard" can be checked on a live system.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

log = logging.getLogger(__name__)

#: Response headers of every SSE stream: never cached, never buffered by a proxy.
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
#: A comment line sent when nothing else was, so proxies keep the stream open.
KEEPALIVE_S = 15.0


def sse_event(event: str, data: Any) -> bytes:
    """One SSE message: ``event:`` line, a single ``data:`` line of compact JSON, blank line."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Broadcaster:
    """Shares one periodically computed snapshot among all subscribers."""

    def __init__(
        self,
        compute: Callable[[], Any],
        *,
        event: str = "snapshot",
        interval_s: float = 1.0,
    ) -> None:
        self._compute = compute
        self._event = event
        self._interval = interval_s
        self._queues: set[asyncio.Queue[bytes | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # The latest snapshot and when it was computed (monotonic): a page that opens between
        # two ticks gets it at once instead of waiting up to a whole interval.
        self._last: tuple[float, bytes] | None = None
        self.cpu_s = 0.0  # thread CPU time spent computing snapshots
        self.active_s = 0.0  # wall time the loop ran with subscribers
        self.snapshots = 0

    @property
    def subscribers(self) -> int:
        """How many streams are open."""
        return len(self._queues)

    def stats(self) -> dict[str, float]:
        """The loop's cost so far: CPU seconds, active seconds, their ratio and snapshot count."""
        share = self.cpu_s / self.active_s if self.active_s else 0.0
        return {
            "cpuSeconds": round(self.cpu_s, 4),
            "activeSeconds": round(self.active_s, 2),
            "cpuShare": round(share, 5),
            "snapshots": self.snapshots,
            "subscribers": self.subscribers,
        }

    async def stream(self) -> AsyncIterator[bytes]:
        """Encoded SSE messages for one subscriber until it leaves or the broadcaster closes."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            yield b"retry: 2000\n\n"
            last = self._last
            if last is not None and time.monotonic() - last[0] <= 2 * self._interval:
                yield last[1]
            while not self._closed:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                if item is None:
                    return
                yield item
        finally:
            self._queues.discard(queue)

    def _timed_compute(self) -> tuple[Any, float]:
        start = time.thread_time()
        value = self._compute()
        return value, time.thread_time() - start

    async def _run(self) -> None:
        while self._queues and not self._closed:
            started = time.monotonic()
            try:
                value, cpu = await asyncio.to_thread(self._timed_compute)
                payload = sse_event(self._event, value)
                self.cpu_s += cpu
                self.snapshots += 1
                self._last = (time.monotonic(), payload)
            except Exception:  # a failing snapshot must not end the stream; the next one retries
                log.exception("dashboard snapshot failed")
                payload = sse_event("problem", {"message": "the snapshot could not be computed"})
            for queue in list(self._queues):
                _offer(queue, payload)
            delay = max(0.0, self._interval - (time.monotonic() - started))
            await asyncio.sleep(delay)
            self.active_s += time.monotonic() - started

    async def close(self) -> None:
        """End every stream and the loop (on shutdown)."""
        self._closed = True
        for queue in list(self._queues):
            _offer(queue, None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def _offer(queue: asyncio.Queue[bytes | None], item: bytes | None) -> None:
    """Put ``item``, dropping a stale one a slow subscriber has not taken yet."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(item)
