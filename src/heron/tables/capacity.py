"""DynamoDB's capacity-unit arithmetic: item sizes, read and write units, GSI write units.

Everything here is pure. The rules follow the DynamoDB developer guide as summarised in
``serverless-runtime.md`` §6.3: reads round up to 4 KB, writes to 1 KB, a Query sums its items
before rounding once, and a GSI is written (and billed) separately from its base table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from heron.errors import TableValidationError

#: The largest item DynamoDB stores, in bytes (400 KB, names included).
MAX_ITEM_BYTES = 400 * 1024
#: A Query or Scan page stops once it has read this many bytes.
PAGE_BYTES = 1024 * 1024
READ_BLOCK = 4 * 1024
WRITE_BLOCK = 1024

#: How a read is made; the factor is read units per 4 KB block.
ReadMode = Literal["eventual", "strong", "transactional"]
_READ_FACTOR: dict[str, float] = {"eventual": 0.5, "strong": 1.0, "transactional": 2.0}

# A list or map costs 3 bytes of overhead plus 1 byte per element.
_CONTAINER_OVERHEAD = 3


def number_size(value: int | float | Decimal) -> int:
    """Bytes DynamoDB charges for a number: one per two significant digits, plus one.

    Leading and trailing zeros are not significant (DynamoDB trims them); a negative number costs
    one more byte for its sign, as the published size calculators do.
    """
    digits = Decimal(repr(value) if isinstance(value, float) else value).as_tuple().digits
    significant = "".join(map(str, digits)).strip("0")
    size = math.ceil(max(len(significant), 1) / 2) + 1
    return size + 1 if value < 0 else size


def value_size(value: Any) -> int:
    """Bytes one attribute value adds to an item (without its name)."""
    # bool before int: True is an int in Python but a 1-byte BOOL in DynamoDB.
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float | Decimal):
        return number_size(value)
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, Mapping):
        return _CONTAINER_OVERHEAD + sum(
            len(str(k).encode("utf-8")) + value_size(v) + 1 for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return _CONTAINER_OVERHEAD + sum(value_size(v) + 1 for v in value)
    raise TableValidationError(f"Unsupported attribute value type: {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for ``item``: UTF-8 attribute names plus their values."""
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def check_item_size(size: int) -> None:
    """Raise TableValidationError when an item is larger than DynamoDB's 400 KB limit."""
    if size > MAX_ITEM_BYTES:
        raise TableValidationError(
            f"Item size has exceeded the maximum allowed size ({size} > {MAX_ITEM_BYTES} bytes)"
        )


def read_units(size: int, mode: ReadMode = "eventual") -> float:
    """Read units for one item read; a miss (size 0) still costs one 4 KB block."""
    return max(1, math.ceil(size / READ_BLOCK)) * _READ_FACTOR[mode]


def query_read_units(sizes: Sequence[int], mode: ReadMode = "eventual") -> float:
    """Read units for a Query or Scan page: the sizes are summed, then rounded once."""
    return read_units(sum(sizes), mode)


def write_units(old_size: int, new_size: int, *, transactional: bool = False) -> float:
    """Write units for a put, update or delete, charged on the larger of the two images."""
    units = max(1, math.ceil(max(old_size, new_size) / WRITE_BLOCK))
    return float(units * 2 if transactional else units)


def failed_write_units(old_size: int, *, transactional: bool = False) -> float:
    """Write units a failed conditional write consumes: the existing item's size, at least 1."""
    return write_units(old_size, 0, transactional=transactional)


def index_write_units(
    old_key: object | None,
    new_key: object | None,
    old_size: int,
    new_size: int,
    *,
    changed: bool,
    transactional: bool = False,
) -> float:
    """Write units one GSI consumes when a base-table write moves an item in or out of it.

    ``old_key``/``new_key`` are the item's index keys before and after (None when the item is
    not in the index, which is how sparse indexes work). All attributes are projected, so any
    change to an indexed item rewrites its index entry; a key change is a delete plus a put.
    """
    factor = 2 if transactional else 1

    def blocks(size: int) -> int:
        return max(1, math.ceil(size / WRITE_BLOCK))

    if old_key is None and new_key is None:
        return 0.0
    if old_key is None:
        return float(blocks(new_size) * factor)
    if new_key is None:
        return float(blocks(old_size) * factor)
    if old_key != new_key:
        return float((blocks(old_size) + blocks(new_size)) * factor)
    if not changed:
        return 0.0
    return float(blocks(max(old_size, new_size)) * factor)
