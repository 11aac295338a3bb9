"""The WebSocket API's connection lifecycle: ``$connect``, ``$disconnect`` and ``$default``.

``$connect`` is the only WebSocket event that carries the query string and headers, so it is where
the socket is authenticated (``?token=...``, or an ``Authorization: Bearer`` header for clients that
can set one). A non-2xx answer makes API Gateway refuse the upgrade. An accepted socket is recorded
in Connections with ``expiresAt`` a little past API Gateway's 2-hour connection limit, so a record
whose ``$disconnect`` never arrived (it is best-effort) expires by TTL.
"""

from __future__ import annotations

import json
from typing import Any

from heron.functions import deps
from heron.functions.auth import authenticate, bearer_token
from heron.functions.http import (
    BadRequest,
    Unauthorized,
    header,
    json_response,
    query_param,
    request_context,
)
from heron.functions.instrument import bind, instrumented
from heron.types import Event

#: API Gateway closes every WebSocket after two hours.
MAX_CONNECTION_SECONDS = 7200
#: Slack past the 2-hour limit before a record expires, so it never vanishes under a live socket.
EXPIRY_SLACK_SECONDS = 300
#: The custom routes this API serves, named in the $default error frame.
KNOWN_ACTIONS = ("sendMessage",)


def expires_at(connected_at_ms: int) -> int:
    """The TTL (epoch seconds) of a Connections record for a socket opened at ``connected_at_ms``."""
    return connected_at_ms // 1000 + MAX_CONNECTION_SECONDS + EXPIRY_SLACK_SECONDS


def connect(event: Event) -> dict[str, Any]:
    """Authenticate the socket and record it; 401 (upgrade refused) without a live token."""
    context = request_context(event)
    token = query_param(event, "token") or bearer_token(header(event, "authorization"))
    principal = authenticate(deps.users(), token)
    if principal is None:
        raise Unauthorized("A valid token is required: connect with ?token=<your API token>")
    connection_id = context.get("connectionId")
    if not isinstance(connection_id, str) or not connection_id:
        raise BadRequest("Missing connectionId", field="connectionId")
    connected_at = context.get("connectedAt")
    if not isinstance(connected_at, int) or isinstance(connected_at, bool):
        connected_at = int(deps.clock()() * 1000)
    bind(user_id=principal.user_id, connectionId=connection_id)
    deps.connection_records().put(
        {
            "connectionId": connection_id,
            "userId": principal.user_id,
            "connectedAt": connected_at,
            "expiresAt": expires_at(connected_at),
        }
    )
    return {"statusCode": 200}


def disconnect(event: Event) -> dict[str, Any]:
    """Drop the socket's record (if it is still there)."""
    connection_id = request_context(event).get("connectionId")
    if isinstance(connection_id, str) and connection_id:
        old = deps.connection_records().delete({"connectionId": connection_id})
        bind(connectionId=connection_id, user_id=old.get("userId") if old else None)
    return {"statusCode": 200}


def unknown_action(event: Event) -> dict[str, Any]:
    """Answer a frame no route matched with an error frame naming the supported actions."""
    action: Any = None
    body = event.get("body")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            action = parsed.get("action")
    supported = ", ".join(KNOWN_ACTIONS)
    if isinstance(action, str) and action:
        message = f"Unknown action {action[:64]!r}; supported actions: {supported}"
    else:
        message = f'Frames must be JSON objects with an "action"; supported actions: {supported}'
    return json_response(400, {"error": "UnknownAction", "message": message})


_ROUTES = {
    "$connect": ("connected", connect),
    "$disconnect": ("disconnected", disconnect),
    "$default": ("unknown_action", unknown_action),
}


@instrumented("connection")
def handler(event: Event, context: Any) -> dict[str, Any]:
    """Dispatch on ``requestContext.routeKey``."""
    route = request_context(event).get("routeKey")
    action, handle = _ROUTES.get(route if isinstance(route, str) else "", ("unknown_route", None))
    bind(action=action)
    if handle is None:
        raise BadRequest(f"connectionHandler does not serve route {route!r}", field="routeKey")
    return handle(event)
