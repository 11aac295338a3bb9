"""Signed incident links on AWS: an HTTP API event run through the same routes ``heron up`` serves.

The stack maps ``GET`` and ``POST /notify/link/{id}/{action}`` on the HTTP API (no authorizer:
the HMAC signature is the credential) to the notifier function, so the Acknowledge / Resolve /
Snooze links in Slack and e-mail work on AWS. The event (payload format 2.0) becomes one ASGI
request to ``heron.monitor.notify.link_routes`` — GET shows the confirmation page, POST acts —
and the response becomes the Lambda proxy result; nothing about links is re-implemented here.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, MutableMapping
from typing import Any

from starlette.applications import Starlette

from heron.monitor.notify.link_routes import link_routes
from heron.monitor.notify.notifier import Notifier


def is_http_event(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is an API Gateway HTTP API request (payload format 2.0)."""
    context = event.get("requestContext")
    return isinstance(context, Mapping) and isinstance(context.get("http"), Mapping)


def _scope(event: Mapping[str, Any]) -> dict[str, Any]:
    http = event["requestContext"]["http"]
    path = str(event.get("rawPath") or http.get("path") or "/")
    headers = [
        (str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
        for k, v in (event.get("headers") or {}).items()
    ]
    domain = str(event["requestContext"].get("domainName") or "localhost")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": str(http.get("method", "GET")).upper(),
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": str(event.get("rawQueryString") or "").encode(),
        "root_path": "",
        "headers": headers,
        "client": (str(http.get("sourceIp") or "unknown address"), 0),
        "server": (domain, 443),
    }


def _body(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()


async def _call(app: Starlette, event: Mapping[str, Any]) -> dict[str, Any]:
    sent: list[MutableMapping[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # the request was read; the client is gone
            return {"type": "http.disconnect"}
        received = True
        return {"type": "http.request", "body": _body(event), "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(_scope(event), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    return {
        "statusCode": int(start["status"]),
        "headers": headers,
        "body": body.decode("utf-8"),
        "isBase64Encoded": False,
    }


def handle_link(notifier: Notifier, event: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The HTTP API response to one signed-link request (acts only on a valid POST)."""
    linker = notifier.ctx.links
    if linker is None:  # Notifier always builds one; a bare context has none
        return {"statusCode": 404, "headers": {}, "body": "links are off", "isBase64Encoded": False}
    app = Starlette(routes=link_routes(notifier.ctx, linker, lambda: now))
    return asyncio.run(_call(app, event))
