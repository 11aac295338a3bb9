"""Builders for realistic Lambda events (from the sample files in ``events/``) and small fakes.

Like Powertools' ``load_event``: each builder starts from a captured-shape sample and changes only
what the test is about, so the events stay API Gateway-shaped.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.errors import GoneError

EVENTS_DIR = Path(__file__).parent / "events"
T0_MS = 1_793_873_702_000


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json``."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def http_event(
    method: str,
    route_key: str,
    path: str,
    *,
    user: str | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
    time_ms: int = T0_MS,
) -> dict[str, Any]:
    """An HTTP API payload-2.0 event; ``user`` adds the Lambda authorizer's context."""
    event = load_event("http_api_v2")
    event["routeKey"] = route_key
    event["rawPath"] = path
    ctx = event["requestContext"]
    ctx["routeKey"] = route_key
    ctx["http"]["method"] = method
    ctx["http"]["path"] = path
    ctx["timeEpoch"] = time_ms
    ctx["requestId"] = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
    params = dict(
        zip(
            re.findall(r"\{(\w+)\}", route_key.split(" ", 1)[1]),
            _path_values(route_key, path),
            strict=True,
        )
    )
    if params:
        event["pathParameters"] = params
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if headers:
        event["headers"].update({k.lower(): v for k, v in headers.items()})
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body)
        event["headers"]["content-type"] = "application/json"
        if base64_body:
            event["body"] = base64.b64encode(text.encode()).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    if user is not None:
        ctx["authorizer"] = {"lambda": {"userId": user, "username": "x"}}
    return event


def _path_values(route_key: str, path: str) -> list[str]:
    template = route_key.split(" ", 1)[1].split("/")
    return [p for t, p in zip(template, path.split("/"), strict=True) if t.startswith("{")]


def authorizer_event(token: str | None, *, raw: str | None = None) -> dict[str, Any]:
    """A payload-2.0 authorizer request carrying ``Authorization: Bearer <token>`` (or ``raw``)."""
    event = load_event("authorizer_request_v2")
    value = raw if raw is not None else (f"Bearer {token}" if token is not None else None)
    if value is None:
        del event["headers"]["authorization"]
        event["identitySource"] = []
    else:
        event["headers"]["authorization"] = value
        event["identitySource"] = [value]
    return event


def ws_connect(
    connection_id: str, *, token: str | None, connected_at_ms: int = T0_MS
) -> dict[str, Any]:
    """A ``$connect`` event with ``?token=``."""
    event = load_event("websocket_connect")
    ctx = event["requestContext"]
    ctx["connectionId"] = connection_id
    ctx["connectedAt"] = connected_at_ms
    ctx["requestTimeEpoch"] = connected_at_ms
    if token is None:
        del event["queryStringParameters"]
        del event["multiValueQueryStringParameters"]
    else:
        event["queryStringParameters"] = {"token": token}
        event["multiValueQueryStringParameters"] = {"token": [token]}
    return event


def ws_message(
    connection_id: str, body: Any, *, route_key: str = "sendMessage", time_ms: int = T0_MS
) -> dict[str, Any]:
    """A MESSAGE event for ``route_key`` with a JSON (or raw string) body."""
    event = load_event("websocket_message")
    ctx = event["requestContext"]
    ctx["connectionId"] = connection_id
    ctx["routeKey"] = route_key
    ctx["requestTimeEpoch"] = time_ms
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def ws_disconnect(connection_id: str) -> dict[str, Any]:
    """A ``$disconnect`` event."""
    event = load_event("websocket_disconnect")
    event["requestContext"]["connectionId"] = connection_id
    return event


@dataclass
class FakeContext:
    """The Lambda context object's attributes handlers and the wrapper read."""

    function_name: str = "testFunction"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


@dataclass
class FakeConnections:
    """A @connections client that records calls and raises GoneError for chosen ids."""

    gone: set[str] = field(default_factory=set)
    posts: list[tuple[str, bytes]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    on_post: Any = None

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        if self.on_post is not None:
            self.on_post(connection_id)
        if connection_id in self.gone:
            raise GoneError(connection_id)
        self.posts.append((connection_id, data))

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        if connection_id in self.gone:
            raise GoneError(connection_id)
        return {"ConnectedAt": "2026-11-05T10:15:02.000Z", "Identity": {"SourceIp": "127.0.0.1"}}

    def delete_connection(self, connection_id: str) -> None:
        if connection_id in self.gone:
            raise GoneError(connection_id)
        self.deleted.append(connection_id)
        self.gone.add(connection_id)

    def frames_to(self, connection_id: str) -> list[dict[str, Any]]:
        return [json.loads(data) for cid, data in self.posts if cid == connection_id]


@dataclass
class FakeClock:
    """A settable clock (epoch seconds)."""

    now: float = T0_MS / 1000

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def body_of(response: dict[str, Any]) -> Any:
    """The parsed JSON body of a handler response (None when it has none)."""
    body = response.get("body")
    return json.loads(body) if body else None


def deep(event: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, for tests that replay an event."""
    return copy.deepcopy(event)
