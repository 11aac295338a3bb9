"""WebSocket chat between simulated users, measuring end-to-end message latency.

Each ``ChatConnection`` reads its socket in a background task. Before a message is sent, the
recipient's connection is told to expect it; the latency is the time from send to the moment the
recipient's frame carrying that message arrives. Frames are matched on ``clientMessageId`` when
the service includes it, else on the (unique) text.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from heron.load.client import SimUser, new_client_message_id
from heron.load.summary import Recorder
from heron.types import Clock

#: How long a sent WebSocket message may take to reach its recipient before it counts as lost.
DELIVERY_TIMEOUT_S = 5.0


def ws_url_for(base_url: str, token: str) -> str:
    """The WebSocket API URL (``/ws?token=…``) on the same host and port as the HTTP API."""
    root = base_url.rstrip("/")
    if root.startswith("https://"):
        root = "wss://" + root[len("https://") :]
    elif root.startswith("http://"):
        root = "ws://" + root[len("http://") :]
    return f"{root}/ws?token={token}"


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    # Delivery frames may wrap the message ({"type": "message", "message": {...}}); look inside.
    if depth > 4:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _walk(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, depth + 1)


def frame_keys(frame: Any) -> tuple[str | None, list[str]]:
    """Find a frame's ``clientMessageId`` and its candidate message texts, wherever they sit."""
    client_message_id: str | None = None
    texts: list[str] = []
    for key, value in _walk(frame):
        if key == "clientMessageId" and isinstance(value, str) and client_message_id is None:
            client_message_id = value
        elif key in ("text", "message") and isinstance(value, str):
            texts.append(value)
    return client_message_id, texts


def is_error_frame(frame: Any) -> bool:
    """Whether a frame is API Gateway's route-failure reply (``{"message": "Internal server
    error", "connectionId": …}``) rather than a delivered message."""
    if not isinstance(frame, dict):
        return False
    message = frame.get("message")
    return isinstance(message, str) and "text" not in frame and "error" in message.lower()


class ChatConnection:
    """One user's open WebSocket, with a reader task that resolves expected deliveries."""

    def __init__(self, user: SimUser, ws: ClientConnection, recorder: Recorder, clock: Clock):
        """Wrap an open connection; use ``ChatConnection.open`` to connect."""
        self.user = user
        self.ws = ws
        self.recorder = recorder
        self.clock = clock
        self.closed = False
        self.other_frames = 0
        self._by_id: dict[str, asyncio.Future[float]] = {}
        self._by_text: dict[str, str] = {}
        self._reader = asyncio.create_task(self._read(), name=f"ws-reader-{user.username}")

    @classmethod
    async def open(
        cls, base_url: str, user: SimUser, recorder: Recorder, clock: Clock, timeout_s: float = 10.0
    ) -> ChatConnection:
        """Connect ``user`` to the WebSocket API; raises on refusal or timeout."""
        ws = await connect(ws_url_for(base_url, user.token), open_timeout=timeout_s)
        return cls(user, ws, recorder, clock)

    def expect(self, client_message_id: str, text: str) -> asyncio.Future[float]:
        """Register a message this connection should receive; the future gets its arrival time."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._by_id[client_message_id] = future
        self._by_text[text] = client_message_id
        return future

    def forget(self, client_message_id: str, text: str) -> None:
        """Stop expecting a message (sent failed or gave up waiting)."""
        self._by_id.pop(client_message_id, None)
        self._by_text.pop(text, None)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one JSON frame."""
        await self.ws.send(orjson.dumps(frame).decode())

    async def close(self) -> None:
        """Close the socket and stop the reader."""
        self.closed = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2.0)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._on_frame(raw, self.clock())
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            for future in self._by_id.values():
                if not future.done():
                    future.set_exception(ConnectionError("WebSocket closed"))

    def _on_frame(self, raw: str | bytes, arrived: float) -> None:
        try:
            frame = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.other_frames += 1
            return
        client_message_id, texts = frame_keys(frame)
        if client_message_id is None or client_message_id not in self._by_id:
            client_message_id = next((self._by_text[t] for t in texts if t in self._by_text), None)
        if client_message_id is None:
            if is_error_frame(frame):
                self.recorder.error("ws_error_frame")
            else:
                self.other_frames += 1
            return
        future = self._by_id.pop(client_message_id, None)
        self._by_text = {t: c for t, c in self._by_text.items() if c != client_message_id}
        if future is not None and not future.done():
            future.set_result(arrived)


async def send_chat_message(
    sender: ChatConnection,
    recipient: ChatConnection,
    recorder: Recorder,
    clock: Clock,
    *,
    timeout_s: float = DELIVERY_TIMEOUT_S,
) -> None:
    """Send one message over ``sender``'s socket and record its delivery latency to ``recipient``."""
    client_message_id = new_client_message_id()
    text = f"ws {sender.user.username} {client_message_id[:12]}"
    arrival = recipient.expect(client_message_id, text)
    frame = {
        "action": "sendMessage",
        "to": recipient.user.user_id,
        "text": text,
        "clientMessageId": client_message_id,
    }
    start = clock()
    try:
        if sender.closed or recipient.closed:
            raise ConnectionError("WebSocket closed")
        await sender.send(frame)
        recorder.ws_sent += 1
        arrived = await asyncio.wait_for(arrival, timeout_s)
    except TimeoutError:
        recorder.record("ws_send", "error", clock() - start, error="ws_delivery_timeout")
    except (ConnectionClosed, ConnectionError):
        recorder.record("ws_send", "error", clock() - start, error="ws_closed")
    else:
        latency = arrived - start
        recorder.ws_delivered(latency)
        recorder.record("ws_send", "delivered", latency)
        return
    finally:
        if not arrival.done():
            arrival.cancel()
    recipient.forget(client_message_id, text)
