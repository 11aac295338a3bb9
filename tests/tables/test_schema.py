"""Heron's four table schemas, name overrides and the time#id sort key helpers."""

from __future__ import annotations

import pytest

from heron.errors import ConfigError
from heron.tables.schema import (
    default_schemas,
    iso_ms,
    schemas_from_env,
    split_sort_key,
    time_sort_key,
)


def test_default_schemas() -> None:
    users, messages, notifications, connections = default_schemas()
    assert (users.name, users.partition_key, users.sort_key) == ("Users", "userId", None)
    assert [(i.name, i.partition_key) for i in users.indexes] == [("username-index", "username")]
    assert (messages.partition_key, messages.sort_key) == ("conversationId", "sk")
    (unread,) = notifications.indexes
    assert (unread.name, unread.partition_key, unread.sort_key) == (
        "unread-index",
        "unreadUserId",
        "sk",
    )
    (by_user,) = connections.indexes
    assert (by_user.name, by_user.partition_key, by_user.sort_key) == (
        "userId-index",
        "userId",
        "connectedAt",
    )
    assert connections.ttl_attribute == "expiresAt"
    assert all(s.provisioned is None for s in default_schemas())


def test_name_overrides() -> None:
    names = [s.name for s in default_schemas({"Users": "dev-users", "Connections": "dev-conns"})]
    assert names == ["dev-users", "Messages", "Notifications", "dev-conns"]
    env = {"USERS_TABLE": "u", "MESSAGES_TABLE": "m", "NOTIFICATIONS_TABLE": "", "OTHER": "x"}
    assert [s.name for s in schemas_from_env(env)] == ["u", "m", "Notifications", "Connections"]


@pytest.mark.parametrize("names", [{"Nope": "x"}, {"Users": ""}, {"Users": "Messages"}])
def test_bad_overrides(names: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        default_schemas(names)


def test_time_sort_keys_sort_by_time_then_id() -> None:
    assert iso_ms(1_710_417_600_007) == "2024-03-14T12:00:00.007Z"
    keys = [time_sort_key(ms, i) for ms, i in [(999, "b"), (1_000, "a"), (999, "a"), (10**12, "z")]]
    assert sorted(keys) == [keys[2], keys[0], keys[1], keys[3]]
    assert split_sort_key(keys[0]) == ("1970-01-01T00:00:00.999Z", "b")
    with pytest.raises(ValueError):
        time_sort_key(0, "a#b")
    with pytest.raises(ValueError):
        split_sort_key("no-hash")
