"""The live WebSocket connections: connection id → a small record with the socket's send function.

A record is a slotted object of a few fields (≈ 0.5 KiB); no per-connection task or timer is
created here — idle and max-age expiry are found by one periodic sweep over all connections.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

#: The ASGI ``send`` callable of the socket.
SendFn = Callable[[MutableMapping[str, Any]], Awaitable[None]]

GOING_AWAY = 1001
MESSAGE_TOO_BIG = 1009


class Connection:
    """One accepted WebSocket connection."""

    __slots__ = (
        "close_code",
        "close_reason",
        "connected_at",
        "connection_id",
        "last_active",
        "send_fn",
        "source_ip",
        "user_agent",
    )

    def __init__(
        self,
        connection_id: str,
        send_fn: SendFn,
        connected_at: float,
        source_ip: str,
        user_agent: str | None,
    ) -> None:
        self.connection_id = connection_id
        self.send_fn = send_fn
        self.connected_at = connected_at
        self.last_active = connected_at
        self.source_ip = source_ip
        self.user_agent = user_agent
        # Set when the gateway closes the socket itself, so $disconnect reports our code.
        self.close_code: int | None = None
        self.close_reason = ""

    async def send(self, data: str | bytes, now: float) -> bool:
        """Send one message to the client; False when the socket is already gone."""
        message: dict[str, Any] = {"type": "websocket.send"}
        message["text" if isinstance(data, str) else "bytes"] = data
        try:
            await self.send_fn(message)
        except Exception:
            # The server raises once the peer is gone (ClientDisconnected, or a RuntimeError after
            # close); either way the connection is dead for our purposes.
            return False
        self.last_active = now
        return True

    async def close(self, code: int, reason: str = "") -> None:
        """Close the socket from the server side with ``code`` (first close wins)."""
        if self.close_code is not None:
            return
        self.close_code = code
        self.close_reason = reason
        # Already closed by the peer means nothing is left to do.
        with contextlib.suppress(Exception):
            await self.send_fn({"type": "websocket.close", "code": code, "reason": reason})


class ConnectionRegistry:
    """Connection id → Connection, plus the expiry sweep."""

    __slots__ = ("_connections", "removed")

    def __init__(self) -> None:
        self._connections: dict[str, Connection] = {}
        #: How many connections have been removed so far (for ``gc_freeze``).
        self.removed = 0

    def add(self, connection: Connection) -> None:
        """Register an accepted connection."""
        self._connections[connection.connection_id] = connection

    def get(self, connection_id: str) -> Connection | None:
        """The live connection with this id, or None."""
        return self._connections.get(connection_id)

    def remove(self, connection_id: str) -> Connection | None:
        """Forget a connection (it has disconnected); return it if it was known."""
        connection = self._connections.pop(connection_id, None)
        if connection is not None:
            self.removed += 1
        return connection

    def __len__(self) -> int:
        return len(self._connections)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._connections.values()))

    def expired(self, now: float, idle_timeout_s: float, max_age_s: float) -> list[Connection]:
        """Connections idle longer than ``idle_timeout_s`` or older than ``max_age_s`` at ``now``."""
        return [
            c
            for c in self._connections.values()
            if c.close_code is None
            and (now - c.last_active >= idle_timeout_s or now - c.connected_at >= max_age_s)
        ]
