"""The WebSocket API: ``$connect`` decides the upgrade, frames route by ``$request.body.action``.

Per connection the gateway keeps one small registry record and the server's own ASGI task; each
incoming message is handled in a short-lived task so a slow function does not stall the socket
(AWS invokes per message, without per-connection ordering). Every route is treated as having a
route response: a returned ``body`` goes back to the client as a frame.

Deviations from AWS, each forced by the ASGI boundary:
- The server reassembles fragmented messages before the app sees them, so the 32 KB frame limit
  is applied to whole messages (a 100 KB message sent as four 25 KB frames is refused here,
  accepted by AWS). The 128 KB message limit is also enforced by the server (``ws_max_size``).
- Header names reach the app lower-cased; CONNECT events re-case well-known ones
  (``Sec-WebSocket-Key``) and title-case the rest.
- A ``$connect`` result without ``statusCode`` accepts the connection.

Memory (``tests/gateway/ws_memory_probe.py``, 3,000 idle sockets, no deflate): 12.5 KiB per
connection with the gateway's trimmed protocol (``ws_protocol.LeanWebSocketProtocol``), 19.4 KiB
with uvicorn's websockets-sansio as it ships; the gateway's own records are ≈ 1.5 KiB of that.
Under ``heron up`` with 10,000 sockets: 13.2 KiB (``bench/websocket_connections.py``). Their
objects are kept out of full garbage collections by ``gc_freeze``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import orjson

from heron.errors import ConfigError, FunctionNotFoundError, TooManyRequestsError
from heron.gateway import access_log
from heron.gateway.api_metrics import WebSocketMetrics
from heron.gateway.config import GatewayConfig
from heron.gateway.connections import MESSAGE_TOO_BIG, Connection, ConnectionRegistry
from heron.gateway.emitter import TelemetryBuffer
from heron.gateway.formats import epoch_ms, new_id
from heron.gateway.throttle import Throttle
from heron.gateway.ws_events import (
    CONNECT_ROUTE,
    DISCONNECT_ROUTE,
    ConnectionFacts,
    connect_event,
    disconnect_event,
    message_event,
    select_route,
)
from heron.runtime.invoker import Invoker, InvokeResult
from heron.types import Clock, Event, FunctionSpec

logger = logging.getLogger(__name__)

NO_STATUS = 1005  # what a close frame without a status code is reported as


def ws_route_table(functions: Sequence[FunctionSpec]) -> dict[str, str]:
    """WebSocket route key → function name; ConfigError when two functions claim one key."""
    table: dict[str, str] = {}
    for spec in functions:
        for key in spec.ws_routes:
            if not key:
                raise ConfigError(f"empty WebSocket route key on {spec.name}")
            if key in table:
                raise ConfigError(
                    f"WebSocket route {key!r} is declared by both {table[key]} and {spec.name}"
                )
            table[key] = spec.name
    return table


class WebSocketApi:
    """ASGI app for the WebSocket endpoint."""

    def __init__(
        self,
        functions: Sequence[FunctionSpec],
        invoker: Invoker,
        config: GatewayConfig,
        clock: Clock,
        telemetry: TelemetryBuffer,
        registry: ConnectionRegistry,
    ) -> None:
        self.routes = ws_route_table(functions)
        self.invoker = invoker
        self.config = config
        self.clock = clock
        self.telemetry = telemetry
        self.registry = registry
        rate = config.ws_new_connections_per_s
        self.connect_throttle = Throttle(rate, max(rate, 1.0), clock())
        self._tasks: set[asyncio.Task[None]] = set()
        self.metrics = WebSocketMetrics(
            telemetry.aggregator,
            config.ws_api_id,
            config.ws_stage,
            detailed=config.ws_detailed_metrics,
        )

    # -- connection lifecycle -------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        opened = await self._open(scope, receive, send)
        if opened is None:
            return
        connection, facts = opened
        code, reason = NO_STATUS, ""
        try:
            code, reason = await self._receive_loop(connection, facts, receive)
        finally:
            # Runs on cancellation too (server shutdown), so the registry never keeps a dead id.
            self.registry.remove(connection.connection_id)
            self._gauge(self.clock())
        await self._disconnected(facts, code, reason)

    async def _open(
        self, scope: dict[str, Any], receive: Any, send: Any
    ) -> tuple[Connection, ConnectionFacts] | None:
        """Run the handshake and ``$connect``; the accepted connection, or None if refused.

        A separate coroutine so the CONNECT event and headers are garbage once it returns: the
        frame of ``__call__`` lives as long as the socket, and idle sockets must stay small.
        """
        first = await receive()
        if first["type"] != "websocket.connect":
            return None
        started = time.perf_counter()
        now = self.clock()
        request_id = new_id()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        lookup = {k.lower(): v for k, v in headers}
        client = scope.get("client")
        facts = ConnectionFacts(
            api_id=self.config.ws_api_id,
            stage=self.config.ws_stage,
            domain_name=self.config.domain_name or lookup.get("host") or "localhost",
            connection_id=new_id(),
            connected_at_ms=epoch_ms(now),
            source_ip=client[0] if client else "127.0.0.1",
            user_agent=lookup.get("user-agent"),
        )
        if not self.connect_throttle.allow(now):
            await _deny(scope, send, HTTPStatus.TOO_MANY_REQUESTS)
            self._emit(CONNECT_ROUTE, [("ClientError", 1.0), ("ConnectionErrors", 1.0)], now)
            self._log(request_id, facts, "CONNECT", 429, now, started)
            return None
        event = connect_event(
            facts, headers, scope.get("query_string", b"").decode("latin-1"), request_id, now
        )
        status, values = await self._connect(event)
        if not 200 <= status < 300:
            await _deny(scope, send, status)
            self._emit(CONNECT_ROUTE, [*values, ("ConnectionErrors", 1.0)], now)
            self._log(request_id, facts, "CONNECT", status, now, started)
            return None
        await send({"type": "websocket.accept"})
        connection = Connection(facts.connection_id, send, now, facts.source_ip, facts.user_agent)
        self.registry.add(connection)
        self._emit(CONNECT_ROUTE, [*values, ("ConnectionErrors", 0.0)], now)
        self._gauge(now)
        self._log(request_id, facts, "CONNECT", status, now, started)
        return connection, facts

    async def _connect(self, event: Event) -> tuple[int, list[tuple[str, float]]]:
        """Run ``$connect`` (if declared): the HTTP status for the upgrade and the metrics."""
        function = self.routes.get(CONNECT_ROUTE)
        if function is None:
            return 200, []  # no $connect route: AWS accepts every connection
        outcome = await self._invoke(function, event)
        values: list[tuple[str, float]] = [("ConnectCount", 1.0), *outcome.values]
        if outcome.result is None or not outcome.result.ok:
            return outcome.status, values
        payload = outcome.result.payload
        if isinstance(payload, dict) and "statusCode" in payload:
            status = payload["statusCode"]
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                return 500, values
            return status, values
        return 200, values

    async def _receive_loop(
        self, connection: Connection, facts: ConnectionFacts, receive: Any
    ) -> tuple[int, str]:
        frame_limit = self.config.ws_frame_limit_bytes
        message_limit = self.config.ws_message_limit_bytes
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                if connection.close_code is not None:
                    return connection.close_code, connection.close_reason
                return int(message.get("code") or NO_STATUS), str(message.get("reason") or "")
            if kind != "websocket.receive":
                continue
            text: str | None = message.get("text")
            data: bytes | None = message.get("bytes")
            now = self.clock()
            if text is not None:
                # Cheap bound first: a str of n chars is at most 4n bytes of UTF-8.
                size = len(text) if len(text) * 4 <= frame_limit else len(text.encode())
            else:
                size = len(data or b"")
            # The ASGI server hands us whole messages, so a message is checked against both the
            # 32 KB frame limit and the 128 KB message limit (see the module's deviations note).
            if size > frame_limit or size > message_limit:
                self._emit(None, [("ClientError", 1.0)], now)
                await connection.close(MESSAGE_TOO_BIG, "Message too big")
                return MESSAGE_TOO_BIG, "Message too big"
            connection.last_active = now
            task = asyncio.create_task(self._on_message(connection, facts, text, data, now))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _disconnected(self, facts: ConnectionFacts, code: int, reason: str) -> None:
        started = time.perf_counter()
        now = self.clock()
        request_id = new_id()
        values: list[tuple[str, float]] = [("DisconnectCount", 1.0)]
        status = 200
        function = self.routes.get(DISCONNECT_ROUTE)
        if function is not None and not self.config.drop_disconnect_events:
            event = disconnect_event(facts, code, reason, request_id, now)
            outcome = await self._invoke(function, event)
            values.extend(outcome.values)
            status = outcome.status
        self._emit(DISCONNECT_ROUTE, values, now)
        self._log(request_id, facts, "DISCONNECT", status, now, started)

    # -- messages -------------------------------------------------------------------------

    async def _on_message(
        self,
        connection: Connection,
        facts: ConnectionFacts,
        text: str | None,
        data: bytes | None,
        now: float,
    ) -> None:
        started = time.perf_counter()
        request_id = new_id()
        route = select_route(text, self.routes)
        values: list[tuple[str, float]] = [("MessageCount", 1.0)]
        if route is None:
            await connection.send(_error_frame("Forbidden", facts, request_id), self.clock())
            self._emit(None, [*values, ("ClientError", 1.0)], now)
            self._log(request_id, facts, "MESSAGE", 403, now, started)
            return
        if text is not None:
            body, is_b64 = text, False
        else:
            body, is_b64 = base64.b64encode(data or b"").decode("ascii"), True
        event = message_event(facts, route, body, is_b64, request_id, new_id(), now)
        outcome = await self._invoke(self.routes[route], event)
        values.extend(outcome.values)
        status = outcome.status
        if outcome.result is None or not outcome.result.ok:
            message = "Endpoint request timed out" if status == 504 else "Internal server error"
            await connection.send(_error_frame(message, facts, request_id), self.clock())
        else:
            reply = _route_response(outcome.result.payload)
            if reply is not None and await connection.send(reply, self.clock()):
                values[0] = ("MessageCount", 2.0)  # the route response is a message too
        self._emit(route, values, now)
        self._log(request_id, facts, "MESSAGE", status, now, started)

    # -- integration ----------------------------------------------------------------------

    async def _invoke(self, function: str, event: Event) -> _Outcome:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.ws_integration_timeout_s):
                result = await self.invoker.invoke(function, event)
        except TimeoutError:
            return _Outcome(None, 504, _latency(started), execution_error=True)
        except (TooManyRequestsError, FunctionNotFoundError):
            return _Outcome(None, 500, _latency(started), execution_error=True)
        except Exception:
            logger.exception("invoking %s failed", function)
            return _Outcome(None, 500, _latency(started), execution_error=True)
        if result.error is not None:
            return _Outcome(result, 500, _latency(started), integration_error=True)
        status = _status_of(result.payload)
        return _Outcome(result, status, _latency(started), integration_error=status >= 400)

    # -- telemetry ------------------------------------------------------------------------

    def _emit(self, route: str | None, values: list[tuple[str, float]], now: float) -> None:
        self.metrics.record(route, values, now)

    def _gauge(self, now: float) -> None:
        self.metrics.active_connections(len(self.registry), now)

    def _log(
        self,
        request_id: str,
        facts: ConnectionFacts,
        event_type: str,
        status: int,
        now: float,
        started: float,
    ) -> None:
        record = access_log.ws_access_record(
            request_id=request_id,
            connection_id=facts.connection_id,
            event_type=event_type,
            time_s=now,
            status=status,
            latency_ms=_latency(started),
        )
        self.telemetry.log(
            access_log.to_log_event(self.config.ws_access_log_group, facts.stage, now, record)
        )


class _Outcome:
    """One integration call: the result (None when it could not be made), status and metrics."""

    __slots__ = ("result", "status", "values")

    def __init__(
        self,
        result: InvokeResult | None,
        status: int,
        latency_ms: float,
        *,
        integration_error: bool = False,
        execution_error: bool = False,
    ) -> None:
        self.result = result
        self.status = status
        self.values: list[tuple[str, float]] = [
            ("IntegrationLatency", latency_ms),
            ("IntegrationError", 1.0 if integration_error else 0.0),
            ("ExecutionError", 1.0 if execution_error else 0.0),
        ]


def _latency(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _status_of(payload: Any) -> int:
    if isinstance(payload, dict):
        status = payload.get("statusCode")
        if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599:
            return status
    return 200


def _route_response(payload: Any) -> str | bytes | None:
    """The frame a route response sends back: the returned ``body``, if any."""
    if not isinstance(payload, dict):
        return None
    body = payload.get("body")
    if body is None:
        return None
    text = body if isinstance(body, str) else orjson.dumps(body).decode()
    if payload.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
    return text


def _error_frame(message: str, facts: ConnectionFacts, request_id: str) -> str:
    """The JSON frame API Gateway sends a client when it cannot route or integrate a message."""
    return orjson.dumps(
        {"message": message, "connectionId": facts.connection_id, "requestId": request_id}
    ).decode()


async def _deny(scope: dict[str, Any], send: Any, status: int) -> None:
    """Refuse the upgrade with an HTTP status, or with close code 1008 if the server can't."""
    if "websocket.http.response" in scope.get("extensions", {}):
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        body = orjson.dumps({"message": phrase})
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
