"""The one seam between handlers and the outside world: database, @connections client, clock.

Built lazily from the environment on first use (so importing a handler is cheap, and the objects
live for the life of the execution environment, like a boto3 client created at module level on
Lambda). Tests inject their own::

    deps.use(database=MemoryDatabase(...), connections=FakeConnections(), clock=lambda: 1.7e9)
    ...
    deps.reset()
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from heron.tables.base import Database, Table
from heron.types import Clock

if TYPE_CHECKING:
    # Imported lazily at run time: the authorizer and connectionHandler never need the client,
    # and http.client is a fifth of a cold start.
    from heron.functions.connections_client import ConnectionsClient


@dataclass(frozen=True, slots=True)
class TableNames:
    """The four table names, from ``USERS_TABLE`` and friends (defaults: Users, Messages, ...)."""

    users: str = "Users"
    messages: str = "Messages"
    notifications: str = "Notifications"
    connections: str = "Connections"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TableNames:
        """Read the names from the environment, falling back to the defaults."""
        env = os.environ if environ is None else environ
        return cls(
            users=env.get("USERS_TABLE") or "Users",
            messages=env.get("MESSAGES_TABLE") or "Messages",
            notifications=env.get("NOTIFICATIONS_TABLE") or "Notifications",
            connections=env.get("CONNECTIONS_TABLE") or "Connections",
        )


class _State:
    """The process's dependencies; None means "build from the environment when first needed"."""

    database: Database | None = None
    connections: ConnectionsClient | None = None
    clock: Clock | None = None
    names: TableNames | None = None


_STATE = _State()


def _database_from_env() -> Database:
    from heron.tables import database_from_env

    return database_from_env()


def database() -> Database:
    """The Database handlers use (``heron.tables.database_from_env()`` unless injected)."""
    if _STATE.database is None:
        _STATE.database = _database_from_env()
    return _STATE.database


def connections() -> ConnectionsClient:
    """The @connections client handlers use (``connections_from_env()`` unless injected)."""
    if _STATE.connections is None:
        from heron.functions.connections_client import connections_from_env

        _STATE.connections = connections_from_env()
    return _STATE.connections


def clock() -> Clock:
    """The wall clock handlers read (``time.time`` unless injected)."""
    return _STATE.clock if _STATE.clock is not None else time.time


def names() -> TableNames:
    """The table names handlers use."""
    if _STATE.names is None:
        _STATE.names = TableNames.from_env()
    return _STATE.names


def users() -> Table:
    """The Users table."""
    return database().table(names().users)


def messages() -> Table:
    """The Messages table."""
    return database().table(names().messages)


def notifications() -> Table:
    """The Notifications table."""
    return database().table(names().notifications)


def connection_records() -> Table:
    """The Connections table."""
    return database().table(names().connections)


def use(
    *,
    database: Database | None = None,
    connections: ConnectionsClient | None = None,
    clock: Clock | None = None,
    names: TableNames | None = None,
) -> None:
    """Inject dependencies (tests, or a host that builds them itself); others stay as they were."""
    if database is not None:
        _STATE.database = database
    if connections is not None:
        _STATE.connections = connections
    if clock is not None:
        _STATE.clock = clock
    if names is not None:
        _STATE.names = names


def reset() -> None:
    """Forget every dependency, so the next use builds it from the environment again."""
    _STATE.database = None
    _STATE.connections = None
    _STATE.clock = None
    _STATE.names = None
