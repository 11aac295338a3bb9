"""Build HTTP API payload format 2.0 events (and 2.0 authorizer events) from raw request parts.

Everything here is a pure function of its arguments, so tests can compare the result field for
field with AWS's documented examples. Optional keys are left out rather than set to null.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from heron.gateway.formats import clf_time, epoch_ms
from heron.types import Event

# Content types whose bodies API Gateway passes as text; everything else arrives base64-encoded.
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/graphql",
        "application/ld+json",
    }
)


@dataclass(frozen=True, slots=True)
class RequestParts:
    """What the gateway read off the wire for one HTTP request."""

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source_ip: str
    protocol: str
    domain_name: str


@dataclass(frozen=True, slots=True)
class EventContext:
    """The API-side facts an event carries: ids, stage, route and time."""

    account_id: str
    api_id: str
    stage: str
    request_id: str
    route_key: str
    time_s: float


def join_headers(raw: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Lower-case header names, comma-join duplicates, and split ``Cookie`` headers out."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in raw:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def query_parameters(raw_query: str) -> dict[str, str]:
    """Decode a query string into API Gateway's form: duplicate keys comma-joined."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def is_text_content(content_type: str | None) -> bool:
    """True when API Gateway would pass a body of this content type as text (not base64)."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return (
        mime.startswith("text/")
        or mime in _TEXT_TYPES
        or mime.endswith("+json")
        or mime.endswith("+xml")
    )


def encode_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """Return ``(body, isBase64Encoded)``: text for text types that are valid UTF-8, else base64."""
    if is_text_content(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def domain_prefix(domain_name: str) -> str:
    """The first label of the domain (``abc123`` of ``abc123.execute-api...``), port stripped."""
    return domain_name.split(".", 1)[0].split(":", 1)[0]


def forwarded_headers(parts: RequestParts) -> list[tuple[str, str]]:
    """Request headers plus the ``x-forwarded-*`` headers API Gateway adds in front of Lambda."""
    headers = list(parts.headers)
    names = {name.lower() for name, _ in headers}
    # API Gateway appends the caller's address to any X-Forwarded-For the client sent.
    headers.append(("x-forwarded-for", parts.source_ip))
    if "x-forwarded-port" not in names:
        headers.append(("x-forwarded-port", _port_of(parts.domain_name)))
    if "x-forwarded-proto" not in names:
        headers.append(("x-forwarded-proto", "http"))
    return headers


def _request_context(parts: RequestParts, ctx: EventContext, user_agent: str) -> dict[str, Any]:
    return {
        "accountId": ctx.account_id,
        "apiId": ctx.api_id,
        "domainName": parts.domain_name,
        "domainPrefix": domain_prefix(parts.domain_name),
        "http": {
            "method": parts.method,
            "path": parts.raw_path,
            "protocol": parts.protocol,
            "sourceIp": parts.source_ip,
            "userAgent": user_agent,
        },
        "requestId": ctx.request_id,
        "routeKey": ctx.route_key,
        "stage": ctx.stage,
        "time": clf_time(ctx.time_s),
        "timeEpoch": epoch_ms(ctx.time_s),
    }


def _common(
    parts: RequestParts, ctx: EventContext, path_parameters: Mapping[str, str]
) -> tuple[Event, dict[str, str]]:
    headers, cookies = join_headers(forwarded_headers(parts))
    event: Event = {
        "version": "2.0",
        "routeKey": ctx.route_key,
        "rawPath": parts.raw_path,
        "rawQueryString": parts.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = query_parameters(parts.raw_query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = _request_context(parts, ctx, headers.get("user-agent", ""))
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event, headers


def build_http_event(
    parts: RequestParts,
    ctx: EventContext,
    path_parameters: Mapping[str, str],
    authorizer_context: Mapping[str, Any] | None = None,
) -> Event:
    """The payload format 2.0 event API Gateway sends a Lambda proxy integration."""
    event, headers = _common(parts, ctx, path_parameters)
    if authorizer_context is not None:
        event["requestContext"]["authorizer"] = {"lambda": dict(authorizer_context)}
    if parts.body:
        event["body"], event["isBase64Encoded"] = encode_body(
            parts.body, headers.get("content-type")
        )
    else:
        event["isBase64Encoded"] = False
    return event


def build_authorizer_event(
    parts: RequestParts,
    ctx: EventContext,
    path_parameters: Mapping[str, str],
    identity_source: list[str],
    region: str,
) -> Event:
    """The 2.0 ``REQUEST`` authorizer event: request fields plus routeArn and identitySource."""
    event, _ = _common(parts, ctx, path_parameters)
    route_arn = (
        f"arn:aws:execute-api:{region}:{ctx.account_id}:{ctx.api_id}/{ctx.stage}/"
        f"{parts.method}{parts.raw_path}"
    )
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": route_arn,
        "identitySource": identity_source,
        **event,
    }


def _port_of(domain_name: str) -> str:
    _, sep, port = domain_name.rpartition(":")
    return port if sep and port.isdigit() else "80"
