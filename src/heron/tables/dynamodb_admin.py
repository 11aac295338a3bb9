"""Create Heron's DynamoDB tables: keys, global secondary indexes, billing mode and TTL.

``ensure_tables`` is idempotent: a table that already exists with the expected keys and indexes
is reported and left alone (its TTL is switched on if it is off); one with other keys is a
ConfigError, since Heron cannot use it. ``heron tables create`` and ``heron up`` on the
``dynamodb`` backend both call it; deployed stacks get the same definitions from CloudFormation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from heron.errors import ConditionFailedError, ConfigError, TableError
from heron.tables.base import TableSchema
from heron.tables.dynamodb_codec import key_attribute_types
from heron.tables.dynamodb_responses import error_code, map_error

if TYPE_CHECKING:
    from heron.tables.dynamodb import DynamoDatabase

#: How long to wait for a new table (and its indexes) to become ACTIVE.
ACTIVE_TIMEOUT_S = 120.0
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TableReport:
    """What ``ensure_tables`` did with one table."""

    name: str
    status: Literal["created", "exists"]
    ttl: str | None = None


def key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    """A KeySchema list: the HASH key, then the RANGE key when there is one."""
    keys = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
    return keys


def table_definition(schema: TableSchema, types: Mapping[str, str]) -> dict[str, Any]:
    """The CreateTable request for ``schema`` (every index projects all attributes)."""
    attributes = key_attribute_types(schema, types)
    definition: dict[str, Any] = {
        "TableName": schema.name,
        "KeySchema": key_schema(schema.partition_key, schema.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in attributes.items()
        ],
    }
    throughput = None
    if schema.provisioned is None:
        definition["BillingMode"] = "PAY_PER_REQUEST"
    else:
        definition["BillingMode"] = "PROVISIONED"
        throughput = {
            "ReadCapacityUnits": schema.provisioned[0],
            "WriteCapacityUnits": schema.provisioned[1],
        }
        definition["ProvisionedThroughput"] = throughput
    if schema.indexes:
        indexes = []
        for index in schema.indexes:
            entry: dict[str, Any] = {
                "IndexName": index.name,
                "KeySchema": key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            if throughput is not None:
                entry["ProvisionedThroughput"] = dict(throughput)
            indexes.append(entry)
        definition["GlobalSecondaryIndexes"] = indexes
    return definition


def shape_mismatch(definition: Mapping[str, Any], described: Mapping[str, Any]) -> str | None:
    """Why an existing table (DescribeTable's ``Table``) cannot serve ``definition``, or None."""

    def keys(entries: Any) -> list[tuple[str, str]]:
        return [(k["AttributeName"], k["KeyType"]) for k in entries or ()]

    if keys(described.get("KeySchema")) != keys(definition["KeySchema"]):
        return f"its key is {keys(described.get('KeySchema'))}, Heron needs {keys(definition['KeySchema'])}"
    types = {
        a["AttributeName"]: a["AttributeType"] for a in described.get("AttributeDefinitions") or ()
    }
    for wanted in definition["AttributeDefinitions"]:
        have = types.get(wanted["AttributeName"])
        if have is not None and have != wanted["AttributeType"]:
            return f"attribute {wanted['AttributeName']} is {have}, Heron needs {wanted['AttributeType']}"
    existing = {
        i["IndexName"]: keys(i["KeySchema"]) for i in described.get("GlobalSecondaryIndexes") or ()
    }
    for index in definition.get("GlobalSecondaryIndexes", ()):
        found = existing.get(index["IndexName"])
        if found is None:
            return f"it has no global secondary index {index['IndexName']}"
        if found != keys(index["KeySchema"]):
            return f"index {index['IndexName']} is keyed {found}, Heron needs {keys(index['KeySchema'])}"
    return None


def ensure_tables(
    client: Any,
    schemas: Sequence[TableSchema],
    *,
    key_types: Mapping[str, str] | None = None,
    progress: Progress = lambda _line: None,
    endpoint: str = "",
    timeout_s: float = ACTIVE_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> list[TableReport]:
    """Create every missing table (and its TTL); report each; raise ConfigError/TableError."""
    from heron.tables.dynamodb import DEFAULT_KEY_TYPES

    types = {**DEFAULT_KEY_TYPES, **(key_types or {})}
    reports = []
    for schema in schemas:
        try:
            definition = table_definition(schema, types)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        reports.append(_ensure(client, schema, definition, progress, endpoint, timeout_s, sleep))
    return reports


def _ensure(
    client: Any,
    schema: TableSchema,
    definition: dict[str, Any],
    progress: Progress,
    endpoint: str,
    timeout_s: float,
    sleep: Callable[[float], None],
) -> TableReport:
    name = schema.name
    described = _describe(client, name, endpoint)
    status: Literal["created", "exists"] = "exists"
    if described is None:
        progress(f"creating table {name} ...")
        try:
            client.create_table(**definition)
            status = "created"
        except Exception as exc:
            if error_code(exc) != "ResourceInUseException":  # created meanwhile by someone else
                raise _mapped(exc, name, endpoint) from exc
        described = _wait_active(client, name, endpoint, timeout_s, sleep)
    why = shape_mismatch(definition, described)
    if why is not None:
        where = endpoint or "AWS"
        raise ConfigError(
            f"table {name} at {where} exists but cannot be used: {why}; "
            "delete it or name another table (USERS_TABLE, MESSAGES_TABLE, ...)"
        )
    ttl = _ensure_ttl(client, schema, endpoint)
    keys = " + ".join(k for k in (schema.partition_key, schema.sort_key) if k)
    detail = f"key {keys}" + "".join(f", index {i.name}" for i in schema.indexes)
    detail += f", TTL on {ttl}" if ttl else ""
    progress(f"table {name}: {'created' if status == 'created' else 'already exists'} ({detail})")
    return TableReport(name, status, ttl)


def _describe(client: Any, name: str, endpoint: str) -> dict[str, Any] | None:
    try:
        table: dict[str, Any] = client.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise _mapped(exc, name, endpoint) from exc
    return table


def _wait_active(
    client: Any, name: str, endpoint: str, timeout_s: float, sleep: Callable[[float], None]
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    pause = 0.1
    while True:
        table = _describe(client, name, endpoint)
        indexes = (table or {}).get("GlobalSecondaryIndexes") or ()
        if (
            table is not None
            and table.get("TableStatus") == "ACTIVE"
            and all(i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes)
        ):
            return table
        if time.monotonic() > deadline:
            raise TableError(f"table {name} did not become ACTIVE within {timeout_s:g} s")
        sleep(pause)
        pause = min(pause * 2, 2.0)


def _ensure_ttl(client: Any, schema: TableSchema, endpoint: str) -> str | None:
    attribute = schema.ttl_attribute
    if attribute is None:
        return None
    try:
        current = client.describe_time_to_live(TableName=schema.name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            if current.get("AttributeName") not in (None, attribute):
                raise ConfigError(
                    f"table {schema.name} expires items by {current['AttributeName']}, "
                    f"Heron needs {attribute}"
                )
            return attribute
        client.update_time_to_live(
            TableName=schema.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    except ConfigError:
        raise
    except Exception as exc:
        raise _mapped(exc, schema.name, endpoint) from exc
    return attribute


def _mapped(exc: BaseException, table: str, endpoint: str) -> TableError:
    return map_error(exc, table, endpoint) or TableError(f"managing table {table} failed: {exc}")


def open_for_service(
    values: Mapping[str, Any], schemas: Sequence[TableSchema], progress: Progress
) -> Any:
    """What ``heron up`` runs on with ``tables_backend = dynamodb``: tables ensured, then opened."""
    from heron.tables.dynamodb import DynamoDatabase
    from heron.tables.dynamodb_client import DynamoConfig, make_client

    config = DynamoConfig.from_settings(values)
    progress(f"tables           DynamoDB at {config.where}")
    client = make_client(config)
    try:
        ensure_tables(client, schemas, progress=progress, endpoint=config.endpoint)
    except TableError as exc:
        client.close()
        raise ConfigError(f"the dynamodb tables backend cannot start: {exc}") from None
    except BaseException:
        client.close()
        raise
    return DynamoDatabase(client, schemas, endpoint=config.endpoint)


def sweep_table(db: DynamoDatabase, schema: TableSchema, now: float) -> int:
    """Delete the table's items whose TTL is before ``now``; return how many went.

    DynamoDB does this itself (within days, at no cost); DynamoDB Local and moto never do, so
    ``heron up`` sweeps. Each delete re-checks expiry, since a writer may refresh an item.
    """
    from heron.tables.dynamodb_codec import decode_item, encode_item, key_of
    from heron.tables.dynamodb_expressions import Placeholders, expired_expression

    if schema.ttl_attribute is None:
        return 0
    deleted = 0
    ph = Placeholders()
    request: dict[str, Any] = {
        "TableName": schema.name,
        "FilterExpression": expired_expression(schema.ttl_attribute, now, ph),
        **ph.params(),
    }
    while True:
        response = db.request(schema.name, "scan", **request)
        for raw in response.get("Items") or ():
            check = Placeholders()
            try:
                db.request(
                    schema.name,
                    "delete_item",
                    TableName=schema.name,
                    Key=encode_item(key_of(schema, decode_item(raw))),
                    ConditionExpression=expired_expression(schema.ttl_attribute, now, check),
                    **check.params(),
                )
                deleted += 1
            except ConditionFailedError:
                continue
        last = response.get("LastEvaluatedKey")
        if not last:
            return deleted
        request["ExclusiveStartKey"] = last
