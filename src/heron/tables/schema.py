"""Heron's four tables: Users, Messages, Notifications and Connections, and their key helpers.

Key design follows ``serverless-runtime.md`` §6.1: Messages and Notifications sort by
``<ISO-8601 time>#<id>`` so newest-first is a reverse Query; the Notifications ``unread-index``
is sparse (``unreadUserId`` exists only while unread); Connections expire by TTL (``expiresAt``,
epoch seconds) and are found per user through ``userId-index``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
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


#: ``Table=RCU/WCU,...``: the tables in provisioned mode (the rest are on-demand).
CAPACITY_ENV = "HERON_TABLE_CAPACITY"


def parse_table_capacity(text: str) -> dict[str, tuple[int, int]]:
    """``"Messages=10/5,Users=5/5"`` as {logical table: (read units, write units)}."""
    out: dict[str, tuple[int, int]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        table, eq, units = part.partition("=")
        read, slash, write = units.partition("/")
        table = table.strip()
        if not eq or not slash or not read.strip().isdigit() or not write.strip().isdigit():
            raise ConfigError(
                f"table_capacity entry {part!r} must look like Table=READ/WRITE, e.g. Messages=10/5"
            )
        if table not in TABLE_ENV:
            raise ConfigError(
                f"table_capacity names unknown table {table!r}; use {list(TABLE_ENV)}"
            )
        if int(read) < 1 or int(write) < 1:
            raise ConfigError(f"table_capacity for {table} needs at least 1 read and 1 write unit")
        if table in out:
            raise ConfigError(f"table_capacity names {table} twice")
        out[table] = (int(read), int(write))
    return out


def default_schemas(
    names: Mapping[str, str] | None = None,
    capacity: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[TableSchema, ...]:
    """The four schemas; ``names`` maps a logical name (``"Users"``...) to a physical one and
    ``capacity`` a logical name to its provisioned (read, write) units (else on-demand)."""
    names = dict(names or {})
    capacity = dict(capacity or {})
    unknown = set(names) - set(TABLE_ENV)
    if unknown:
        raise ConfigError(f"Unknown logical table names {sorted(unknown)}; use {list(TABLE_ENV)}")
    for logical, physical in names.items():
        if not isinstance(physical, str) or not physical:
            raise ConfigError(f"The table name for {logical} must be a non-empty string")
    schemas = tuple(
        replace(schema, provisioned=capacity.get(logical))
        for logical, schema in (
            (USERS, users_schema(names.get(USERS, USERS))),
            (MESSAGES, messages_schema(names.get(MESSAGES, MESSAGES))),
            (NOTIFICATIONS, notifications_schema(names.get(NOTIFICATIONS, NOTIFICATIONS))),
            (CONNECTIONS, connections_schema(names.get(CONNECTIONS, CONNECTIONS))),
        )
    )
    physical_names = [s.name for s in schemas]
    if len(set(physical_names)) != len(physical_names):
        raise ConfigError(f"Two tables share a name: {physical_names}")
    return schemas


def schemas_from_env(env: Mapping[str, str] | None = None) -> tuple[TableSchema, ...]:
    """The four schemas, named by USERS_TABLE, MESSAGES_TABLE, ... when those are set and
    provisioned as HERON_TABLE_CAPACITY says."""
    source = os.environ if env is None else env
    return default_schemas(
        {logical: source[var] for logical, var in TABLE_ENV.items() if source.get(var)},
        parse_table_capacity(source.get(CAPACITY_ENV, "")),
    )


def schemas_with_capacity(
    capacity_text: str, env: Mapping[str, str] | None = None
) -> tuple[TableSchema, ...]:
    """``schemas_from_env`` with the ``table_capacity`` setting in place of the variable."""
    source = os.environ if env is None else env
    return schemas_from_env({**source, CAPACITY_ENV: capacity_text})


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
