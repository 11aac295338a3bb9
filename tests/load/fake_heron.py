"""A small in-memory fake of Heron's application API, served by a real uvicorn on a free port.

It implements the routes the load generator uses, including ``/ws`` delivering ``sendMessage``
frames (and HTTP-sent messages) to the recipient's sockets, and records what it saw.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


@dataclass
class FakeHeron:
    """The fake service's state plus knobs a test may turn."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    notifications: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sockets: dict[str, list[WebSocket]] = field(default_factory=dict)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    ws_frames_received: int = 0
    deliver_ws: bool = True
    fail_history: bool = False
    reject_ws: bool = False
    signup_status: int | None = None  # answer every sign-up with this status when set

    def reset(self) -> None:
        """Forget everything and restore the knobs."""
        self.__init__()  # type: ignore[misc]

    def auth(self, request: Request) -> str | None:
        """The caller's userId, or None if the bearer token is missing or unknown."""
        header = request.headers.get("authorization", "")
        return (
            self.tokens.get(header.removeprefix("Bearer "))
            if header.startswith("Bearer ")
            else None
        )

    async def deliver(self, message: dict[str, Any]) -> None:
        """Push a message to every socket of its recipient."""
        if not self.deliver_ws:
            return
        for ws in list(self.sockets.get(message["to"], [])):
            await ws.send_text(json.dumps({"type": "message", "message": message}))

    async def store(self, sender: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Store a message idempotently; returns (status, body)."""
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return 400, {"error": "text is required", "field": "text"}
        if body.get("to") not in self.users:
            return 404, {"error": "recipient not found", "field": "to"}
        key = (sender, str(body.get("clientMessageId")))
        if key in self.messages:
            return 200, {"message": self.messages[key]}
        message = {
            "messageId": uuid.uuid4().hex,
            "from": sender,
            "to": body["to"],
            "text": body["text"],
            "clientMessageId": body.get("clientMessageId"),
        }
        self.messages[key] = message
        self.notifications.setdefault(body["to"], []).append(
            {"notificationId": uuid.uuid4().hex, "read": False, "messageId": message["messageId"]}
        )
        await self.deliver(message)
        return 201, {"message": message}


def build_app(fake: FakeHeron) -> Starlette:
    """The fake's ASGI app."""

    def denied() -> JSONResponse:
        return JSONResponse({"message": "Unauthorized"}, status_code=401)

    async def sign_up(request: Request) -> JSONResponse:
        fake.headers_seen.append(dict(request.headers))
        if fake.signup_status is not None:
            return JSONResponse({"message": "Service Unavailable"}, status_code=fake.signup_status)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        name = body.get("username")
        if any(u["username"] == name for u in fake.users.values()):
            return JSONResponse({"error": "username taken"}, status_code=409)
        user = {"userId": uuid.uuid4().hex, "username": name, "displayName": body["displayName"]}
        token = uuid.uuid4().hex
        fake.users[user["userId"]] = user
        fake.tokens[token] = user["userId"]
        return JSONResponse({"user": user, "token": token}, status_code=201)

    async def user(request: Request) -> JSONResponse:
        caller = fake.auth(request)
        if caller is None:
            return denied()
        target = request.path_params["user_id"]
        if target not in fake.users:
            return JSONResponse({"error": "not found"}, status_code=404)
        if request.method == "GET":
            return JSONResponse({"user": fake.users[target]})
        if caller != target:
            return JSONResponse({"error": "forbidden"}, status_code=403)
        if request.method == "PATCH":
            fake.users[target]["displayName"] = (await request.json())["displayName"]
            return JSONResponse({"user": fake.users[target]})
        del fake.users[target]
        return JSONResponse({"deleted": target})

    async def messages(request: Request) -> JSONResponse:
        caller = fake.auth(request)
        if caller is None:
            return denied()
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        status, payload = await fake.store(caller, body)
        return JSONResponse(payload, status_code=status)

    async def history(request: Request) -> JSONResponse:
        caller = fake.auth(request)
        if caller is None:
            return denied()
        if fake.fail_history:
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        peer = request.path_params["user_id"]
        found = [m for m in fake.messages.values() if {m["from"], m["to"]} == {caller, peer}]
        return JSONResponse({"messages": found[: int(request.query_params.get("limit", 20))]})

    async def notifications(request: Request) -> JSONResponse:
        caller = fake.auth(request)
        if caller is None:
            return denied()
        items = [n for n in fake.notifications.get(caller, []) if not n["read"]]
        return JSONResponse({"notifications": items})

    async def read(request: Request) -> JSONResponse:
        caller = fake.auth(request)
        if caller is None:
            return denied()
        for n in fake.notifications.get(caller, []):
            if n["notificationId"] == request.path_params["nid"]:
                n["read"] = True
                return JSONResponse({"notification": n})
        return JSONResponse({"error": "not found"}, status_code=404)

    async def ws_endpoint(websocket: WebSocket) -> None:
        caller = fake.tokens.get(websocket.query_params.get("token", ""))
        if caller is None or fake.reject_ws:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        fake.sockets.setdefault(caller, []).append(websocket)
        try:
            while True:
                frame = json.loads(await websocket.receive_text())
                fake.ws_frames_received += 1
                if frame.get("action") == "sendMessage":
                    await fake.store(caller, frame)
        except WebSocketDisconnect:
            pass
        finally:
            fake.sockets[caller].remove(websocket)

    return Starlette(
        routes=[
            Route("/users", sign_up, methods=["POST"]),
            Route("/users/{user_id}", user, methods=["GET", "PATCH", "DELETE"]),
            Route("/messages", messages, methods=["POST"]),
            Route("/conversations/{user_id}/messages", history, methods=["GET"]),
            Route("/notifications", notifications, methods=["GET"]),
            Route("/notifications/{nid}/read", read, methods=["POST"]),
            WebSocketRoute("/ws", ws_endpoint),
        ]
    )


@dataclass
class Served:
    """A running fake: its base URL and state."""

    url: str
    fake: FakeHeron
