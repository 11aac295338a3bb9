"""Checks the DynamoDB backend makes before a request, and its capacity estimate, purely.

DynamoDB declares each key attribute's type (S or N); a key value of the other type is
refused on writes and matches nothing on reads, which is what the other backends mean too. The
remaining checks are the ones every backend shares (``checks``), so all refuse the same input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heron.errors import TableValidationError
from heron.tables import checks
from heron.tables.base import TableSchema
from heron.tables.capacity import index_write_units, item_size, write_units
from heron.tables.dynamodb_codec import key_type
from heron.tables.keys import index_key
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


def check_update(schema: TableSchema, changes: Any, remove: Any) -> None:
    """Raise TableValidationError for an update the core would refuse (keys, overlaps, values).

    The core checks an index key's new value when it builds the new item; DynamoDB's request
    carries no item, so that check is made here, up front.
    """
    checks.check_update(schema, changes, remove)
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
