"""Simulated users and the HTTP operations they perform against Heron's application API.

Every operation sends exactly one request and records exactly one outcome in a ``Recorder``, so a
scheduled operation is one counted request. ``choose_operation`` is the pure mix decision.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from heron.load.summary import Recorder, status_class
from heron.types import Clock

#: Request header a Heron deployment may honour to add artificial latency (demo faults).
INJECT_LATENCY_HEADER = "x-heron-inject-latency-ms"
#: Request header a Heron deployment may honour to make the handler fail (demo faults).
INJECT_ERROR_HEADER = "x-heron-inject-error"

#: Relative weights of the well-formed HTTP operations.
HTTP_MIX: dict[str, float] = {
    "get_self": 3.0,
    "get_other": 2.0,
    "patch_self": 1.0,
    "list_notifications": 2.0,
    "read_notification": 1.0,
    "history": 2.0,
    "send_http": 3.0,
    "resend_http": 0.5,
    "churn": 0.5,
}
#: Deliberately malformed requests, each of which the service must answer with a 4xx.
BAD_REQUESTS = ("bad_json", "unknown_route", "bad_token")


def choose_operation(
    rng: random.Random, *, ws_fraction: float, error_rate: float, ws_available: bool
) -> str:
    """Pick the next operation: a bad request with ``error_rate``, else WebSocket chat with
    ``ws_fraction`` (when pairs are connected), else a weighted HTTP operation."""
    if rng.random() < error_rate:
        return rng.choice(BAD_REQUESTS)
    if ws_available and rng.random() < ws_fraction:
        return "ws_send"
    return rng.choices(list(HTTP_MIX), weights=list(HTTP_MIX.values()))[0]


def classify(status: int, *, deliberate: bool) -> str | None:
    """Name the error kind a response represents, ``"expected"``, or None for a success."""
    if deliberate:
        if 400 <= status < 500:
            return "expected"
        return f"http_{status}" if status >= 500 else "bad_request_accepted"
    return None if status < 400 else f"http_{status}"


@dataclass(slots=True)
class SimUser:
    """A signed-up simulated user with the token shown once at sign-up."""

    username: str
    user_id: str
    token: str
    sent: list[dict[str, str]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


def make_username(prefix: str, n: int) -> str:
    """A unique, plain alphanumeric username: run prefix plus a counter."""
    return f"ld{prefix}u{n:04d}"


def new_client_message_id() -> str:
    """A fresh idempotency key for one message."""
    return uuid.uuid4().hex


def _notification_ids(body: Any) -> list[str]:
    # Be tolerant of the list's envelope: {"notifications": [...]}, {"items": [...]} or a bare list.
    items = body
    if isinstance(body, dict):
        items = body.get("notifications", body.get("items", []))
    ids = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            ident = item.get("notificationId", item.get("id"))
            if isinstance(ident, str):
                ids.append(ident)
    return ids


class ApiClient:
    """Sends Heron API requests over one keep-alive ``httpx.AsyncClient`` and records each one."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        recorder: Recorder,
        clock: Clock,
        *,
        inject_error_rate: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        """Use ``http`` (whose base_url is the app port) and record into ``recorder``.

        ``inject_error_rate`` of the well-formed requests carry ``x-heron-inject-error: 1``; a
        5xx answer to one is recorded as the error kind ``injected``.
        """
        self.http = http
        self.recorder = recorder
        self.clock = clock
        self.inject_error_rate = inject_error_rate
        self._rng = rng or random.Random()
        self._churned = 0

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        content: bytes | None = None,
        deliberate: bool = False,
    ) -> httpx.Response | None:
        """Send one request, record its outcome and latency, and return the response (None if
        no response came: timeout or transport error)."""
        headers = {"authorization": f"Bearer {token}"} if token is not None else {}
        if content is not None:
            headers["content-type"] = "application/json"
        injected = (
            self.inject_error_rate > 0
            and not deliberate
            and self._rng.random() < self.inject_error_rate
        )
        if injected:
            headers[INJECT_ERROR_HEADER] = "1"
        start = self.clock()
        try:
            response = await self.http.request(
                method, path, headers=headers, json=json, content=content
            )
        except httpx.TimeoutException:
            self.recorder.record(operation, "error", self.clock() - start, error="timeout")
            return None
        except httpx.TransportError as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectError) else "transport"
            self.recorder.record(operation, "error", self.clock() - start, error=kind)
            return None
        status = response.status_code
        error = classify(status, deliberate=deliberate)
        if injected and status >= 500:
            error = "injected"
        self.recorder.record(operation, status_class(status), self.clock() - start, error=error)
        return response

    async def sign_up(self, username: str, display_name: str | None = None) -> SimUser | None:
        """Create a user through open sign-up; None if the service refused or was unreachable."""
        body = {
            "username": username,
            "displayName": display_name or username.title(),
            "email": f"{username}@example.com",
        }
        response = await self.call("signup", "POST", "/users", json=body)
        if response is None or response.status_code >= 300:
            return None
        try:
            data = response.json()
            user = data.get("user", data)
            return SimUser(username=username, user_id=str(user["userId"]), token=str(data["token"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            self.recorder.error("bad_signup_response")
            return None

    async def perform(
        self, operation: str, actor: SimUser, peer: SimUser, rng: random.Random
    ) -> None:
        """Run one named HTTP operation as ``actor``, with ``peer`` as the other party."""
        action: Callable[[SimUser, SimUser, random.Random], Awaitable[None]] = getattr(
            self, f"_op_{operation}"
        )
        await action(actor, peer, rng)

    async def _op_get_self(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        await self.call("get_self", "GET", f"/users/{actor.user_id}", token=actor.token)

    async def _op_get_other(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        await self.call("get_other", "GET", f"/users/{peer.user_id}", token=actor.token)

    async def _op_patch_self(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        body = {"displayName": f"{actor.username.title()} {rng.randint(1, 999)}"}
        await self.call(
            "patch_self", "PATCH", f"/users/{actor.user_id}", token=actor.token, json=body
        )

    async def _op_list_notifications(
        self, actor: SimUser, peer: SimUser, rng: random.Random
    ) -> None:
        response = await self.call(
            "list_notifications", "GET", "/notifications?unread=true", token=actor.token
        )
        if response is not None and response.status_code == 200:
            actor.unread = _notification_ids(response.json())[:20]

    async def _op_read_notification(
        self, actor: SimUser, peer: SimUser, rng: random.Random
    ) -> None:
        if not actor.unread:
            # Nothing known to read yet: listing is the request a real client would make first.
            await self._op_list_notifications(actor, peer, rng)
            return
        ident = actor.unread.pop()
        await self.call(
            "read_notification", "POST", f"/notifications/{ident}/read", token=actor.token
        )

    async def _op_history(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        path = f"/conversations/{peer.user_id}/messages?limit=20"
        await self.call("history", "GET", path, token=actor.token)

    async def _op_send_http(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        message = {
            "to": peer.user_id,
            "text": f"hello {rng.randint(0, 99999)}",
            "clientMessageId": new_client_message_id(),
        }
        response = await self.call(
            "send_http", "POST", "/messages", token=actor.token, json=message
        )
        if response is not None and response.status_code < 300:
            actor.sent = [*actor.sent[-4:], message]

    async def _op_resend_http(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        # Re-posting a message with the same clientMessageId is the idempotent-retry path (200).
        if not actor.sent:
            await self._op_send_http(actor, peer, rng)
            return
        message = rng.choice(actor.sent)
        await self.call("resend_http", "POST", "/messages", token=actor.token, json=message)

    async def _op_churn(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        # A short-lived account: sign up (recorded as "signup") and delete it again.
        self._churned += 1
        user = await self.sign_up(f"{actor.username}c{self._churned:04d}")
        if user is None:
            self.recorder.record("delete_user", "error", 0.0, error="churn_signup_failed")
            return
        await self.call("delete_user", "DELETE", f"/users/{user.user_id}", token=user.token)

    async def _op_bad_json(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        await self.call(
            "bad_json", "POST", "/messages", token=actor.token, content=b'{"to": ', deliberate=True
        )

    async def _op_unknown_route(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        path = f"/no-such-route/{rng.randint(0, 9999)}"
        await self.call("unknown_route", "GET", path, token=actor.token, deliberate=True)

    async def _op_bad_token(self, actor: SimUser, peer: SimUser, rng: random.Random) -> None:
        await self.call(
            "bad_token",
            "GET",
            f"/users/{actor.user_id}",
            token="not-a-valid-token",
            deliberate=True,
        )
