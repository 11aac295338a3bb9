"""The @connections management API: POST (send), GET (describe) and DELETE (close) a connection.

Paths as AWS serves them, on the application port: ``/@connections/{id}``, the URL-encoded
``/%40connections/{id}``, and with the WebSocket stage in front (``/local/@connections/{id}``,
which is what boto3's ``apigatewaymanagementapi`` client sends for ``endpoint_url=.../local``).
Only the functions may call it: each request must carry ``x-heron-management-key``; SigV4
``Authorization`` headers are accepted and ignored. Errors carry ``x-amzn-errortype`` so boto3
raises ``GoneException``, ``PayloadTooLargeException`` and ``ForbiddenException``.

Handlers running in Heron's own execution environments reach the same operations without HTTP:
``answer_call`` serves the ``connections`` out-calls their runtime pipe carries (see
``heron.runtime.outcall``), through the same code, with the same answers and telemetry.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Any

import orjson

from heron.gateway.api_metrics import WebSocketMetrics
from heron.gateway.config import GatewayConfig
from heron.gateway.connections import ConnectionRegistry
from heron.gateway.emitter import TelemetryBuffer
from heron.gateway.formats import iso_time
from heron.gateway.http_api import ClientGone, read_body, send_response
from heron.gateway.responses import HttpResponse
from heron.types import Clock

KEY_HEADER = b"x-heron-management-key"
_PATH = re.compile(r"^(?:/(?P<stage>[^/]+))?/@connections/(?P<id>[^/]+)$")
NORMAL_CLOSURE = 1000


def parse_management_path(path: str, stage: str) -> str | None:
    """The connection id if ``path`` (as the server decoded it) is an @connections path, else None."""
    if "@connections/" not in path:
        return None
    match = _PATH.match(path)
    if match is None or (match.group("stage") is not None and match.group("stage") != stage):
        return None
    return match.group("id")


def _error(status: int, error_type: str, message: str) -> HttpResponse:
    body = orjson.dumps({"message": message})
    headers = ((b"content-type", b"application/json"), (b"x-amzn-errortype", error_type.encode()))
    return HttpResponse(status, headers, body)


class ManagementApi:
    """Serves @connections requests against the live connection registry."""

    def __init__(
        self,
        config: GatewayConfig,
        registry: ConnectionRegistry,
        clock: Clock,
        telemetry: TelemetryBuffer,
    ) -> None:
        self.config = config
        self.registry = registry
        self.clock = clock
        self.telemetry = telemetry
        self.metrics = WebSocketMetrics(telemetry.aggregator, config.ws_api_id, config.ws_stage)
        self._key = config.management_key.encode()

    async def __call__(
        self, scope: dict[str, Any], receive: Any, send: Any, connection_id: str
    ) -> None:
        try:
            response = await self._handle(scope, receive, connection_id)
        except ClientGone:
            return
        await send_response(send, response, [])

    async def _handle(
        self, scope: dict[str, Any], receive: Any, connection_id: str
    ) -> HttpResponse:
        key = next((v for k, v in scope["headers"] if k.lower() == KEY_HEADER), b"")
        if not secrets.compare_digest(key, self._key):
            return _error(403, "ForbiddenException", "Forbidden")
        method = scope["method"]
        if method not in ("POST", "GET", "DELETE"):
            return _error(405, "MethodNotAllowedException", f"Method {method} not allowed")
        data: str | bytes | None = None
        if method == "POST":
            body = await read_body(receive, self.config.ws_message_limit_bytes)
            if body is None:
                return self._too_large()
            try:
                data = body.decode("utf-8")
            except UnicodeDecodeError:
                data = body
        return await self.perform(method, connection_id, data)

    async def answer_call(self, call: dict[str, Any]) -> dict[str, Any]:
        """Serve one ``connections`` out-call from a handler's pipe: ``{status, body}``.

        The call carries ``method``, ``connectionId`` and, for POST, ``text`` or ``base64``.
        """
        method = call.get("method")
        connection_id = call.get("connectionId")
        if method not in ("POST", "GET", "DELETE") or not isinstance(connection_id, str):
            return {"status": 400, "body": "Malformed @connections call"}
        data: str | bytes | None = None
        if method == "POST":
            text, encoded = call.get("text"), call.get("base64")
            if isinstance(text, str):
                # Cheap bound first: a str of n chars is at most 4n bytes of UTF-8.
                limit = self.config.ws_message_limit_bytes
                if len(text) * 4 > limit and len(text.encode()) > limit:
                    return _as_call_result(self._too_large())
                data = text
            elif isinstance(encoded, str):
                try:
                    data = base64.b64decode(encoded, validate=True)
                except (binascii.Error, ValueError):
                    return {"status": 400, "body": "Malformed @connections call"}
                if len(data) > self.config.ws_message_limit_bytes:
                    return _as_call_result(self._too_large())
            else:
                return {"status": 400, "body": "Malformed @connections call"}
        return _as_call_result(await self.perform(method, connection_id, data))

    def _too_large(self) -> HttpResponse:
        limit = self.config.ws_message_limit_bytes
        return _error(413, "PayloadTooLargeException", f"Message exceeds {limit} bytes")

    async def perform(
        self, method: str, connection_id: str, data: str | bytes | None
    ) -> HttpResponse:
        """Run one @connections operation (``data`` for POST), as the HTTP API answers it."""
        now = self.clock()
        connection = self.registry.get(connection_id)
        if connection is None or connection.close_code is not None:
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        if method == "GET":
            info = {
                "ConnectedAt": iso_time(connection.connected_at, millis=True),
                "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent},
                "LastActiveAt": iso_time(connection.last_active, millis=True),
            }
            return HttpResponse(200, ((b"content-type", b"application/json"),), orjson.dumps(info))
        if method == "DELETE":
            await connection.close(NORMAL_CLOSURE, "")
            return HttpResponse(204, (), b"")
        assert data is not None
        if not await connection.send(data, now):
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        self.metrics.record(None, (("MessageCount", 1.0),), now)
        return HttpResponse(200, (), b"")


def _as_call_result(response: HttpResponse) -> dict[str, Any]:
    """An out-call's answer: the status, and the body as JSON (GET) or text (errors)."""
    if response.status == 200 and response.body:
        return {"status": 200, "body": orjson.loads(response.body)}
    return {"status": response.status, "body": response.body.decode("utf-8", "replace")}
