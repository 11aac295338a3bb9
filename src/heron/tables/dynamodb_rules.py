"""Checks the DynamoDB backend makes before a request, and its capacity estimate, purely.

DynamoDB declares each key attribute's type (S or N); a key value of the other type is
refused on writes and matches nothing on reads, which is what the other backends mean too. The
remaining checks are the shared core's rules, so every backend refuses the same input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from heron.errors import TableValidationError
from heron.tables.base import IndexSchema, TableSchema
from heron.tables.capacity import index_write_units, item_size, write_units
from heron.tables.dynamodb_codec import key_type
from heron.tables.keys import check_attribute_name, check_key_value, check_value, index_key
from heron.types import Item

_TYPE_NAMES = {"S": "STRING", "N": "NUMBER"}


def key_matches_types(values: Mapping[str, Any], types: Mapping[str, str]) -> bool:
    """True unless a key attribute in ``values`` has the other scalar type than declared."""
    for name, value in values.items():
        wanted = types.get(name)
        if (
            wanted is not None
            and isinstance(value, str | int | float)
            and key_type(value) != wanted
        ):
            return False
    return True


def check_key_types(schema: TableSchema, item: Mapping[str, Any], types: Mapping[str, str]) -> None:
    """Raise TableValidationError when a table or index key attribute has the wrong type."""
    for name, wanted in types.items():
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue  # absent, or a non-scalar the shared key checks already name
        if key_type(value) != wanted:
            role = "key" if name in (schema.partition_key, schema.sort_key) else "Index Key"
            raise TableValidationError(
                f"One or more parameter values were invalid: Type mismatch for {role} {name} "
                f"expected: {wanted} actual: {key_type(value)} ({_TYPE_NAMES[wanted]} wanted)"
            )


def check_limit(limit: Any) -> None:
    """Raise TableValidationError unless ``limit`` is None or an integer of at least 1."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise TableValidationError(f"Limit must be an integer of at least 1, got {limit!r}")


def check_start_key(
    schema: TableSchema, start_key: Any, gsi: IndexSchema | None, scan: bool
) -> None:
    """Raise TableValidationError unless ``start_key`` is a page token for this table/index."""
    if not isinstance(start_key, dict):
        raise TableValidationError("The provided starting key is invalid: not a key mapping")
    wanted = [schema.partition_key, schema.sort_key]
    if gsi is not None and not scan:
        wanted += [gsi.partition_key, gsi.sort_key]
    names = {n for n in wanted if n}
    if set(start_key) != names:
        raise TableValidationError(
            f"The provided starting key is invalid: expected {sorted(names)}, "
            f"got {sorted(start_key)}"
        )
    for name in names:
        check_key_value(name, start_key[name])


def check_update(schema: TableSchema, changes: Any, remove: Any) -> None:
    """Raise TableValidationError for an update the core would refuse (keys, overlaps, values)."""
    if not isinstance(changes, Mapping):
        raise TableValidationError("Update changes must be a mapping of attribute to value")
    if isinstance(remove, str) or not isinstance(remove, Sequence | Set):
        raise TableValidationError("Update remove must be a sequence of attribute names")
    keys = {schema.partition_key, schema.sort_key}
    for name, value in changes.items():
        check_attribute_name(name)
        check_value(value, name)
    for name in remove:
        check_attribute_name(name)
    for name in (*changes, *remove):
        if name in keys:
            raise TableValidationError(
                f"Cannot update attribute {name}. This attribute is part of the key"
            )
    overlap = set(changes) & set(remove)
    if overlap:
        raise TableValidationError(
            "Two document paths overlap in one update: " + ", ".join(sorted(overlap))
        )
    for index in schema.indexes:
        # An index key must stay a non-empty string or a number (index_key says which).
        probe = {index.partition_key: 0, **({index.sort_key: 0} if index.sort_key else {})}
        index_key(index, {**probe, **{k: v for k, v in changes.items() if k in probe}})


def write_estimate(
    schema: TableSchema, old: Item | None, new: Item | None
) -> tuple[float, list[tuple[str, float]]]:
    """Table and per-index write units of replacing ``old`` with ``new``, by DynamoDB's rules."""
    old_size = item_size(old) if old is not None else 0
    new_size = item_size(new) if new is not None else 0
    per_index: list[tuple[str, float]] = []
    for index in schema.indexes:
        units = index_write_units(
            index_key(index, old) if old is not None else None,
            index_key(index, new) if new is not None else None,
            old_size,
            new_size,
            changed=old != new,
        )
        if units:
            per_index.append((index.name, units))
    return write_units(old_size, new_size), per_index
