"""The @connections management API client handlers use to push to, inspect and close sockets.

Three implementations of one protocol:

- ``PipeConnectionsClient``: inside Heron's own execution environments
  (``HERON_CONNECTIONS_TRANSPORT=pipe``, set by the runtime), each operation is one round trip
  over the environment's frame pipe to the parent, which runs the gateway's @connections code
  without an HTTP exchange (``heron.runtime.outcall``). When the parent serves no gateway (e.g.
  ``heron invoke``) it falls back to HTTP.
- ``HttpConnectionsClient``: stdlib ``http.client`` against Heron's local gateway
  (``HERON_CONNECTIONS_ENDPOINT``), one keep-alive connection per process, authenticated with the
  ``x-heron-management-key`` header. No boto3 import, so cold starts stay cheap.
- ``Boto3ConnectionsClient``: ``apigatewaymanagementapi`` on AWS (``WS_MANAGEMENT_ENDPOINT``),
  imported lazily.

Both raise ``heron.errors.GoneError`` for a connection that no longer exists (HTTP 410).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from heron.errors import ConfigError, GoneError, HeronError

if TYPE_CHECKING:
    # Imported when first used: http.client (with ssl and email) is ~6 MiB in every warm
    # environment, and Heron's environments talk to the gateway over their pipe instead.
    import http.client

MANAGEMENT_KEY_HEADER = "x-heron-management-key"


class ConnectionsApiError(HeronError):
    """The @connections API refused a request for a reason other than a gone connection."""

    def __init__(self, connection_id: str, status: int, code: str, message: str = "") -> None:
        super().__init__(f"@connections {code} ({status}) for {connection_id}: {message}".rstrip())
        self.connection_id = connection_id
        self.status = status
        self.code = code


class ConnectionsClient(Protocol):
    """API Gateway's @connections operations, as the handlers use them."""

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        """Send ``data`` to the socket; raises GoneError when it no longer exists."""

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """Return ``{ConnectedAt, Identity, LastActiveAt}``; raises GoneError when it is gone."""

    def delete_connection(self, connection_id: str) -> None:
        """Close the socket; raises GoneError when it is already gone."""


_STATUS_CODES = {
    400: "BadRequestException",
    403: "ForbiddenException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
}


def connection_path(base_path: str, connection_id: str) -> str:
    """The request path for ``connection_id`` under an endpoint's base path (id URL-encoded)."""
    return f"{base_path.rstrip('/')}/@connections/{quote(connection_id, safe='')}"


