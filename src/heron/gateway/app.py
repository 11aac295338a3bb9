"""``create_app``: the gateway as one Starlette ASGI app (HTTP API, WebSocket API, @connections).

The application port serves exactly what API Gateway would: the functions' HTTP routes, the
WebSocket API at ``config.ws_path``, and the @connections management API. A lifespan task
flushes telemetry, re-emits the ActiveConnections gauge, and closes idle or too-old sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from heron.errors import ConfigError
from heron.gateway.authorizer import Authorizer, AuthorizerCache
from heron.gateway.config import GatewayConfig
from heron.gateway.connections import GOING_AWAY, ConnectionRegistry
from heron.gateway.emitter import TelemetryBuffer
from heron.gateway.gc_freeze import GcFreezer
from heron.gateway.http_api import HttpApi
from heron.gateway.management_api import ManagementApi, parse_management_path
from heron.gateway.routes import RouteTable
from heron.gateway.websocket_api import WebSocketApi
from heron.runtime.invoker import CallServer, Invoker
from heron.types import Clock, FunctionSpec, TelemetrySink
from heron.wakeups import IDLE_WAKE_S, Wakeable, delay_on_grid, sleep_on_grid

logger = logging.getLogger(__name__)


class Gateway:
    """The gateway's parts and its periodic housekeeping; ``app.state.gateway`` holds one."""

    def __init__(
        self,
        functions: Sequence[FunctionSpec],
        invoker: Invoker,
        sink: TelemetrySink,
        config: GatewayConfig,
        clock: Clock,
    ) -> None:
        self.config = config
        self.clock = clock
        self.telemetry = TelemetryBuffer(sink, clock=clock)
        self.registry = ConnectionRegistry()
        names = {spec.name for spec in functions}
        needs_authorizer = any(spec.authorized and spec.http_routes for spec in functions)
        authorizer: Authorizer | None = None
        if needs_authorizer:
            if config.authorizer_function not in names:
                raise ConfigError(
                    f"HTTP routes are declared authorized but no function named "
                    f"{config.authorizer_function!r} (the Lambda authorizer) is declared"
                )
            cache = AuthorizerCache(config.authorizer_cache_ttl_s, config.authorizer_cache_size)
            authorizer = Authorizer(
                config.authorizer_function, invoker, cache, config.authorizer_timeout_s, clock
            )
        self.http = HttpApi(
            RouteTable(functions), invoker, config, clock, self.telemetry, authorizer
        )
        self.websocket = WebSocketApi(
            functions, invoker, config, clock, self.telemetry, self.registry
        )
        self.management = ManagementApi(config, self.registry, clock, self.telemetry)
        if isinstance(invoker, CallServer):
            # Heron's own environments reach @connections over their pipe, not over HTTP.
            invoker.serve_calls("connections", self.management.answer_call)
        self._last_gauge = clock()
        self._last_sweep = clock()
        #: Keeps the objects of many idle sockets out of full collections (see ``gc_freeze``).
        self.gc = GcFreezer()
        self._activity = Wakeable()
        self.telemetry.on_first_log = self._activity.wake

    async def http_endpoint(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Dispatch an HTTP request to @connections or to the HTTP API."""
        connection_id = parse_management_path(scope.get("path", ""), self.config.ws_stage)
        if connection_id is not None:
            await self.management(scope, receive, send, connection_id)
        else:
            await self.http(scope, receive, send)

    def flush_telemetry(self) -> None:
        """Hand buffered access-log records and all aggregated metrics to the sink now."""
        self.telemetry.flush()

    @property
    def tick_interval_s(self) -> float:
        """How often housekeeping runs: often enough for the flush interval and the timeouts."""
        shortest = min(self.config.ws_idle_timeout_s, self.config.ws_max_connection_s)
        return max(0.02, min(self.config.telemetry_flush_interval_s, shortest / 10.0))

    async def tick(self, now: float) -> None:
        """One round of housekeeping at time ``now``: expire sockets, gauge, flush."""
        config = self.config
        # Sweep at a tenth of the shortest timeout (at most every 5 s): a socket is closed no
        # later than 10% after its deadline without a timer per connection.
        sweep_every = min(5.0, min(config.ws_idle_timeout_s, config.ws_max_connection_s) / 10.0)
        if now - self._last_sweep >= sweep_every:
            self._last_sweep = now
            for connection in self.registry.expired(
                now, config.ws_idle_timeout_s, config.ws_max_connection_s
            ):
                await connection.close(GOING_AWAY, "Going away")
        if now - self._last_gauge >= config.gauge_interval_s:
            self._last_gauge = now
            self.websocket.metrics.active_connections(len(self.registry), now)
        self.gc.update(len(self.registry), self.registry.removed)
        self.telemetry.tick(now)

    async def run_housekeeping(self) -> None:
        """Run ``tick`` forever at ``tick_interval_s`` (while idle, every ``IDLE_WAKE_S`` and
        when the gauge is due); errors are logged, never fatal."""
        while True:
            if self.telemetry.pending or len(self.registry):
                await sleep_on_grid(self.tick_interval_s)  # with the other periodic tasks
            else:
                # Idle: nothing to hand over, no socket to sweep. Tick with the other idle
                # tasks, when the gauge is due, or sooner when a request logs.
                gauge_due_s = self._last_gauge + self.config.gauge_interval_s - self.clock()
                delay = min(delay_on_grid(IDLE_WAKE_S), max(gauge_due_s, 0.0))
                if await self._activity.sleep(delay):
                    continue  # hand over at the next ordinary tick, as under traffic
            try:
                await self.tick(self.clock())
            except Exception:
                logger.exception("gateway housekeeping failed")


class GatewayApp(Starlette):
    """The Starlette app, with WebSocket upgrades on ``ws_path`` handed straight to the gateway.

    Skipping Starlette's middleware and router for sockets matters for memory: their coroutine
    frames would stay alive as long as each idle connection does. Plain HTTP requests skip them
    too (every path is the gateway's, and its handlers answer every error themselves): about 5 %
    of the event loop's time per request under GET load. Starlette still runs the lifespan.
    """

    def __init__(self, gateway: Gateway, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._websocket = gateway.websocket
        self._http = gateway.http_endpoint
        self._ws_path = gateway.config.ws_path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket" and scope.get("path") == self._ws_path:
            await self._websocket(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class _Endpoint:
    """Wraps a coroutine function as an ASGI app object (Starlette treats plain callables as
    request/response views, so the gateway's raw ASGI handlers go through this)."""

    __slots__ = ("_handler",)

    def __init__(self, handler: Any) -> None:
        self._handler = handler

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._handler(scope, receive, send)


def create_app(
    functions: Sequence[FunctionSpec],
    invoker: Invoker,
    sink: TelemetrySink,
    config: GatewayConfig | None = None,
    clock: Clock = time.time,
) -> Starlette:
    """Build the gateway ASGI app for ``functions``; raises ConfigError for bad declarations."""
    gateway = Gateway(functions, invoker, sink, config or GatewayConfig(), clock)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(gateway.run_housekeeping())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            gateway.flush_telemetry()
            gateway.gc.release()

    app = GatewayApp(
        gateway,
        routes=[
            WebSocketRoute(gateway.config.ws_path, _Endpoint(gateway.websocket)),
            Route("/{path:path}", _Endpoint(gateway.http_endpoint)),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
