"""The ASGI app serving AWS-compatible services (CloudWatch, CloudWatch Logs) on the monitor port.

Each request is classified (JSON target, CBOR path or Query form), its body read under a size
limit, its SigV4 signature verified, gzip undone, its input decoded against botocore's shape, and
the operation handler run in a worker thread; results and errors go back in the request's own
protocol, always with an ``x-amzn-RequestId``.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread

from heron.awsapi import query, wire
from heron.awsapi.credentials import Credentials
from heron.awsapi.errors import AwsError
from heron.awsapi.models import ServiceSpec, service_spec
from heron.awsapi.sigv4 import AuthFailure, SignedRequest, peek_scope, verify
from heron.types import Clock

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]
#: An operation's shortcut for AWS JSON bodies: (raw body, gzipped, inflated size limit) -> the
#: result, or None to let the generic decoder and handler answer (errors included).
RawHandler = Callable[[bytes, bool, int], Awaitable[dict[str, Any] | None]]
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

#: Largest request body on the wire: CloudWatch's documented 1 MB PutMetricData limit; Logs gets
#: room for JSON's escaping of a full 1 MB PutLogEvents batch (the operation checks the batch).
DEFAULT_MAX_BODY = {"cloudwatch": 1024 * 1024, "logs": 5 * 1024 * 1024}
#: Largest body after gzip decoding (a compression bomb is refused, not inflated).
MAX_DECOMPRESSED = 40 * 1024 * 1024


class AwsApp:
    """ASGI callable answering AWS JSON, CBOR and Query requests for the registered services."""

    def __init__(
        self,
        services: Mapping[str, Mapping[str, Handler]],
        credentials: Credentials,
        *,
        region: str = "us-east-1",
        clock: Clock = time.time,
        max_body: Mapping[str, int] | None = None,
        max_decompressed: int = MAX_DECOMPRESSED,
        raw_handlers: Mapping[tuple[str, str], RawHandler] | None = None,
    ) -> None:
        """``raw_handlers`` maps (service, operation) to a ``RawHandler`` tried first."""
        self.handlers = {name: dict(ops) for name, ops in services.items()}
        self.raw_handlers = dict(raw_handlers or {})
        self.specs = {name: service_spec(name) for name in services}
        self.by_prefix = {spec.target_prefix: spec for spec in self.specs.values()}
        self.by_signing_name = {spec.signing_name: spec for spec in self.specs.values()}
        self.query_default = next(
            (spec for spec in self.specs.values() if "query" in spec.protocols), None
        )
        self.credentials = credentials
        self.region = region
        self.clock = clock
        self.max_body = {**DEFAULT_MAX_BODY, **(max_body or {})}
        self.max_decompressed = max_decompressed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (HTTP requests; lifespan is acknowledged)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        headers = _headers(scope)
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        path = raw_path.split("?", 1)[0]
        route = wire.detect(path, headers)
        spec = self._spec_for(route, headers, scope)
        try:
            status, out_headers, body = await self._handle(
                scope, receive, route, spec, headers, path, request_id
            )
        except AwsError as exc:
            status, out_headers, body = wire.render_error(route.protocol, spec, exc, request_id)
        except Exception:
            log.exception("AWS API request %s failed", request_id)
            failure = AwsError(
                "InternalFailure",
                "The request processing has failed because of an unknown error, exception or "
                "failure.",
                status=500,
                sender=False,
                query_code="InternalFailure",
            )
            status, out_headers, body = wire.render_error(route.protocol, spec, failure, request_id)
        out_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": body})

    def _spec_for(
        self, route: wire.Route, headers: dict[str, list[str]], scope: Scope
    ) -> ServiceSpec | None:
        """The service a request addresses: by target prefix, else by its signing scope."""
        if route.target_prefix is not None:
            return self.by_prefix.get(route.target_prefix)
        if route.protocol != "query":
            return None
        claimed = peek_scope(_signed(scope, headers, b""))
        if claimed is not None and claimed.service in self.by_signing_name:
            return self.by_signing_name[claimed.service]
        return self.query_default

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        route: wire.Route,
        spec: ServiceSpec | None,
        headers: dict[str, list[str]],
        path: str,
        request_id: str,
    ) -> wire.Response:
        method = scope["method"]
        if spec is None:
            # Unknown prefix or path: still insist on a signature before saying more.
            body = await _read_body(receive, headers, max(self.max_body.values()))
            self._verify(scope, headers, body, route, None)
            raise wire.unknown_operation(route.protocol, route.operation, None)
        if method != "POST" and not (route.protocol == "query" and method == "GET"):
            raise AwsError(
                "MethodNotAllowed" if route.protocol != "query" else "InvalidAction",
                f"The HTTP method {method} is not allowed for this resource.",
                status=405,
            )
        if route.protocol not in _served_protocols(spec):
            raise wire.unknown_operation(route.protocol, route.operation, spec)
        raw = await _read_body(receive, headers, self.max_body.get(spec.name, 1024 * 1024))
        self._verify(scope, headers, raw, route, spec)
        if not spec.model_loaded:
            # The service's first request imports botocore and parses its model (70 ms or so):
            # in a worker thread, so the event loop goes on serving the gateway meanwhile.
            await anyio.to_thread.run_sync(lambda: spec.model)
        raw_handler = self.raw_handlers.get((spec.name, route.operation or ""))
        if raw_handler is not None and route.protocol == "json" and route.operation:
            encodings = _encodings(headers)
            if encodings in ([], ["gzip"]):
                result = await raw_handler(raw, bool(encodings), self.max_decompressed)
                if result is not None:
                    operation = spec.operation(route.operation)
                    return wire.render_result(route.protocol, spec, operation, result, request_id)
        body = _decompress(headers, raw, self.max_decompressed, route.protocol)
        if route.protocol == "query":
            pairs = query.parse_form(body, scope.get("query_string", b"").decode("latin-1"))
            name = next((v for k, v in pairs if k == "Action"), None)
            operation = spec.operation(name) if name else None
            if operation is None:
                raise wire.unknown_operation("query", name, spec)
            handler = self._handler(spec, operation.name)
            request = query.decode_query(operation.input_shape, pairs)
        else:
            operation = spec.operation(route.operation) if route.operation else None
            if operation is None:
                raise wire.unknown_operation(route.protocol, route.operation, spec)
            handler = self._handler(spec, operation.name)
            document = wire.decode_body(route.protocol, body)
            request = wire.decode_request(route.protocol, operation, document)
        result = await anyio.to_thread.run_sync(handler, request)
        return wire.render_result(route.protocol, spec, operation, result, request_id)

    def _handler(self, spec: ServiceSpec, name: str) -> Handler:
        handler = self.handlers[spec.name].get(name)
        if handler is None:
            raise wire.not_implemented(name)
        return handler

    def _verify(
        self,
        scope: Scope,
        headers: dict[str, list[str]],
        body: bytes,
        route: wire.Route,
        spec: ServiceSpec | None,
    ) -> None:
        services = {spec.signing_name} if spec else set(self.by_signing_name)
        try:
            verify(
                _signed(scope, headers, body),
                self.credentials,
                now=self.clock(),
                services=services,
                region=self.region,
            )
        except AuthFailure as failure:
            raise wire.auth_error(failure, route.protocol) from None


def create_aws_app(
    services: Mapping[str, Mapping[str, Handler]],
    credentials: Credentials,
    *,
    region: str = "us-east-1",
    clock: Clock = time.time,
    max_body: Mapping[str, int] | None = None,
    raw_handlers: Mapping[tuple[str, str], RawHandler] | None = None,
) -> AwsApp:
    """An ASGI app serving ``services`` (botocore name -> operation name -> handler)."""
    return AwsApp(
        services,
        credentials,
        region=region,
        clock=clock,
        max_body=max_body,
        raw_handlers=raw_handlers,
    )


def is_aws_request(scope: Scope) -> bool:
    """Whether an HTTP scope looks like an AWS API call (for routing on a shared port)."""
    if scope.get("type") != "http":
        return False
    path: str = scope.get("path", "")
    if path.startswith("/service/"):
        return True
    if path != "/":
        return False
    headers = dict(scope.get("headers") or [])
    return (
        b"x-amz-target" in headers
        or b"authorization" in headers
        or b"X-Amz-Signature=" in scope.get("query_string", b"")
        or b"Action=" in scope.get("query_string", b"")
        or headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded")
    )


def _served_protocols(spec: ServiceSpec) -> set[str]:
    out = set()
    for protocol in spec.protocols:
        out.add("cbor" if protocol == "smithy-rpc-v2-cbor" else protocol)
    return out


def _headers(scope: Scope) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in scope.get("headers") or []:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


def _signed(scope: Scope, headers: dict[str, list[str]], body: bytes) -> SignedRequest:
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    return SignedRequest(
        method=scope["method"],
        raw_path=raw_path.split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
    )


async def _read_body(receive: Receive, headers: dict[str, list[str]], limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes before buffering it all."""
    declared = headers.get("content-length")
    if declared and declared[0].isdigit() and int(declared[0]) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _encodings(headers: dict[str, list[str]]) -> list[str]:
    """The request's content codings, ``identity`` left out."""
    return [
        part.strip().lower()
        for value in headers.get("content-encoding", [])
        for part in value.split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]


def _decompress(
    headers: dict[str, list[str]], body: bytes, limit: int, protocol: wire.Protocol
) -> bytes:
    """Undo ``Content-Encoding: gzip`` (after the signature, which covers the gzip bytes)."""
    encodings = _encodings(headers)
    if not encodings:
        return body
    if encodings != ["gzip"]:
        raise wire.malformed(protocol, f"Unsupported Content-Encoding: {', '.join(encodings)}")
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limit)
        if inflater.unconsumed_tail:
            raise _too_large(limit)
        out += inflater.flush()
    except zlib.error as exc:
        raise wire.malformed(protocol, f"The request body is not valid gzip: {exc}") from None
    if len(out) > limit:
        raise _too_large(limit)
    return out


def _too_large(limit: int) -> AwsError:
    return AwsError(
        "RequestEntityTooLarge",
        f"Request size exceeded {limit} bytes",
        status=413,
        query_code="RequestEntityTooLarge",
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge lifespan events so the app can also run on its own under uvicorn."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