class HttpConnectionsClient:
    """@connections over plain HTTP to Heron's local gateway, reusing one keep-alive connection."""

    def __init__(self, endpoint: str, management_key: str = "", *, timeout: float = 5.0) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"HERON_CONNECTIONS_ENDPOINT must be an http(s) URL, got {endpoint!r}"
            )
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._base_path = parts.path
        self._key = management_key
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._used = False
        # Handlers are single-threaded, but a shared client must never interleave two requests.
        self._lock = threading.Lock()

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        """POST ``data`` to the connection."""
        self._request("POST", connection_id, data)

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """GET the connection's description."""
        body = self._request("GET", connection_id, None)
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            raise ConnectionsApiError(connection_id, 502, "InvalidResponse") from None
        return parsed if isinstance(parsed, dict) else {}

    def delete_connection(self, connection_id: str) -> None:
        """DELETE (close) the connection."""
        self._request("DELETE", connection_id, None)

    def close(self) -> None:
        """Close the keep-alive connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connect(self) -> http.client.HTTPConnection:
        import http.client

        if self._conn is None:
            factory = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = factory(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._conn

    def _request(self, method: str, connection_id: str, data: bytes | None) -> bytes:
        path = connection_path(self._base_path, connection_id)
        headers = {MANAGEMENT_KEY_HEADER: self._key}
        if data is not None:
            headers["content-type"] = "application/octet-stream"
        with self._lock:
            status, body = self._send(method, path, data, headers)
        if status in (200, 201, 202, 204):
            return body
        if status == 410:
            raise GoneError(connection_id)
        code = _STATUS_CODES.get(status, "InternalServerError" if status >= 500 else "ClientError")
        raise ConnectionsApiError(
            connection_id, status, code, body[:200].decode("utf-8", "replace")
        )

    def _send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        import http.client

        conn = self._connect()
        reused = self._used
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            self._conn = None
            # A keep-alive socket the server closed while we were idle fails on first use; retry
            # once on a fresh socket. A fresh socket failing is a real error.
            if not reused:
                raise
            conn = self._connect()
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except OSError:
            conn.close()
            self._conn = None
            raise
        self._used = True
        if response.will_close:
            conn.close()
            self._conn = None
        return response.status, body


class PipeConnectionsClient:
    """@connections over the execution environment's pipe to the Heron process that runs it."""

    def __init__(self, fallback: ConnectionsClient | None = None) -> None:
        self._fallback = fallback
        # Until the parent says it serves no @connections, every call goes over the pipe.
        self._use_pipe = True

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        """Send ``data`` to the connection (as text when it is UTF-8, as the HTTP path does)."""
        if not self._use_pipe:
            return self._fallen_back().post_to_connection(connection_id, data)
        try:
            payload = {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            payload = {"base64": base64.b64encode(data).decode("ascii")}
        if self._call("POST", connection_id, payload) is _UNSERVED:
            self._fallen_back().post_to_connection(connection_id, data)
        return None

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """The connection's description."""
        if self._use_pipe:
            body = self._call("GET", connection_id, {})
            if body is not _UNSERVED:
                return body if isinstance(body, dict) else {}
        return self._fallen_back().get_connection(connection_id)

    def delete_connection(self, connection_id: str) -> None:
        """Close the connection."""
        if not self._use_pipe or self._call("DELETE", connection_id, {}) is _UNSERVED:
            self._fallen_back().delete_connection(connection_id)

    def _call(self, method: str, connection_id: str, payload: dict[str, str]) -> Any:
        from heron.runtime import outcall

        try:
            reply = outcall.call(
                "connections", {"method": method, "connectionId": connection_id, **payload}
            )
        except outcall.OutcallError as exc:  # the pipe broke: a service failure to the handler
            raise ConnectionsApiError(connection_id, 500, "InternalServerError", str(exc)) from exc
        status = reply.get("status")
        body = reply.get("body")
        if status == outcall.UNAVAILABLE:
            self._use_pipe = False
            return _UNSERVED
        if status in (200, 201, 202, 204):
            return body
        if status == 410:
            raise GoneError(connection_id)
        status = status if isinstance(status, int) else 500
        code = _STATUS_CODES.get(status, "InternalServerError" if status >= 500 else "ClientError")
        raise ConnectionsApiError(connection_id, status, code, str(body or "")[:200])

    def _fallen_back(self) -> ConnectionsClient:
        if self._fallback is None:
            raise ConfigError(
                "this Heron process serves no @connections API and HERON_CONNECTIONS_ENDPOINT "
                "is not set"
            )
        return self._fallback


#: What ``PipeConnectionsClient._call`` returns when the parent does not serve @connections.
_UNSERVED = object()


class Boto3ConnectionsClient:
    """@connections through boto3's ``apigatewaymanagementapi`` (for handlers running on AWS)."""

    def __init__(self, endpoint_url: str, *, client: Any = None) -> None:
        if client is None:
            # Imported here so the local path never pays boto3's import time.
            boto3 = importlib.import_module("boto3")
            client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url)
        self._client = client

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        """PostToConnection."""
        self._call("post_to_connection", connection_id, Data=data)

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """GetConnection (ConnectedAt and LastActiveAt as ISO-8601 strings)."""
        result = self._call("get_connection", connection_id)
        return {
            key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in result.items()
            if key != "ResponseMetadata"
        }

    def delete_connection(self, connection_id: str) -> None:
        """DeleteConnection."""
        self._call("delete_connection", connection_id)

    def _call(self, operation: str, connection_id: str, **kwargs: Any) -> dict[str, Any]:
        client_error = importlib.import_module("botocore.exceptions").ClientError
        try:
            result: dict[str, Any] = getattr(self._client, operation)(
                ConnectionId=connection_id, **kwargs
            )
        # GoneException subclasses ClientError, so it must be caught first or it is never seen.
        except self._client.exceptions.GoneException:
            raise GoneError(connection_id) from None
        except client_error as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            raise ConnectionsApiError(
                connection_id, int(status), str(error.get("Code", "ClientError")), str(error)
            ) from exc
        return result


def connections_from_env(environ: Mapping[str, str] | None = None) -> ConnectionsClient:
    """Build the client the environment asks for: Heron's pipe, local HTTP, then boto3 on AWS."""
    env = os.environ if environ is None else environ
    local = env.get("HERON_CONNECTIONS_ENDPOINT")
    http_client = (
        HttpConnectionsClient(local, env.get("HERON_MANAGEMENT_KEY", "")) if local else None
    )
    if env.get("HERON_CONNECTIONS_TRANSPORT") == "pipe" and _in_heron_environment():
        return PipeConnectionsClient(fallback=http_client)
    if http_client is not None:
        return http_client
    aws = env.get("WS_MANAGEMENT_ENDPOINT")
    if aws:
        return Boto3ConnectionsClient(aws)
    raise ConfigError("Set HERON_CONNECTIONS_ENDPOINT (local) or WS_MANAGEMENT_ENDPOINT (AWS)")


def _in_heron_environment() -> bool:
    """True inside a Heron worker whose pipe is installed (never on AWS, never in tests)."""
    import sys

    # Only a worker has imported the module; importing it here would cost every other process.
    outcall = sys.modules.get("heron.runtime.outcall")
    return outcall is not None and bool(outcall.available())
