"""The DynamoDB backend's pure parts: the wire codec, expressions, capacity reports, key types."""

from __future__ import annotations

from typing import Any

import pytest

from heron.errors import TableValidationError
from heron.tables.base import SortKeyCondition, all_of, attribute_not_exists, equals, not_equals
from heron.tables.dynamodb_codec import decode, decode_item, encode, encode_item, number_text
from heron.tables.dynamodb_expressions import (
    Placeholders,
    condition_expression,
    key_condition,
    update_expression,
    write_condition,
)
from heron.tables.dynamodb_responses import consumed, consumed_by_table
from heron.tables.dynamodb_rules import check_key_types, key_matches_types, write_estimate
from heron.tables.schema import connections_schema, users_schema


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        "",
        "é",
        0,
        -7,
        2**62,
        0.1,
        -2.5,
        1e20,
        [1, "a", None],
        {"a": {"b": [True]}},
    ],
)
def test_values_round_trip(value: Any) -> None:
    assert decode(encode(value)) == value


def test_numbers_travel_as_shortest_decimal_text() -> None:
    assert number_text(0.1) == "0.1"
    assert number_text(3) == "3"
    assert encode(True) == {"BOOL": True}  # not the number 1
    assert decode({"N": "3.0"}) == 3 and isinstance(decode({"N": "3.0"}), int)
    assert isinstance(decode({"N": "1e30"}), float)  # beyond 64 bits: not an int
    item = {"userId": "u", "tags": ("x", 1)}
    assert decode_item(encode_item(item)) == {"userId": "u", "tags": ["x", 1]}


def test_conditions_use_placeholders_for_every_name_and_value() -> None:
    ph = Placeholders()
    text = condition_expression(
        all_of(attribute_not_exists("name"), equals("status", "on"), not_equals("n", 1)), ph
    )
    assert text is not None and "name" not in text and "status" not in text
    params = ph.params()
    assert set(params["ExpressionAttributeNames"].values()) == {"name", "status", "n"}
    assert {"S": "on"} in params["ExpressionAttributeValues"].values()
    assert condition_expression(all_of(), Placeholders()) is None


def test_ttl_widens_conditions_that_hold_for_a_missing_item() -> None:
    ph = Placeholders()
    widened = write_condition(attribute_not_exists("connectionId"), "expiresAt", 100.0, ph)
    assert widened is not None and ") OR (attribute_type(" in widened
    narrowed = write_condition(equals("userId", "u"), "expiresAt", 100.0, Placeholders())
    assert narrowed is not None and "AND NOT (attribute_type(" in narrowed
    assert write_condition(None, "expiresAt", 100.0, Placeholders()) is None
    assert write_condition(equals("a", 1), None, 100.0, Placeholders()) == (
        "attribute_type(#n0, :v0) AND #n0 = :v1"
    )


def test_key_conditions_and_update_expressions() -> None:
    ph = Placeholders()
    text = key_condition("pk", "p", "sk", SortKeyCondition("between", "a", "b"), ph)
    assert text == "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2"
    everything = key_condition("pk", "p", "sk", SortKeyCondition("begins_with", ""), Placeholders())
    assert everything == "#n0 = :v0"
    assert update_expression({"a": 1}, ["b", "b"], Placeholders()) == "SET #n0 = :v0 REMOVE #n1"
    assert update_expression({}, [], Placeholders()) is None


def test_consumed_capacity_reports() -> None:
    indexes = consumed(
        {
            "TableName": "Users",
            "CapacityUnits": 3.0,
            "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"username-index": {"CapacityUnits": 2.0}},
        }
    )
    assert (indexes.table, indexes.indexes, indexes.reported) == (
        1.0,
        {"username-index": 2.0},
        True,
    )
    assert indexes.read_units("username-index") == 2.0 and indexes.read_units(None) == 1.0
    total = consumed({"TableName": "Users", "CapacityUnits": 1.5})
    assert total.read_units("username-index") == 1.5  # TOTAL shape: all of it
    assert not consumed(None).reported
    both = consumed_by_table(
        [{"TableName": "A", "CapacityUnits": 2.0}, {"TableName": "B", "CapacityUnits": 4.0}]
    )
    assert (both["A"].table, both["B"].table) == (2.0, 4.0)


def test_key_types_are_checked() -> None:
    types = {"connectionId": "S", "userId": "S", "connectedAt": "N"}
    assert key_matches_types({"connectedAt": 5}, types)
    assert not key_matches_types({"connectedAt": "5"}, types)
    with pytest.raises(TableValidationError, match="Type mismatch for Index Key connectedAt"):
        check_key_types(connections_schema(), {"connectionId": "c", "connectedAt": "x"}, types)
    check_key_types(connections_schema(), {"connectionId": "c", "connectedAt": [1]}, types)


def test_write_estimate_follows_dynamodb_billing() -> None:
    schema = users_schema()
    units, per_index = write_estimate(schema, None, {"userId": "u", "username": "ada"})
    assert (units, per_index) == (1.0, [("username-index", 1.0)])
    units, per_index = write_estimate(schema, {"userId": "u"}, {"userId": "u", "x": "y" * 2000})
    assert (units, per_index) == (2.0, [])
