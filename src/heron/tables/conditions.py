"""Evaluate write conditions and Query sort-key conditions against items, purely.

Both backends call these, so a condition means the same thing in memory, in SQLite and in the
contract suite. Equality is DynamoDB's typed equality: ``True`` is not the number ``1``.
"""

from __future__ import annotations

from typing import Any

from heron.errors import TableValidationError
from heron.tables.base import Condition, SortKeyCondition
from heron.tables.keys import check_attribute_name, check_value, is_number
from heron.types import Item

_CONDITION_OPS = frozenset({"exists", "not_exists", "eq", "ne", "and"})
_SORT_OPS = frozenset({"eq", "lt", "le", "gt", "ge", "between", "begins_with"})


def same_value(a: Any, b: Any) -> bool:
    """DynamoDB equality: same type (bool, number, string, null, list, map) and same value."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if type(a) is not type(b) and not (isinstance(a, list | tuple) and isinstance(b, list | tuple)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def validate_condition(condition: Condition) -> None:
    """Raise TableValidationError for a malformed condition (unknown op, missing attribute)."""
    if not isinstance(condition, Condition) or condition.op not in _CONDITION_OPS:
        raise TableValidationError(f"Invalid condition: {condition!r}")
    if condition.op == "and":
        for part in condition.all_of:
            validate_condition(part)
        return
    check_attribute_name(condition.attribute)
    if condition.op in ("eq", "ne"):
        check_value(condition.value, f"condition on {condition.attribute}")


def condition_holds(condition: Condition | None, item: Item | None) -> bool:
    """True when ``condition`` holds for the stored ``item`` (None when there is none)."""
    if condition is None:
        return True
    op = condition.op
    if op == "and":
        return all(condition_holds(part, item) for part in condition.all_of)
    present = item is not None and condition.attribute in item
    if op == "exists":
        return present
    if op == "not_exists":
        return not present
    if op == "eq":
        return present and same_value(item[condition.attribute], condition.value)  # type: ignore[index]
    # "ne": a missing attribute is not equal to the value.
    return not present or not same_value(item[condition.attribute], condition.value)  # type: ignore[index]


def validate_sort_condition(condition: SortKeyCondition) -> None:
    """Raise TableValidationError for a malformed sort-key condition."""
    if not isinstance(condition, SortKeyCondition) or condition.op not in _SORT_OPS:
        raise TableValidationError(f"Invalid sort key condition: {condition!r}")
    value = condition.value
    if not (isinstance(value, str) or is_number(value)):
        raise TableValidationError("A sort key condition's value must be a string or a number")
    check_value(value, "sort key condition")
    if condition.op == "begins_with" and not isinstance(value, str):
        raise TableValidationError("begins_with needs a string value")
    if condition.op == "between":
        upper = condition.upper
        if is_number(value) != is_number(upper) or not (isinstance(upper, str) or is_number(upper)):
            raise TableValidationError("BETWEEN needs two bounds of the same type")
        check_value(upper, "sort key condition")
        if upper < value:
            raise TableValidationError(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
                "greater than or equal to lower bound"
            )


def sort_matches(condition: SortKeyCondition | None, value: Any) -> bool:
    """True when a sort key ``value`` satisfies ``condition`` (values of another type never do)."""
    if condition is None:
        return True
    bound = condition.value
    if is_number(bound) != is_number(value):
        return False
    op = condition.op
    if op == "eq":
        return bool(value == bound)
    if op == "lt":
        return bool(value < bound)
    if op == "le":
        return bool(value <= bound)
    if op == "gt":
        return bool(value > bound)
    if op == "ge":
        return bool(value >= bound)
    if op == "between":
        return bool(bound <= value <= condition.upper)
    return isinstance(value, str) and value.startswith(bound)


def prefix_successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None if none).

    Lets SQL turn ``begins_with`` into an index range: ``prefix <= sk < successor``.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last == 0x10FFFF:
            continue
        # Skip the surrogate block, which cannot appear in stored strings.
        nxt = 0xE000 if last == 0xD7FF else last + 1
        return "".join(chars) + chr(nxt)
    return None
