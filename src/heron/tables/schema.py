"""Heron's four tables: Users, Messages, Notifications and Connections, and their key helpers.

Key design follows ``serverless-runtime.md`` §6.1: Messages and Notifications sort by
``<ISO-8601 time>#<id>`` so newest-first is a reverse Query; the Notifications ``unread-index``
is sparse (``unreadUserId`` exists only while unread); Connections expire by TTL (``expiresAt``,
epoch seconds) and are found per user through ``userId-index``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

from heron.errors import ConfigError
from heron.tables.base import IndexSchema, TableSchema

USERS = "Users"
MESSAGES = "Messages"
NOTIFICATIONS = "Notifications"
CONNECTIONS = "Connections"
#: Logical table name → the environment variable that overrides its physical name.
TABLE_ENV = {
    USERS: "USERS_TABLE",
    MESSAGES: "MESSAGES_TABLE",
    NOTIFICATIONS: "NOTIFICATIONS_TABLE",
    CONNECTIONS: "CONNECTIONS_TABLE",
}

USERNAME_INDEX = "username-index"
UNREAD_INDEX = "unread-index"
USER_ID_INDEX = "userId-index"
#: The sort key attribute of Messages and Notifications: ``<time>#<id>``.
SORT_KEY = "sk"
#: The sparse attribute that puts a notification into ``unread-index`` while it is unread.
UNREAD_ATTRIBUTE = "unreadUserId"
#: The Connections TTL attribute, in epoch seconds.
EXPIRES_AT = "expiresAt"


def users_schema(name: str = USERS) -> TableSchema:
    """Users: keyed by ``userId``; ``username-index`` finds a user by name."""
    return TableSchema(
        name=name,
        partition_key="userId",
        indexes=(IndexSchema(USERNAME_INDEX, "username"),),
    )


def messages_schema(name: str = MESSAGES) -> TableSchema:
    """Messages: one partition per ``conversationId``, sorted by ``sk`` = time#messageId."""
    return TableSchema(name=name, partition_key="conversationId", sort_key=SORT_KEY)


def notifications_schema(name: str = NOTIFICATIONS) -> TableSchema:
    """Notifications: per ``userId`` sorted by time#id, with the sparse ``unread-index``."""
    return TableSchema(
        name=name,
        partition_key="userId",
        sort_key=SORT_KEY,
        indexes=(IndexSchema(UNREAD_INDEX, UNREAD_ATTRIBUTE, SORT_KEY),),
    )


def connections_schema(name: str = CONNECTIONS) -> TableSchema:
    """Connections: keyed by ``connectionId``; ``userId-index`` lists a user's devices."""
    return TableSchema(
        name=name,
        partition_key="connectionId",
        indexes=(IndexSchema(USER_ID_INDEX, "userId", "connectedAt"),),
        ttl_attribute=EXPIRES_AT,
    )


def default_schemas(names: Mapping[str, str] | None = None) -> tuple[TableSchema, ...]:
    """The four schemas; ``names`` maps a logical name (``"Users"``...) to a physical one."""
    names = dict(names or {})
    unknown = set(names) - set(TABLE_ENV)
    if unknown:
        raise ConfigError(f"Unknown logical table names {sorted(unknown)}; use {list(TABLE_ENV)}")
    for logical, physical in names.items():
        if not isinstance(physical, str) or not physical:
            raise ConfigError(f"The table name for {logical} must be a non-empty string")
    schemas = (
        users_schema(names.get(USERS, USERS)),
        messages_schema(names.get(MESSAGES, MESSAGES)),
        notifications_schema(names.get(NOTIFICATIONS, NOTIFICATIONS)),
        connections_schema(names.get(CONNECTIONS, CONNECTIONS)),
    )
    physical_names = [s.name for s in schemas]
    if len(set(physical_names)) != len(physical_names):
        raise ConfigError(f"Two tables share a name: {physical_names}")
    return schemas


def schemas_from_env(env: Mapping[str, str] | None = None) -> tuple[TableSchema, ...]:
    """The four schemas, named by USERS_TABLE, MESSAGES_TABLE, ... when those are set."""
    source = os.environ if env is None else env
    return default_schemas(
        {logical: source[var] for logical, var in TABLE_ENV.items() if source.get(var)}
    )


def iso_ms(epoch_ms: int) -> str:
    """An epoch-milliseconds time as sortable ISO-8601 UTC: ``2024-03-14T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def time_sort_key(epoch_ms: int, item_id: str) -> str:
    """The ``sk`` of a message or notification: ``<ISO time>#<id>``, sorting by time then id."""
    if "#" in item_id:
        raise ValueError(f"An id in a sort key must not contain '#': {item_id!r}")
    return f"{iso_ms(epoch_ms)}#{item_id}"


def split_sort_key(sk: str) -> tuple[str, str]:
    """Split a ``<time>#<id>`` sort key into its time and id parts."""
    time_part, sep, item_id = sk.rpartition("#")
    if not sep:
        raise ValueError(f"Not a <time>#<id> sort key: {sk!r}")
    return time_part, item_id
