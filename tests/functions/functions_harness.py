"""The test harness for handlers: signed-up users, calls shaped like the gateway's, table snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from function_events import (
    FakeClock,
    FakeConnections,
    FakeContext,
    body_of,
    http_event,
    ws_connect,
)

from heron.functions import connection_handler, users


@dataclass
class User:
    """A signed-up user: its id, name and API token."""

    user_id: str
    username: str
    token: str


class Heron:
    """Calls handlers the way the gateway would, with helpers for common setup."""

    def __init__(self, db: Any, conns: FakeConnections, clock: FakeClock) -> None:
        self.db = db
        self.conns = conns
        self.clock = clock

    def call(self, handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any]) -> Any:
        return handler(event, FakeContext(function_name=handler.__name__))

    def signup(self, username: str, display: str = "Someone") -> User:
        event = http_event(
            "POST",
            "POST /users",
            "/users",
            body={"username": username, "displayName": display, "email": f"{username}@example.com"},
        )
        response = self.call(users.create_user, event)
        assert response["statusCode"] == 201, response
        body = body_of(response)
        return User(body["user"]["userId"], username, body["token"])

    def connect(self, user: User, connection_id: str) -> dict[str, Any]:
        response = self.call(
            connection_handler.handler,
            ws_connect(connection_id, token=user.token, connected_at_ms=int(self.clock() * 1000)),
        )
        assert response["statusCode"] == 200, response
        return response

    def snapshot(self) -> dict[str, list[str]]:
        """Every item of every table, as sorted JSON strings (to prove nothing changed)."""
        result = {}
        for name in ("Users", "Messages", "Notifications", "Connections"):
            page = self.db.table(name).scan()
            items = list(page.items)
            while page.last_key is not None:
                page = self.db.table(name).scan(start_key=page.last_key)
                items.extend(page.items)
            result[name] = sorted(json.dumps(i, sort_keys=True, default=str) for i in items)
        return result
