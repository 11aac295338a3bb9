"""uvicorn's httptools protocol, writing each response's head and body in one system call.

uvicorn writes ``http.response.start`` (status line and headers) and ``http.response.body`` to
the socket separately; on loopback each ``send()`` costs a system call and wakes the client, and
under ``GET /users/{id}`` load those two writes were about a fifth of the gateway event loop's
samples (py-spy, ``bench/get_user_throughput.py --profile``). Here each request's cycle writes
through a small coalescer: an odd write waits until the next one (which goes out together with
it) or until the end of the current event-loop iteration, whichever comes first. Order is
unchanged, nothing waits longer than one loop iteration, and everything else is uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingWrites:
    """Stands in for the transport in a request cycle: pairs writes, delegates everything else."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: bytes | None = None

    def write(self, data: bytes) -> None:
        """Send ``data`` with the write before it, or hold it until the next one or the loop's
        next iteration."""
        pending = self._pending
        if pending is None:
            self._pending = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._pending = None
            self._transport.write(pending + data)

    def flush(self) -> None:
        """Send a held write now."""
        pending = self._pending
        if pending is not None:
            self._pending = None
            self._transport.write(pending)

    def close(self) -> None:
        """Send a held write, then close the transport."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """The transport's ``is_closing``."""
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose request cycles write through ``CoalescingWrites``."""

    _writes: CoalescingWrites | None = None

    def on_headers_complete(self) -> None:
        """uvicorn's, then point a newly created cycle at the coalescer (before its task runs)."""
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not previous:
            if self._writes is None:
                self._writes = CoalescingWrites(self.transport, self.loop)
            cycle.transport = self._writes  # type: ignore[assignment]

    def send_400_response(self, msg: str) -> None:
        """uvicorn's, after any held write (so responses stay in order)."""
        self._flush()
        super().send_400_response(msg)

    def shutdown(self) -> None:
        """uvicorn's, after any held write."""
        self._flush()
        super().shutdown()

    def _flush(self) -> None:
        if self._writes is not None:
            self._writes.flush()
