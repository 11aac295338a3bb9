"""``table_capacity``: provisioned tables from configuration, and the metrics they publish."""

from __future__ import annotations

import asyncio

import pytest

from heron.errors import ConfigError
from heron.settings import load_settings
from heron.tables.provisioned_metrics import (
    provisioned_capacity_datums,
    publish_provisioned_capacity,
)
from heron.tables.schema import parse_table_capacity, schemas_from_env, schemas_with_capacity
from heron.telemetry.sink import MemorySink


def test_capacity_text_names_logical_tables() -> None:
    assert parse_table_capacity(" Messages=10/5, Users=1/2 ") == {
        "Messages": (10, 5),
        "Users": (1, 2),
    }
    assert parse_table_capacity("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Messages=10", "Table=READ/WRITE"),
        ("Messages=a/5", "Table=READ/WRITE"),
        ("Chats=1/1", "unknown table 'Chats'"),
        ("Users=0/1", "at least 1"),
        ("Users=1/1,Users=2/2", "twice"),
    ],
)
def test_bad_capacity_text_is_refused_with_the_entry(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_table_capacity(text)


def test_schemas_take_the_capacity_and_keep_physical_names() -> None:
    env = {"MESSAGES_TABLE": "prod-messages", "HERON_TABLE_CAPACITY": "Messages=10/5"}
    by_name = {s.name: s for s in schemas_from_env(env)}
    assert by_name["prod-messages"].provisioned == (10, 5)
    assert by_name["Users"].provisioned is None
    assert {s.name: s.provisioned for s in schemas_with_capacity("Users=3/4", {})}["Users"] == (
        3,
        4,
    )


def test_the_setting_is_validated_at_load() -> None:
    with pytest.raises(ConfigError, match="table_capacity"):
        load_settings(None, overrides={"table_capacity": "Nope=1/1"}, environ={})


def test_provisioned_tables_and_their_indexes_publish_capacity() -> None:
    datums = provisioned_capacity_datums(schemas_with_capacity("Connections=20/8", {}), 5_000)
    got = {(d.name, d.dimensions, d.value) for d in datums}
    assert got == {
        ("ProvisionedReadCapacityUnits", (("TableName", "Connections"),), 20.0),
        ("ProvisionedWriteCapacityUnits", (("TableName", "Connections"),), 8.0),
        (
            "ProvisionedReadCapacityUnits",
            (("GlobalSecondaryIndexName", "userId-index"), ("TableName", "Connections")),
            20.0,
        ),
        (
            "ProvisionedWriteCapacityUnits",
            (("GlobalSecondaryIndexName", "userId-index"), ("TableName", "Connections")),
            8.0,
        ),
    }
    assert all(d.namespace == "AWS/DynamoDB" and d.timestamp_ms == 5_000 for d in datums)


async def test_publisher_sends_at_once_and_stops() -> None:
    sink = MemorySink()
    stop = asyncio.Event()
    task = asyncio.create_task(
        publish_provisioned_capacity(
            schemas_with_capacity("Users=2/2", {}), sink, lambda: 100.0, stop, interval_s=0.05
        )
    )
    await asyncio.sleep(0.12)
    stop.set()
    await asyncio.wait_for(task, 1.0)
    names = {d.name for d in sink.datums}
    assert names == {"ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits"}
    assert len(sink.datums) >= 2 * 2 * 2  # two rounds of table + index, read and write
