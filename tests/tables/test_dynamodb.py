"""DynamoDB-backend behaviour beyond the shared contract, against a real moto server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from heron.errors import ConfigError, TableError, TableValidationError
from heron.tables import database_from_env, open_database, reset_database_cache
from heron.tables.base import (
    Database,
    SortKeyCondition,
    Table,
    TableSchema,
    attribute_exists,
    equals,
)
from heron.tables.dynamodb import DynamoDatabase
from heron.tables.dynamodb_admin import ensure_tables, table_definition
from heron.tables.dynamodb_client import DynamoConfig, child_environment, make_client
from heron.tables.metrics import Recorder

from .fakes import SCHEMAS, FakeClock
from .moto_server import TEST_KEY_TYPES, client_for, truncate


@pytest.fixture
def dyn(dynamo_client: Any, clock: FakeClock, recorder: Recorder) -> DynamoDatabase:
    truncate(dynamo_client, SCHEMAS)
    return DynamoDatabase(
        dynamo_client, SCHEMAS, clock=clock, recorder=recorder, key_types=TEST_KEY_TYPES
    )


def raw_item(client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(TableName=table, Key=key).get("Item")
    return found


def test_an_update_of_an_expired_item_starts_from_the_key(
    dyn: DynamoDatabase, dynamo_client: Any, clock: FakeClock
) -> None:
    connections = dyn.table("Connections")
    old = {"connectionId": "c1", "userId": "u1", "connectedAt": 1, "expiresAt": clock() - 5}
    connections.put(old)
    # Still stored (DynamoDB deletes lazily) but expired, so the update sees no item.
    new = connections.update({"connectionId": "c1"}, {"userId": "u2", "connectedAt": 2})
    assert new == {"connectionId": "c1", "userId": "u2", "connectedAt": 2}
    stored = raw_item(dynamo_client, "Connections", {"connectionId": {"S": "c1"}})
    assert stored is not None and "expiresAt" not in stored
    # A live item is updated in place, keeping its other attributes.
    merged = connections.update({"connectionId": "c1"}, {"userId": "u3"})
    assert merged == {"connectionId": "c1", "userId": "u3", "connectedAt": 2}


def test_a_condition_needing_the_item_fails_on_an_expired_one(
    dyn: DynamoDatabase, clock: FakeClock
) -> None:
    connections = dyn.table("Connections")
    connections.put(
        {"connectionId": "c1", "userId": "u", "connectedAt": 1, "expiresAt": clock() - 1}
    )
    with pytest.raises(Exception, match="conditional request failed"):
        connections.update({"connectionId": "c1"}, {"x": 1}, condition=attribute_exists("userId"))
    with pytest.raises(Exception, match="conditional request failed"):
        connections.delete({"connectionId": "c1"}, condition=equals("userId", "u"))


def test_key_types_are_enforced_on_writes_and_match_nothing_on_reads(
    dyn: DynamoDatabase, dynamo_client: Any
) -> None:
    scores = dyn.table("Scores")
    with pytest.raises(TableValidationError, match="Type mismatch"):
        scores.put({"game": "g", "score": "10"})
    with pytest.raises(TableValidationError, match="Type mismatch for Index Key connectedAt"):
        dyn.table("Connections").put({"connectionId": "c", "userId": "u", "connectedAt": "now"})
    assert dynamo_client.scan(TableName="Scores")["Items"] == []
    scores.put({"game": "g", "score": 10})
    assert scores.get({"game": "g", "score": "10"}) is None
    assert scores.delete({"game": "g", "score": "10"}) is None
    assert scores.query("g", sort=SortKeyCondition("eq", "10")).items == []
    assert scores.query(5).items == []


def test_reserved_words_and_odd_values_round_trip(dyn: DynamoDatabase) -> None:
    users = dyn.table("Users")
    item = {"userId": "u1", "name": "Ada", "status": "on", "size": 0.1, "big": 2**62, "nil": None}
    users.put(item)
    users.update(
        {"userId": "u1"}, {"status": "off"}, remove=["name"], condition=equals("size", 0.1)
    )
    expected = {"userId": "u1", "status": "off", "size": 0.1, "big": 2**62, "nil": None}
    assert users.get({"userId": "u1"}, consistent=True) == expected


def test_capacity_reported_by_the_service_is_recorded(
    dyn: DynamoDatabase, recorder: Recorder
) -> None:
    users = dyn.table("Users")
    recorder.drain()
    users.put({"userId": "u1"})
    users.get({"userId": "u1"})
    put, get = recorder.drain()
    # moto reports 1.0 for every write and 0.5 for a GetItem; the backend passes them through.
    assert (put.operation, put.write_units) == ("PutItem", 1.0)
    assert (get.operation, get.read_units) == ("GetItem", 0.5)


def test_database_from_env_opens_dynamodb(moto_endpoint: str, dynamo_client: Any) -> None:
    truncate(dynamo_client, SCHEMAS)
    env = {
        "HERON_TABLES_BACKEND": "dynamodb",
        "HERON_DYNAMODB_ENDPOINT": moto_endpoint,
        "AWS_REGION": "us-east-1",
        "USERS_TABLE": "Users",
    }
    reset_database_cache()
    try:
        db = database_from_env(env)
        assert isinstance(db, DynamoDatabase)
        assert database_from_env(dict(env)) is db
        db.table("Users").put({"userId": "from-env"})
        assert raw_item(dynamo_client, "Users", {"userId": {"S": "from-env"}}) is not None
    finally:
        reset_database_cache()


def test_a_missing_table_says_how_to_create_it(moto_endpoint: str) -> None:
    lonely = TableSchema(name="NeverCreated", partition_key="id")
    db = DynamoDatabase(client_for(moto_endpoint), [lonely], endpoint=moto_endpoint)
    with pytest.raises(TableError, match="heron tables create"):
        db.table("NeverCreated").get({"id": "x"})
    db.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_endpoint_is_a_clear_error() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    client = client_for(endpoint, max_attempts=1)
    db = DynamoDatabase(client, SCHEMAS, endpoint=endpoint)
    with pytest.raises(TableError, match=f"Cannot reach DynamoDB at {endpoint}"):
        db.table("Users").get({"userId": "u"})
    db.close()


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


def test_credentials_missing_for_aws_but_placeholders_for_a_local_endpoint(
    no_credentials: None,
) -> None:
    with pytest.raises(ConfigError, match="no AWS credentials"):
        make_client(DynamoConfig(region="eu-west-1"))
    env = child_environment(DynamoConfig(endpoint="http://127.0.0.1:8000"))
    assert env["AWS_ACCESS_KEY_ID"] == "heron-local" and "AWS_SESSION_TOKEN" not in env
    assert env["HERON_DYNAMODB_ENDPOINT"] == "http://127.0.0.1:8000"


def test_bad_client_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="http"):
        DynamoConfig(endpoint="localhost:8000")
    with pytest.raises(ConfigError, match="retry_mode"):
        DynamoConfig(retry_mode="eager")
    adaptive = make_client(DynamoConfig(endpoint="http://127.0.0.1:1", retry_mode="adaptive",
                                        access_key_id="a", secret_access_key="b"))  # fmt: skip
    assert adaptive.meta.config.retries["mode"] == "adaptive"
    adaptive.close()


def test_ensure_tables_is_idempotent_and_refuses_other_keys(
    moto_endpoint: str, dynamo_client: Any
) -> None:
    schema = TableSchema(name="Ensured", partition_key="id", ttl_attribute="ttl")
    lines: list[str] = []
    first = ensure_tables(dynamo_client, [schema], progress=lines.append, endpoint=moto_endpoint)
    again = ensure_tables(dynamo_client, [schema], progress=lines.append, endpoint=moto_endpoint)
    assert [r.status for r in first + again] == ["created", "exists"]
    assert lines[-1] == "table Ensured: already exists (key id, TTL on ttl)"
    ttl = dynamo_client.describe_time_to_live(TableName="Ensured")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")
    other = TableSchema(name="Ensured", partition_key="id", sort_key="sk")
    with pytest.raises(ConfigError, match="cannot be used"):
        ensure_tables(dynamo_client, [other], endpoint=moto_endpoint)
    dynamo_client.delete_table(TableName="Ensured")


def test_table_definitions_follow_the_schemas() -> None:
    by_name = {s.name: table_definition(s, {"connectedAt": "N", "score": "N"}) for s in SCHEMAS}
    connections = by_name["Connections"]
    assert {"AttributeName": "connectedAt", "AttributeType": "N"} in connections[
        "AttributeDefinitions"
    ]
    assert connections["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "ALL"}
    assert by_name["Users"]["BillingMode"] == "PAY_PER_REQUEST"
    limited = by_name["Limited"]
    assert limited["BillingMode"] == "PROVISIONED"
    assert limited["ProvisionedThroughput"] == {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}


def test_open_database_opens_dynamodb_and_it_satisfies_the_protocols(
    moto_endpoint: str, tmp_path: Any
) -> None:
    config = DynamoConfig(endpoint=moto_endpoint, access_key_id="a", secret_access_key="b")
    opened = open_database("dynamodb", tmp_path, SCHEMAS, dynamodb=config)
    assert isinstance(opened, DynamoDatabase)
    # mypy checks these assignments: the backend is structurally a Database and a Table.
    db: Database = opened
    table: Table = opened.table("Users")
    assert table.schema.name == "Users"
    db.close()
    assert not (tmp_path / "tables.db").exists()
