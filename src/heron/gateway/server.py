"""Run an ASGI app under uvicorn in the current event loop, with a handle to await and stop it.

Settings are the ones the gateway is measured with: httptools (each response written in one
system call: ``http_protocol``), the sans-I/O ``websockets`` implementation (trimmed for idle
sockets: ``ws_protocol``), no per-message deflate (about 13 KiB per idle socket instead of about
46 KiB), no server-initiated pings (API Gateway sends none; the idle timeout reaps dead
sockets), lifespan on, a 4096 backlog, and a maximum WebSocket message of 128 KB so larger
messages are refused with close code 1009 before they are buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import uvicorn

from heron.errors import ConfigError
from heron.gateway.http_protocol import CoalescingHttpProtocol
from heron.gateway.ws_protocol import LeanWebSocketProtocol
from heron.wakeups import IDLE_WAKE_S, Wakeable


class _Connections(set[Any]):
    """uvicorn's set of open connections, calling ``on_first`` when one opens in an empty set."""

    def __init__(self, on_first: Callable[[], None]) -> None:
        super().__init__()
        self._on_first = on_first

    def add(self, connection: Any) -> None:
        """Add ``connection``; the first of an empty set calls ``on_first``."""
        was_empty = not self
        super().add(connection)
        if was_empty:
            self._on_first()


class QuietServer(uvicorn.Server):
    """uvicorn's server ticking once a second instead of ten times (once every ``IDLE_WAKE_S``
    with no connection open), still stopping at once.

    uvicorn wakes every 100 ms only to refresh the Date header (once a second) and to notice
    ``should_exit``; two servers doing that were a third of Heron's idle CPU. Here the tick
    sleeps until the next whole second of the loop's clock (where the other periodic tasks wake
    too, see ``heron.wakeups``), or the next ``IDLE_WAKE_S`` mark while no connection is open,
    or until ``should_exit`` is set. The first connection after a quiet spell refreshes the
    Date header at once and brings the tick back to every second.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        self._wake = Wakeable()
        self._exit_requested = False
        super().__init__(config)
        self.server_state.connections = _Connections(self._first_connection)

    def _first_connection(self) -> None:
        # What uvicorn's tick does each second, so the first response after a quiet spell
        # does not carry a Date up to IDLE_WAKE_S old.
        date = formatdate(time.time(), usegmt=True).encode()
        dated = [(b"date", date)] if self.config.date_header else []
        self.server_state.default_headers = dated + self.config.encoded_headers
        self._wake.wake()

    @property
    def should_exit(self) -> bool:
        """Whether the server should stop (setting it wakes the tick at once)."""
        return self._exit_requested

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit_requested = value
        if value:
            self._wake.wake()

    async def main_loop(self) -> None:
        """Tick once a second (each tick refreshes the Date header) until asked to exit."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864_000  # a multiple of 10: every tick is a "second" tick
            await self._wake.sleep_on_grid(1.0 if self.server_state.connections else IDLE_WAKE_S)
            should_exit = await self.on_tick(counter)


class ServerHandle:
    """A running uvicorn server: ``started`` is set once it listens; ``stop()`` shuts it down."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.server = server
        self.task = task
        self.started = asyncio.Event()

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        for listener in self.server.servers:
            for sock in listener.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("server is not listening")

    @property
    def host(self) -> str:
        """The host the server was asked to bind."""
        return str(self.server.config.host)

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    async def wait(self) -> None:
        """Wait until the server exits (for ``heron up``)."""
        await self.task

    async def stop(self) -> None:
        """Ask the server to exit (closing sockets, running lifespan shutdown) and wait for it."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    http: str | type[asyncio.Protocol] = CoalescingHttpProtocol,
    ws: str | type[asyncio.Protocol] = LeanWebSocketProtocol,
    ws_max_size: int = 128 * 1024,
    ws_ping_interval: float | None = None,
    backlog: int = 4096,
    log_level: str = "warning",
    install_signal_handlers: bool = False,
    startup_timeout_s: float = 10.0,
) -> ServerHandle:
    """Start ``app`` on ``host:port`` (0 picks a free port) and return once it is listening."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http,
        ws=ws,
        ws_max_size=ws_max_size,
        ws_per_message_deflate=False,
        ws_ping_interval=ws_ping_interval,
        ws_ping_timeout=None,
        lifespan="on",
        log_level=log_level,
        backlog=backlog,
        access_log=False,
        proxy_headers=False,  # nothing sits in front locally; also one frame less per socket
        timeout_graceful_shutdown=5,
    )
    sock = _bind(host, port)
    server = QuietServer(config)
    if not install_signal_handlers:
        # The caller (``heron up`` or a test) owns signal handling; uvicorn must not replace it.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit:
            # uvicorn calls sys.exit when lifespan startup fails; inside a task that would
            # escape to the event loop, so it becomes an ordinary error here.
            raise RuntimeError(f"server on {host}:{port} failed to start") from None
        finally:
            sock.close()

    task = asyncio.create_task(run())
    handle = ServerHandle(server, task)
    deadline = asyncio.get_running_loop().time() + startup_timeout_s
    while not server.started:
        if task.done():
            exc = task.exception()
            raise ConfigError(f"server failed to start on {host}:{port}: {exc or 'exited'}")
        if asyncio.get_running_loop().time() > deadline:
            await handle.stop()
            raise ConfigError(f"server did not start on {host}:{port} in {startup_timeout_s} s")
        await asyncio.sleep(0.01)
    handle.started.set()
    return handle


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so a busy port is a clear error, not sys.exit."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from None
    sock.set_inheritable(True)
    return sock
