"""Request checks every backend makes before it touches storage: Limit, start key, update.

Written once so the core backends and the DynamoDB backend refuse the same input with the same
DynamoDB-shaped messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from heron.errors import TableValidationError
from heron.tables.base import IndexSchema, TableSchema
from heron.tables.keys import KeyValue, check_attribute_name, check_key_value, check_value


def check_limit(limit: Any) -> None:
    """Raise TableValidationError unless ``limit`` is None or an integer of at least 1."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise TableValidationError(f"Limit must be an integer of at least 1, got {limit!r}")


def check_start_key(
    schema: TableSchema, start_key: Any, gsi: IndexSchema | None, scan: bool
) -> dict[str, KeyValue]:
    """Return the key values of ``start_key`` if it is a page token for this table/index.

    Raises TableValidationError otherwise. A scan's token names only the table's keys.
    """
    if not isinstance(start_key, dict):
        raise TableValidationError("The provided starting key is invalid: not a key mapping")
    wanted = [schema.partition_key, schema.sort_key]
    if gsi is not None and not scan:
        wanted += [gsi.partition_key, gsi.sort_key]
    names = [n for n in wanted if n]
    if set(start_key) != set(names):
        raise TableValidationError(
            f"The provided starting key is invalid: expected {sorted(set(names))}, "
            f"got {sorted(start_key)}"
        )
    return {n: check_key_value(n, start_key[n]) for n in names}


def check_update(schema: TableSchema, changes: Any, remove: Any) -> None:
    """Raise TableValidationError for an update's bad changes or removals, keys or overlaps."""
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
