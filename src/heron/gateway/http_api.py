"""The HTTP API: an ASGI endpoint that turns requests into 2.0 events and responses back.

Order of checks, as API Gateway applies them: request line + headers size (431), route (404),
stage throttle (429), body size (413), Lambda authorizer (401/403), then the integration with its
timeout (503). Every failure to get a valid response from the function is a 500
``Internal Server Error``; the reason goes to the access log's ``integrationError``, never to the
client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from heron.errors import FunctionNotFoundError, TooManyRequestsError
from heron.gateway import access_log
from heron.gateway.api_metrics import HttpMetrics
from heron.gateway.authorizer import IDENTITY_HEADER, Authorizer, AuthVerdict
from heron.gateway.config import GatewayConfig
from heron.gateway.emitter import TelemetryBuffer
from heron.gateway.formats import new_id
from heron.gateway.http_events import (
    EventContext,
    RequestParts,
    build_authorizer_event,
    build_http_event,
)
from heron.gateway.responses import (
    FORBIDDEN,
    HEADERS_TOO_LARGE,
    INTERNAL_ERROR,
    NOT_FOUND,
    SERVICE_UNAVAILABLE,
    TOO_LARGE,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
    HttpResponse,
    MalformedResponseError,
    map_lambda_response,
)
from heron.gateway.routes import RouteMatch, RouteTable
from heron.gateway.throttle import Throttle
from heron.runtime.invoker import Invoker
from heron.types import Clock

logger = logging.getLogger(__name__)

ASGIMessage = dict[str, Any]


class ClientGone(Exception):
    """The client disconnected before the request body was read."""


@dataclass(slots=True)
class Exchange:
    """What one request did, for the access log and metrics."""

    request_id: str
    match: RouteMatch | None = None
    caller: str | None = None
    integration_error: str | None = None
    integration_latency_ms: float | None = None
    throttled: bool = False
    request_bytes: int = 0


async def read_body(receive: Any, limit: int) -> bytes | None:
    """Read the whole request body; None when it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_response(
    send: Any, response: HttpResponse, extra: list[tuple[bytes, bytes]]
) -> None:
    """Write a complete response (status, headers, body) to the ASGI ``send``."""
    headers = [*response.headers, *extra, (b"content-length", str(len(response.body)).encode())]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class HttpApi:
    """ASGI app serving the HTTP API routes of all functions."""

    def __init__(
        self,
        routes: RouteTable,
        invoker: Invoker,
        config: GatewayConfig,
        clock: Clock,
        telemetry: TelemetryBuffer,
        authorizer: Authorizer | None,
    ) -> None:
        self.routes = routes
        self.invoker = invoker
        self.config = config
        self.clock = clock
        self.telemetry = telemetry
        self.authorizer = authorizer
        self.throttle = Throttle(config.throttle_rate, config.throttle_burst, clock())
        self.metrics = HttpMetrics(
            telemetry.aggregator,
            config.http_api_id,
            config.http_stage,
            detailed=config.http_detailed_metrics,
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        now = self.clock()
        exchange = Exchange(request_id=new_id())
        parts = self._parts(scope)
        try:
            response = await self._handle(scope, receive, parts, exchange, now)
        except ClientGone:
            return
        await send_response(send, response, [(b"apigw-requestid", exchange.request_id.encode())])
        self._record(parts, exchange, response, now, (time.perf_counter() - started) * 1000.0)

    def _parts(self, scope: dict[str, Any]) -> RequestParts:
        raw_path_bytes = scope.get("raw_path")
        raw_path = (
            raw_path_bytes.decode("latin-1")
            if raw_path_bytes
            else quote(scope.get("path", "/"), safe="/%:@!$&'()*+,;=")
        )
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        host = next((v for k, v in headers if k.lower() == "host"), None)
        client = scope.get("client")
        return RequestParts(
            method=scope["method"],
            raw_path=raw_path.split("?", 1)[0],
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"",
            source_ip=client[0] if client else "127.0.0.1",
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            domain_name=self.config.domain_name or host or "localhost",
        )

    def _headers_too_large(self, parts: RequestParts) -> bool:
        line = (
            len(parts.method) + len(parts.raw_path) + len(parts.raw_query) + len(parts.protocol) + 4
        )
        size = line + sum(len(k) + len(v) + 4 for k, v in parts.headers)
        return size > self.config.header_limit_bytes

    async def _handle(
        self,
        scope: dict[str, Any],
        receive: Any,
        parts: RequestParts,
        exchange: Exchange,
        now: float,
    ) -> HttpResponse:
        config = self.config
        if self._headers_too_large(parts):
            return HEADERS_TOO_LARGE
        prefix = config.http_path_prefix
        path = parts.raw_path
        if prefix:
            if path != prefix and not path.startswith(prefix + "/"):
                return NOT_FOUND
            path = path[len(prefix) :] or "/"
        match = self.routes.match(parts.method, path)
        if match is None:
            return NOT_FOUND
        exchange.match = match
        if not self.throttle.allow(now):
            exchange.throttled = True
            return TOO_MANY_REQUESTS
        declared = _content_length(parts)
        if declared is not None and declared > config.payload_limit_bytes:
            return TOO_LARGE
        body = await read_body(receive, config.payload_limit_bytes)
        if body is None:
            return TOO_LARGE
        exchange.request_bytes = len(body)
        parts = replace(parts, body=body)
        ctx = EventContext(
            account_id=config.account_id,
            api_id=config.http_api_id,
            stage=config.http_stage,
            request_id=exchange.request_id,
            route_key=match.route.route_key,
            time_s=now,
        )
        authorizer_context: dict[str, Any] | None = None
        if match.route.authorized and self.authorizer is not None:
            identity = next((v for k, v in parts.headers if k.lower() == IDENTITY_HEADER), None)
            outcome = await self.authorizer.authorize(
                identity,
                lambda ids: build_authorizer_event(
                    parts, ctx, match.path_parameters, ids, config.region
                ),
            )
            if outcome.verdict is AuthVerdict.UNAUTHORIZED:
                return UNAUTHORIZED
            if outcome.verdict is AuthVerdict.DENY:
                return FORBIDDEN
            if outcome.verdict is AuthVerdict.ERROR:
                exchange.integration_error = outcome.error
                return INTERNAL_ERROR
            authorizer_context = outcome.context or {}
            user_id = authorizer_context.get("userId")
            exchange.caller = str(user_id) if user_id is not None else None
        event = build_http_event(parts, ctx, match.path_parameters, authorizer_context)
        if config.fault_injection:
            await asyncio.sleep(injected_latency_s(parts.headers))
        return await self._integrate(match.route.function, event, exchange)

    async def _integrate(
        self, function: str, event: dict[str, Any], exchange: Exchange
    ) -> HttpResponse:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.http_integration_timeout_s):
                result = await self.invoker.invoke(function, event)
        except TimeoutError:
            exchange.integration_error = "Integration timed out"
            return SERVICE_UNAVAILABLE
        except (TooManyRequestsError, FunctionNotFoundError) as exc:
            exchange.integration_error = str(exc)
            return INTERNAL_ERROR
        except Exception as exc:
            logger.exception("invoking %s failed", function)
            exchange.integration_error = f"Invocation failed: {type(exc).__name__}"
            return INTERNAL_ERROR
        finally:
            exchange.integration_latency_ms = (time.perf_counter() - started) * 1000.0
        if result.error is not None:
            exchange.integration_error = (
                f"The Lambda function returned an error: {result.error.error_type}: "
                f"{result.error.message}"
            )
            return INTERNAL_ERROR
        try:
            return map_lambda_response(result.payload)
        except MalformedResponseError as exc:
            exchange.integration_error = f"Malformed Lambda proxy response: {exc}"
            return INTERNAL_ERROR

    def _record(
        self,
        parts: RequestParts,
        exchange: Exchange,
        response: HttpResponse,
        now: float,
        latency_ms: float,
    ) -> None:
        config = self.config
        route = exchange.match.route if exchange.match else None
        resource = route.path if route and route.path else (route.route_key if route else None)
        record = access_log.http_access_record(
            request_id=exchange.request_id,
            ip=parts.source_ip,
            caller=exchange.caller,
            time_s=now,
            method=parts.method,
            resource_path=resource,
            status=response.status,
            protocol=parts.protocol,
            response_length=len(response.body),
            integration_error=exchange.integration_error,
        )
        self.telemetry.log(
            access_log.to_log_event(config.http_access_log_group, config.http_stage, now, record)
        )
        self.metrics.record(
            method=parts.method,
            resource=resource or "-",
            status=response.status,
            latency_ms=latency_ms,
            integration_latency_ms=exchange.integration_latency_ms,
            data_processed=exchange.request_bytes + len(response.body),
            throttled=exchange.throttled,
            at=now,
        )


#: The request header ``heron load --inject-latency-ms`` sends; honoured only with fault injection.
INJECT_LATENCY_HEADER = "x-heron-inject-latency-ms"
MAX_INJECTED_LATENCY_S = 10.0


def injected_latency_s(headers: Sequence[tuple[str, str]]) -> float:
    """The delay a request asks for via ``x-heron-inject-latency-ms``, clamped to 0 to 10 s."""
    raw = next((v for k, v in headers if k.lower() == INJECT_LATENCY_HEADER), None)
    if raw is None:
        return 0.0
    try:
        millis = float(raw)
    except ValueError:
        return 0.0
    if millis != millis:  # NaN
        return 0.0
    return min(max(millis, 0.0) / 1000.0, MAX_INJECTED_LATENCY_S)


def _content_length(parts: RequestParts) -> int | None:
    value = next((v for k, v in parts.headers if k.lower() == "content-length"), None)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
