"""TransactWriteItems for the DynamoDB backend: validate every op, then one atomic request.

Each op is checked with the shared rules before anything is sent, so a bad transaction fails
with the same TableValidationError as on SQLite. Conditions are TTL-aware like single writes
(an expired item counts as absent), except that a transactional update cannot revive an
expired item in place: its condition also requires the stored item, if any, to be live.
Consumed capacity is DynamoDB's per-table report; a cancelled transaction reports none, so each
op is then counted at the transactional minimum (2 units), which DynamoDB bills at least.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heron.errors import TableValidationError, TransactionCanceledError
from heron.tables.base import WriteOp
from heron.tables.capacity import failed_write_units
from heron.tables.conditions import validate_condition
from heron.tables.dynamodb_codec import encode_item
from heron.tables.dynamodb_expressions import (
    Placeholders,
    live_condition,
    update_expression,
    write_condition,
)
from heron.tables.dynamodb_responses import consumed_by_table
from heron.tables.dynamodb_rules import check_key_types, check_update, write_estimate
from heron.tables.keys import check_item, extract_key, item_key
from heron.tables.operations import Call, Usage
from heron.tables.rows import new_image

if TYPE_CHECKING:
    from heron.tables.dynamodb import DynamoDatabase

#: DynamoDB's limit on actions in one TransactWriteItems call.
MAX_OPERATIONS = 100


def transact_write(db: DynamoDatabase, ops: Iterable[WriteOp]) -> None:
    """Apply every op in ``ops`` or none; raises TransactionCanceledError or ThrottledError."""
    iterable = isinstance(ops, Iterable) and not isinstance(ops, str | bytes | dict)
    items = list(ops) if iterable else []
    names = [op.table for op in items if isinstance(op, WriteOp) and isinstance(op.table, str)]
    names = list(dict.fromkeys(names))
    with Call(db.site, names[0] if names else "", "TransactWriteItems") as call:
        call.per_table = {name: Usage() for name in names} or None
        if not iterable:
            raise TableValidationError("TransactItems must be a sequence of WriteOp")
        if not 1 <= len(items) <= MAX_OPERATIONS:
            raise TableValidationError(
                f"A transaction needs between 1 and {MAX_OPERATIONS} operations, got {len(items)}"
            )
        now = db.clock()
        seen: set[tuple[str, tuple[Any, ...]]] = set()
        entries: list[dict[str, Any]] = []
        estimates: list[tuple[str, float, list[tuple[str, float]]]] = []
        for op in items:
            entry, ident, estimate = _entry(db, op, now)
            if ident in seen:
                raise TableValidationError(
                    "Transaction request cannot include multiple operations on one item"
                )
            seen.add(ident)
            entries.append(entry)
            estimates.append((op.table, *estimate))
        try:
            response = db.request(
                names[0], "transact_write_items", TransactItems=entries,
                ReturnConsumedCapacity="INDEXES",
            )  # fmt: skip
        except TransactionCanceledError:
            for table, _, _ in estimates:
                call.per_table[table].write += failed_write_units(0, transactional=True)  # type: ignore[index]
            raise
        reported = consumed_by_table(response.get("ConsumedCapacity"))
        for name, usage in call.per_table.items():  # type: ignore[union-attr]
            if name in reported and reported[name].reported:
                usage.write = reported[name].table
                usage.index_writes = sorted(reported[name].indexes.items())
                continue
            for table, units, per_index in estimates:
                if table == name:
                    usage.write += units * 2  # transactional writes cost double
                    usage.index_writes += [(i, u * 2) for i, u in per_index]


def _entry(
    db: DynamoDatabase, op: Any, now: float
) -> tuple[dict[str, Any], tuple[str, tuple[Any, ...]], tuple[float, list[tuple[str, float]]]]:
    """One TransactItems entry, the item it touches, and its (non-transactional) write estimate."""
    if not isinstance(op, WriteOp) or op.kind not in ("put", "delete", "check", "update"):
        raise TableValidationError(f"Not a transactional write operation: {op!r}")
    table = db.table(op.table)
    schema = table.schema
    ttl = schema.ttl_attribute
    if op.condition is not None:
        validate_condition(op.condition)
    ph = Placeholders()
    body: dict[str, Any] = {"TableName": schema.name}
    if op.kind == "put":
        check_item(op.item)
        assert op.item is not None
        ident = item_key(schema, op.item)
        check_key_types(schema, op.item, table.types)
        new_image(schema, dict(op.item))
        body["Item"] = encode_item(op.item)
        expression = write_condition(op.condition, ttl, now, ph)
        estimate = write_estimate(schema, None, op.item)
        kind = "Put"
    else:
        ident = extract_key(schema, op.key)
        assert op.key is not None
        check_key_types(schema, op.key, table.types)
        body["Key"] = encode_item(op.key)
        if op.kind == "update":
            check_update(schema, op.changes, op.remove)
            check_key_types(schema, dict(op.changes), table.types)
            setting = update_expression(op.changes, op.remove, ph)
            if setting is None:
                raise TableValidationError("A transactional update needs a change or a removal")
            body["UpdateExpression"] = setting
            if ttl is None:
                expression = write_condition(op.condition, None, now, ph)
            else:
                expression = live_condition(op.condition, ttl, now, ph)
            estimate = write_estimate(schema, None, {**op.key, **op.changes})
            kind = "Update"
        elif op.kind == "delete":
            expression = write_condition(op.condition, ttl, now, ph)
            estimate = write_estimate(schema, None, None)
            kind = "Delete"
        else:
            if op.condition is None:
                raise TableValidationError("A condition check needs a condition")
            expression = write_condition(op.condition, ttl, now, ph)
            if expression is None:
                # A condition that always holds still needs an expression on the wire.
                name = ph.name(schema.partition_key)
                expression = f"attribute_exists({name}) OR attribute_not_exists({name})"
            estimate = (failed_write_units(0), [])
            kind = "ConditionCheck"
    if expression is not None:
        body["ConditionExpression"] = expression
    body.update(ph.params())
    return {kind: body}, (schema.name, ident), estimate
