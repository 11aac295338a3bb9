"""Python HTTP load clients over raw asyncio sockets with keep-alive (no HTTP library overhead).

``closed_loop`` keeps ``connections`` requests in flight (wrk's model, the fallback when wrk is
missing). ``open_loop`` sends requests at a fixed rate whatever the service does, and measures
each latency from the moment the request was *due*, so a stalled client or server shows up as
latency instead of a lowered rate (no coordinated omission). Both are bounded in count and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"

#: Builds the bytes of the n-th request (method line, headers, body).
RequestFactory = Callable[[int], bytes]


def request_bytes(
    method: str, path: str, port: int, headers: dict[str, str], body: bytes = b""
) -> bytes:
    """One HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length framed, as the gateway always sends); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length:
        await reader.readexactly(length)
    return status


@dataclass
class LoadResult:
    """Outcome of a load run: latencies (s) of completed requests and status counts."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    #: Requests resent on a fresh socket because an idle keep-alive one had been closed.
    reconnects: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> int:
        """Completed 2xx responses."""
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def completed(self) -> int:
        """Completed responses of any status."""
        return sum(self.statuses.values())


async def closed_loop(
    port: int, make: RequestFactory, *, connections: int, duration_s: float, max_requests: int
) -> LoadResult:
    """Keep ``connections`` keep-alive requests in flight for ``duration_s`` (or ``max_requests``)."""
    result = LoadResult()
    counter = iter(range(max_requests))
    start = time.perf_counter()
    deadline = start + duration_s

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                n = next(counter, None)
                if n is None:
                    return
                sent = time.perf_counter()
                writer.write(make(n))
                try:
                    status = await asyncio.wait_for(read_response(reader), 10.0)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    result.errors += 1
                    return
                result.latencies.append(time.perf_counter() - sent)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)), return_exceptions=True)
    result.elapsed_s = time.perf_counter() - start
    return result


async def open_loop(
    port: int, make: RequestFactory, *, rate: float, duration_s: float, max_connections: int
) -> LoadResult:
    """Send ``make(i)`` at ``start + i / rate`` for ``duration_s``; latency from the due time.

    At most ``max_connections`` requests are in flight (one per connection); a request due while
    all are busy is not sent and counts as ``skipped``.
    """
    result = LoadResult()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    open_count = 0
    # Counted when a request is scheduled (not when its task first runs), so a burst of due
    # requests after a stall cannot open more than ``max_connections`` sockets.
    in_flight = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(n: int, due: float) -> None:
        nonlocal in_flight
        try:
            await exchange(n, due)
        finally:
            in_flight -= 1

    async def exchange(n: int, due: float) -> None:
        nonlocal open_count
        # A keep-alive socket the server closed while it sat idle (uvicorn closes them after
        # 5 s) fails on first reuse; like urllib3 or httpx, retry once on a fresh socket.
        for reused in (bool(idle), False):
            if reused:
                reader, writer = idle.pop()
            else:
                open_count += 1
                try:
                    reader, writer = await asyncio.open_connection(HOST, port)
                except OSError:
                    open_count -= 1
                    result.errors += 1
                    return
            try:
                writer.write(make(n))
                status = await asyncio.wait_for(read_response(reader), 10.0)
                break
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
                open_count -= 1
                writer.close()
                if reused and not isinstance(exc, TimeoutError):
                    result.reconnects += 1
                    continue
                result.errors += 1
                return
        else:
            return
        result.latencies.append(time.perf_counter() - due)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        idle.append((reader, writer))

    start = time.perf_counter()
    total = int(rate * duration_s)
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= max_connections:
            result.skipped += 1
            continue
        in_flight += 1
        task = asyncio.create_task(one(n, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks), timeout=15.0)
    for task in list(tasks):
        task.cancel()
    result.elapsed_s = time.perf_counter() - start
    for _, writer in idle:
        with contextlib.suppress(Exception):
            writer.close()
    return result
