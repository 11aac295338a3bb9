"""Capacity maths against the DynamoDB developer guide's worked examples (serverless-runtime §6.3)."""

from __future__ import annotations

import pytest

from heron.errors import TableValidationError
from heron.tables.capacity import (
    MAX_ITEM_BYTES,
    check_item_size,
    failed_write_units,
    index_write_units,
    item_size,
    number_size,
    query_read_units,
    read_units,
    value_size,
    write_units,
)

KB = 1024


@pytest.mark.parametrize(
    ("size", "mode", "units"),
    [
        (3_500, "strong", 1.0),  # 3,500 B rounds up to 4 KB
        (10 * KB, "strong", 3.0),  # 10 KB rounds up to 12 KB
        (10 * KB, "eventual", 1.5),
        (10 * KB, "transactional", 6.0),
        (4 * KB, "strong", 1.0),
        (4 * KB + 1, "strong", 2.0),
        (0, "strong", 1.0),  # a GetItem miss still costs one read
        (0, "eventual", 0.5),
    ],
)
def test_read_units(size: int, mode: str, units: float) -> None:
    assert read_units(size, mode) == units  # type: ignore[arg-type]


def test_query_sums_sizes_then_rounds_once() -> None:
    forty_point_eight_kb = [int(40.8 * KB) // 10] * 10  # 10 items totalling 40.8 KB -> 44 KB
    assert query_read_units(forty_point_eight_kb, "strong") == 11.0
    assert query_read_units([64] * 1500, "strong") == 24.0  # 96,000 B -> 24 blocks of 4 KB
    assert query_read_units([64] * 1500, "eventual") == 12.0
    assert query_read_units([], "eventual") == 0.5
    # Rounded per item instead, the same 1,500 items would cost 1,500 reads.
    assert sum(read_units(64, "strong") for _ in range(1500)) == 1500.0


@pytest.mark.parametrize(
    ("old", "new", "transactional", "units"),
    [
        (0, 1 * KB, False, 1.0),
        (0, 1 * KB + 1, False, 2.0),
        (0, 3 * KB, True, 6.0),  # a 3 KB transactional write costs 6
        (5 * KB, 1 * KB, False, 5.0),  # replacing: the larger image is charged
        (500, 2_500, False, 3.0),
        (0, 0, False, 1.0),
    ],
)
def test_write_units(old: int, new: int, transactional: bool, units: float) -> None:
    assert write_units(old, new, transactional=transactional) == units


def test_failed_conditional_writes_cost_the_existing_item_or_one() -> None:
    assert failed_write_units(0) == 1.0
    assert failed_write_units(3 * KB) == 3.0
    assert failed_write_units(3 * KB, transactional=True) == 6.0


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("abc", 3),
        ("é", 2),  # UTF-8 bytes, not characters
        ("", 0),
        (True, 1),
        (False, 1),
        (None, 1),
        (7, 2),  # one significant digit: 1 + 1
        (12345, 4),  # five digits: 3 + 1
        (100000, 2),  # trailing zeros are trimmed
        (0.001, 2),  # leading zeros are trimmed
        (-12, 3),  # sign byte
        (1.5, 2),
        (b"\x00\x01", 2),
        (["a", "b"], 3 + 2 + 2),
        ({"a": 1}, 3 + (1 + 2 + 1)),
        ([[], {}], 3 + (3 + 1) + (3 + 1)),
    ],
)
def test_value_sizes(value: object, size: int) -> None:
    assert value_size(value) == size


def test_item_size_counts_names_and_values() -> None:
    item = {"userId": "u1", "age": 30, "ok": True}
    assert item_size(item) == (6 + 2) + (3 + 2) + (2 + 1)
    assert number_size(10**37) == 2


def test_item_size_limit() -> None:
    check_item_size(MAX_ITEM_BYTES)
    with pytest.raises(TableValidationError, match="maximum allowed size"):
        check_item_size(MAX_ITEM_BYTES + 1)
    with pytest.raises(TableValidationError):
        value_size(object())


@pytest.mark.parametrize(
    ("old_key", "new_key", "changed", "units"),
    [
        (None, None, True, 0.0),  # never in the (sparse) index
        (None, ("u", 1), True, 1.0),  # enters the index: one put
        (("u", 1), None, True, 2.0),  # leaves it: one delete of the 2 KB old entry
        (("u", 1), ("v", 1), True, 3.0),  # key change: delete (2) + put (1)
        (("u", 1), ("u", 1), True, 2.0),  # same key, other attributes changed
        (("u", 1), ("u", 1), False, 0.0),  # nothing changed
    ],
)
def test_index_write_units(
    old_key: tuple[str, int] | None, new_key: tuple[str, int] | None, changed: bool, units: float
) -> None:
    assert index_write_units(old_key, new_key, 2 * KB, 1 * KB, changed=changed) == units
    doubled = index_write_units(
        old_key, new_key, 2 * KB, 1 * KB, changed=changed, transactional=True
    )
    assert doubled == units * 2
