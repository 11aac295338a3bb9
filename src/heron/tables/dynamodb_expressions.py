"""Translate the Table protocol's conditions into DynamoDB expressions, purely.

Every attribute name goes through an ``ExpressionAttributeNames`` placeholder (so reserved words
such as ``name`` or ``status`` are safe) and every value through ``ExpressionAttributeValues``.

TTL: DynamoDB deletes expired items lazily (up to days later), while the protocol says an
expired item is absent. So on a table with a TTL attribute a write's condition is widened or
narrowed with "the stored item is expired" (``attribute_type(#ttl, :N) AND #ttl < :now``): a
condition that holds for a missing item also holds for an expired one, and one that does not
hold for a missing item must not hold for an expired one either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from heron.tables.base import Condition, SortKeyCondition
from heron.tables.conditions import condition_holds
from heron.tables.dynamodb_codec import AttributeValue, encode, type_letter

_COMPARISONS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class Placeholders:
    """The ``#name`` and ``:value`` placeholders one request's expressions use."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, AttributeValue] = {}

    def name(self, attribute: str) -> str:
        """The placeholder standing for ``attribute`` (one per distinct name)."""
        found = self._names.get(attribute)
        if found is None:
            found = self._names[attribute] = f"#n{len(self._names)}"
        return found

    def value(self, value: Any) -> str:
        """A new placeholder carrying ``value``."""
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = encode(value)
        return placeholder

    def params(self) -> dict[str, Any]:
        """The request parameters carrying the placeholders (omitted when unused)."""
        out: dict[str, Any] = {}
        if self._names:
            out["ExpressionAttributeNames"] = {p: n for n, p in self._names.items()}
        if self._values:
            out["ExpressionAttributeValues"] = dict(self._values)
        return out


def condition_expression(condition: Condition | None, ph: Placeholders) -> str | None:
    """A validated condition as a ConditionExpression (None when it always holds)."""
    if condition is None:
        return None
    if condition.op == "and":
        parts = [condition_expression(part, ph) for part in condition.all_of]
        kept = [f"({p})" for p in parts if p is not None]
        return " AND ".join(kept) if kept else None
    name = ph.name(condition.attribute)
    if condition.op == "exists":
        return f"attribute_exists({name})"
    if condition.op == "not_exists":
        return f"attribute_not_exists({name})"
    # The type test is what DynamoDB's = already means (a BOOL never equals a number), spelled
    # out because some emulators compare True and 1 as equal.
    same_type = f"attribute_type({name}, {ph.value(type_letter(condition.value))})"
    value = ph.value(condition.value)
    if condition.op == "eq":
        return f"{same_type} AND {name} = {value}"
    # "ne" holds for a missing attribute; say so rather than rely on how <> treats one.
    return f"(attribute_not_exists({name}) OR NOT {same_type} OR {name} <> {value})"


def expired_expression(ttl_attribute: str, now: float, ph: Placeholders) -> str:
    """True when the stored item's TTL is a number before ``now`` (the protocol's "expired")."""
    name = ph.name(ttl_attribute)
    # attribute_type first: DynamoDB evaluates AND left to right, and `<` between a string and
    # a number is an error on some implementations rather than false.
    return f"(attribute_type({name}, {ph.value('N')}) AND {name} < {ph.value(now)})"


def write_condition(
    condition: Condition | None, ttl_attribute: str | None, now: float, ph: Placeholders
) -> str | None:
    """The ConditionExpression of a put, delete or condition check, TTL-aware."""
    expression = condition_expression(condition, ph)
    if ttl_attribute is None:
        return expression
    if condition_holds(condition, None):
        # Holds for a missing item, so it must hold for an expired one too.
        if expression is None:
            return None
        return f"({expression}) OR {expired_expression(ttl_attribute, now, ph)}"
    return f"({expression}) AND NOT {expired_expression(ttl_attribute, now, ph)}"


def live_condition(
    condition: Condition | None, ttl_attribute: str, now: float, ph: Placeholders
) -> str:
    """``condition`` and "the stored item, if any, is not expired" (for updates)."""
    expression = condition_expression(condition, ph)
    alive = f"NOT {expired_expression(ttl_attribute, now, ph)}"
    return alive if expression is None else f"({expression}) AND {alive}"


def key_condition(
    partition_key: str,
    partition: Any,
    sort_key: str | None,
    sort: SortKeyCondition | None,
    ph: Placeholders,
) -> str:
    """A Query's KeyConditionExpression (an empty ``begins_with`` prefix matches everything)."""
    expression = f"{ph.name(partition_key)} = {ph.value(partition)}"
    if sort is None or sort_key is None or (sort.op == "begins_with" and sort.value == ""):
        return expression
    name = ph.name(sort_key)
    if sort.op == "between":
        low, high = ph.value(sort.value), ph.value(sort.upper)
        return f"{expression} AND {name} BETWEEN {low} AND {high}"
    if sort.op == "begins_with":
        return f"{expression} AND begins_with({name}, {ph.value(sort.value)})"
    return f"{expression} AND {name} {_COMPARISONS[sort.op]} {ph.value(sort.value)}"


def update_expression(
    changes: Mapping[str, Any], remove: Sequence[str], ph: Placeholders
) -> str | None:
    """``SET ... REMOVE ...`` for an update (None when it changes nothing but the key)."""
    clauses: list[str] = []
    sets = [f"{ph.name(n)} = {ph.value(v)}" for n, v in changes.items()]
    if sets:
        clauses.append("SET " + ", ".join(sets))
    drops = [ph.name(n) for n in _unique(remove)]
    if drops:
        clauses.append("REMOVE " + ", ".join(drops))
    return " ".join(clauses) or None


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
