"""The four DynamoDB tables as CloudFormation resources: keys, global secondary indexes, TTL.

Every key attribute is a string (Heron's ids, ``sk`` = ``<time>#<id>``) except ``connectedAt``,
the Connections ``userId-index`` sort key, which is epoch milliseconds. Tables are on-demand
unless their schema is provisioned; point-in-time recovery is on, since these hold user data.
"""

from __future__ import annotations

from typing import Any

from heron.deploy.names import check_name, logical_id
from heron.tables.base import TableSchema

#: Key attributes that hold numbers; every other key attribute is a string.
NUMERIC_KEYS = frozenset({"connectedAt"})


def table_logical_id(schema_name: str) -> str:
    """The logical id of the table Heron calls ``schema_name`` (``Users`` -> ``UsersTable``)."""
    return logical_id(schema_name, "Table")


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
    return keys


def table_resource(schema: TableSchema, physical_name: str) -> dict[str, Any]:
    """The ``AWS::DynamoDB::Table`` resource for ``schema`` named ``physical_name``."""
    check_name("table name", physical_name)
    attributes: dict[str, str] = {}
    for name in (schema.partition_key, schema.sort_key):
        if name:
            attributes[name] = "N" if name in NUMERIC_KEYS else "S"
    indexes = []
    for index in schema.indexes:
        for name in (index.partition_key, index.sort_key):
            if name:
                attributes[name] = "N" if name in NUMERIC_KEYS else "S"
        gsi: dict[str, Any] = {
            "IndexName": index.name,
            "KeySchema": _key_schema(index.partition_key, index.sort_key),
            "Projection": {"ProjectionType": "ALL"},
        }
        if schema.provisioned:
            gsi["ProvisionedThroughput"] = _throughput(schema.provisioned)
        indexes.append(gsi)
    props: dict[str, Any] = {
        "TableName": physical_name,
        "AttributeDefinitions": [
            {"AttributeName": k, "AttributeType": t} for k, t in attributes.items()
        ],
        "KeySchema": _key_schema(schema.partition_key, schema.sort_key),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "Tags": [{"Key": "heron:table", "Value": schema.name}],
    }
    if schema.provisioned:
        props["BillingMode"] = "PROVISIONED"
        props["ProvisionedThroughput"] = _throughput(schema.provisioned)
    else:
        props["BillingMode"] = "PAY_PER_REQUEST"
    if indexes:
        props["GlobalSecondaryIndexes"] = indexes
    if schema.ttl_attribute:
        props["TimeToLiveSpecification"] = {
            "AttributeName": schema.ttl_attribute,
            "Enabled": True,
        }
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def _throughput(units: tuple[int, int]) -> dict[str, int]:
    return {"ReadCapacityUnits": units[0], "WriteCapacityUnits": units[1]}
