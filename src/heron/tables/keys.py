"""Item and key validation, key extraction, index keys, TTL and the sort order of key values.

DynamoDB's rules, applied identically by every backend: key attributes are non-empty strings or
numbers, items are JSON-shaped, and numbers sort before strings (as SQLite orders them) so the
memory and SQLite backends page through exactly the same sequence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from heron.errors import TableValidationError
from heron.tables.base import IndexSchema, TableSchema
from heron.types import Item, Key

#: A key attribute's value: DynamoDB's S or N type.
KeyValue = str | int | float
#: The sort-key slot used for tables (and indexes) without a sort key, so keys are always pairs.
NO_SORT_KEY = ""
#: SQLite stores 64-bit integers; larger ones cannot round-trip, so they are refused.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
# DynamoDB nests lists and maps at most 32 levels deep.
_MAX_DEPTH = 32
_MAX_PARTITION_KEY_BYTES = 2048
_MAX_SORT_KEY_BYTES = 1024


def is_number(value: object) -> bool:
    """True for int and float values, which are DynamoDB numbers (bool is not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def order_value(value: KeyValue) -> tuple[int, Any]:
    """A sort key for a key value: numbers before strings, as SQLite orders mixed columns."""
    return (0, value) if is_number(value) else (1, value)


def check_value(value: Any, path: str, depth: int = 0) -> None:
    """Raise TableValidationError unless ``value`` is an attribute value Heron can store."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _check_text(value, path)
        return
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise TableValidationError(f"Number out of the 64-bit range at {path}")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TableValidationError(f"Number must be finite at {path}, got {value}")
        return
    if depth >= _MAX_DEPTH:
        raise TableValidationError(f"Nesting deeper than {_MAX_DEPTH} levels at {path}")
    if isinstance(value, list | tuple):
        for i, element in enumerate(value):
            check_value(element, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for name, element in value.items():
            if not isinstance(name, str):
                raise TableValidationError(f"Map keys must be strings at {path}")
            _check_text(name, path)
            check_value(element, f"{path}.{name}", depth + 1)
        return
    raise TableValidationError(f"Unsupported value type {type(value).__name__} at {path}")


def check_item(item: Any) -> None:
    """Raise TableValidationError unless ``item`` is a mapping of attribute names to values."""
    if not isinstance(item, dict):
        raise TableValidationError(f"An item must be a dict, got {type(item).__name__}")
    for name, value in item.items():
        check_attribute_name(name)
        check_value(value, name)


def check_attribute_name(name: Any) -> None:
    """Raise TableValidationError unless ``name`` is a non-empty attribute name."""
    if not isinstance(name, str) or not name:
        raise TableValidationError(f"Attribute names must be non-empty strings, got {name!r}")
    _check_text(name, "attribute name")


def check_key_value(attribute: str, value: Any, *, sort: bool = False) -> KeyValue:
    """Return ``value`` if it is a valid key value for ``attribute``, else raise."""
    if isinstance(value, str):
        _check_text(value, attribute)
        limit = _MAX_SORT_KEY_BYTES if sort else _MAX_PARTITION_KEY_BYTES
        if not value:
            raise TableValidationError(
                f"One or more parameter values are not valid: the key attribute {attribute!r} "
                "must not be an empty string"
            )
        if len(value.encode("utf-8")) > limit:
            raise TableValidationError(f"Key attribute {attribute!r} is longer than {limit} bytes")
        return value
    if is_number(value):
        check_value(value, attribute)
        return value  # type: ignore[no-any-return]
    raise TableValidationError(
        f"Key attribute {attribute!r} must be a string or a number, got {type(value).__name__}"
    )


def extract_key(schema: TableSchema, key: Any) -> tuple[KeyValue, KeyValue]:
    """Validate a Key against the schema and return its (partition, sort) values."""
    expected = {schema.partition_key} | ({schema.sort_key} if schema.sort_key else set())
    if not isinstance(key, dict) or set(key) != expected:
        got = sorted(key) if isinstance(key, dict) else type(key).__name__
        raise TableValidationError(
            f"The provided key element does not match the schema of {schema.name}: "
            f"expected {sorted(expected)}, got {got}"
        )
    return _key_pair(schema, key)


def item_key(schema: TableSchema, item: Item) -> tuple[KeyValue, KeyValue]:
    """Return an item's (partition, sort) key values, raising if a key attribute is missing."""
    for attribute in (schema.partition_key, schema.sort_key):
        if attribute and attribute not in item:
            raise TableValidationError(
                f"One or more parameter values were invalid: Missing the key {attribute} in the item"
            )
    return _key_pair(schema, item)


def key_dict(schema: TableSchema, item: Item) -> Key:
    """The table Key of an item (its key attributes only)."""
    key: Key = {schema.partition_key: item[schema.partition_key]}
    if schema.sort_key:
        key[schema.sort_key] = item[schema.sort_key]
    return key


def index_key(index: IndexSchema, item: Item) -> tuple[KeyValue, KeyValue] | None:
    """The item's key in ``index``, or None when the item lacks an index key (sparse index)."""
    partition = item.get(index.partition_key)
    if partition is None:
        return None
    if index.sort_key is None:
        sort: KeyValue = NO_SORT_KEY
    else:
        raw = item.get(index.sort_key)
        if raw is None:
            return None
        sort = _index_value(index, index.sort_key, raw)
    return _index_value(index, index.partition_key, partition), sort


def ttl_of(schema: TableSchema, item: Item) -> float | None:
    """The item's expiry in epoch seconds, or None (non-numbers are ignored, as DynamoDB does)."""
    if schema.ttl_attribute is None:
        return None
    value = item.get(schema.ttl_attribute)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_expired(expires_at: float | None, now: float) -> bool:
    """True once ``now`` is past an item's TTL; expired items read as absent."""
    return expires_at is not None and expires_at < now


def _key_pair(schema: TableSchema, values: Mapping[str, Any]) -> tuple[KeyValue, KeyValue]:
    partition = check_key_value(schema.partition_key, values[schema.partition_key])
    if schema.sort_key is None:
        return partition, NO_SORT_KEY
    return partition, check_key_value(schema.sort_key, values[schema.sort_key], sort=True)


def _index_value(index: IndexSchema, attribute: str, value: Any) -> KeyValue:
    if isinstance(value, str) and value:
        return value
    if is_number(value):
        return value  # type: ignore[no-any-return]
    raise TableValidationError(
        "One or more parameter values were invalid: Type mismatch for Index Key "
        f"{attribute} in index {index.name} (a non-empty string or a number is required)"
    )


def _check_text(text: str, path: str) -> None:
    # Lone surrogates cannot be encoded as UTF-8, so neither DynamoDB nor SQLite could store them.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise TableValidationError(f"String is not valid Unicode at {path}") from None
