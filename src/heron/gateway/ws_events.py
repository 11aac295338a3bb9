"""WebSocket API events (CONNECT, MESSAGE, DISCONNECT) and route selection, as pure functions.

Shapes follow captured AWS events: only CONNECT carries the client's headers and query string;
MESSAGE carries ``body`` and ``requestContext.messageId`` and no headers at all; DISCONNECT has a
few synthetic headers and ``disconnectStatusCode`` / ``disconnectReason``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from heron.gateway.formats import clf_time, epoch_ms
from heron.types import Event

CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_ROUTE = "$default"
_SPECIAL_ROUTES = frozenset({CONNECT_ROUTE, DISCONNECT_ROUTE})

# Header names as clients and API Gateway spell them; ASGI servers hand us lower-case names.
_CANONICAL = {
    "host": "Host",
    "origin": "Origin",
    "user-agent": "User-Agent",
    "authorization": "Authorization",
    "cookie": "Cookie",
    "sec-websocket-key": "Sec-WebSocket-Key",
    "sec-websocket-version": "Sec-WebSocket-Version",
    "sec-websocket-extensions": "Sec-WebSocket-Extensions",
    "sec-websocket-protocol": "Sec-WebSocket-Protocol",
    "x-forwarded-for": "X-Forwarded-For",
    "x-forwarded-port": "X-Forwarded-Port",
    "x-forwarded-proto": "X-Forwarded-Proto",
    "x-amzn-trace-id": "X-Amzn-Trace-Id",
}


@dataclass(frozen=True, slots=True)
class ConnectionFacts:
    """What every event of one connection shares."""

    api_id: str
    stage: str
    domain_name: str
    connection_id: str
    connected_at_ms: int
    source_ip: str
    user_agent: str | None


def canonical_header(name: str) -> str:
    """``sec-websocket-key`` → ``Sec-WebSocket-Key``; unknown names are title-cased per word."""
    lower = name.lower()
    return _CANONICAL.get(lower) or "-".join(part.capitalize() for part in lower.split("-"))


def _request_context(
    facts: ConnectionFacts, route_key: str, event_type: str, request_id: str, time_s: float
) -> dict[str, Any]:
    identity: dict[str, str] = {"sourceIp": facts.source_ip}
    if facts.user_agent is not None:
        identity["userAgent"] = facts.user_agent
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": clf_time(time_s),
        "messageDirection": "IN",
        "stage": facts.stage,
        "connectedAt": facts.connected_at_ms,
        "requestTimeEpoch": epoch_ms(time_s),
        "identity": identity,
        "requestId": request_id,
        "domainName": facts.domain_name,
        "connectionId": facts.connection_id,
        "apiId": facts.api_id,
    }


def connect_event(
    facts: ConnectionFacts,
    headers: Iterable[tuple[str, str]],
    raw_query: str,
    request_id: str,
    time_s: float,
) -> Event:
    """The ``$connect`` event: client headers (single and multi-value) and query string."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in [*headers, ("x-forwarded-for", facts.source_ip)]:
        key = canonical_header(name)
        single[key] = value  # like REST/v1 events: the last occurrence wins in ``headers``
        multi.setdefault(key, []).append(value)
    event: Event = {"headers": single, "multiValueHeaders": multi}
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if pairs:
        query_multi: dict[str, list[str]] = {}
        for key, value in pairs:
            query_multi.setdefault(key, []).append(value)
        event["queryStringParameters"] = {k: v[-1] for k, v in query_multi.items()}
        event["multiValueQueryStringParameters"] = query_multi
    event["requestContext"] = _request_context(facts, CONNECT_ROUTE, "CONNECT", request_id, time_s)
    event["isBase64Encoded"] = False
    return event


def message_event(
    facts: ConnectionFacts,
    route_key: str,
    body: str,
    is_base64: bool,
    request_id: str,
    message_id: str,
    time_s: float,
) -> Event:
    """A MESSAGE event: the frame's text as ``body``, a ``messageId``, and no headers."""
    context = _request_context(facts, route_key, "MESSAGE", request_id, time_s)
    context["messageId"] = message_id
    return {"requestContext": context, "body": body, "isBase64Encoded": is_base64}


def disconnect_event(
    facts: ConnectionFacts, status_code: int, reason: str, request_id: str, time_s: float
) -> Event:
    """The ``$disconnect`` event with the synthetic headers AWS sends and the close status."""
    headers = {
        "Host": facts.domain_name,
        "x-api-key": "",
        "X-Forwarded-For": "",
        "x-restapi": "",
    }
    context = _request_context(facts, DISCONNECT_ROUTE, "DISCONNECT", request_id, time_s)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def select_route(body: str | None, route_keys: Collection[str]) -> str | None:
    """Evaluate ``$request.body.action``: the matching route key, else ``$default``, else None."""
    if body is not None and '"action"' in body:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and "action" in parsed:
            action = parsed["action"]
            # API Gateway stringifies the selected value: numbers, booleans and objects too.
            key = action if isinstance(action, str) else orjson.dumps(action).decode()
            if key in route_keys and key not in _SPECIAL_ROUTES:
                return key
    return DEFAULT_ROUTE if DEFAULT_ROUTE in route_keys else None
