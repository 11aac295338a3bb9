"""TransactWriteItems over the shared core: validate everything, then apply all or nothing.

Every op is validated before anything is read; inside one atomic block each op's condition is
checked against the current item, capacity is charged (transactional writes cost double), and
only if every condition holds are the writes applied. A cancelled transaction still pays for
its writes, as DynamoDB's does, and writes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from heron.errors import TableValidationError, TransactionCanceledError
from heron.tables._core import CoreTable
from heron.tables.base import Condition, WriteOp
from heron.tables.capacity import failed_write_units, write_units
from heron.tables.conditions import condition_holds, validate_condition
from heron.tables.database import CoreDatabase
from heron.tables.keys import KeyValue, check_item, extract_key, item_key
from heron.tables.operations import Call, Usage
from heron.tables.rows import Builder, decode, new_image, visible
from heron.tables.storage import IndexKey

#: DynamoDB's limit on actions in one TransactWriteItems call.
MAX_OPERATIONS = 100


@dataclass(frozen=True, slots=True)
class _Plan:
    table: CoreTable
    kind: str
    partition: KeyValue
    sort: KeyValue
    condition: Condition | None
    build: Builder | None


def transact_write(db: CoreDatabase, ops: Iterable[WriteOp]) -> None:
    """Apply every op in ``ops`` or none; raises TransactionCanceledError or ThrottledError."""
    iterable = isinstance(ops, Iterable) and not isinstance(ops, str | bytes | dict)
    items = list(ops) if iterable else []
    names = [op.table for op in items if isinstance(op, WriteOp) and isinstance(op.table, str)]
    names = list(dict.fromkeys(names))
    with Call(db, names[0] if names else "", "TransactWriteItems") as call:
        call.per_table = {name: Usage() for name in names} or None
        if not iterable:
            raise TableValidationError("TransactItems must be a sequence of WriteOp")
        plans = _plan_all(db, items)
        storage = db.storage
        reasons: list[str | None] = []
        with storage.atomic():
            now = db.clock()
            writes: list[tuple[_Plan, Any]] = []
            demands = []
            for plan in plans:
                name = plan.table.schema.name
                raw = storage.get_row(name, plan.partition, plan.sort)
                old_row = visible(raw, now)
                old = decode(old_row) if old_row else None
                old_size = old_row[1] if old_row else 0
                ok = condition_holds(plan.condition, old)
                reasons.append(None if ok else "ConditionalCheckFailed")
                new = plan.build(old) if ok and plan.build is not None else None
                usage = call.per_table[name]  # type: ignore[index]
                if not ok:
                    units = failed_write_units(old_size, transactional=True)
                    index_units: list[tuple[str, float]] = []
                elif plan.kind == "check":
                    units = write_units(old_size, 0, transactional=True)
                    index_units = []
                else:
                    units = write_units(old_size, new[1][1] if new else 0, transactional=True)
                    index_units = plan.table.index_units(old, old_row, new, True)
                usage.write += units
                usage.index_writes.extend(index_units)
                demands += plan.table.write_demands(units, index_units)
                writes.append((plan, (raw, new)))
            db.charge(demands, now)
            if all(reason is None for reason in reasons):
                for plan, (raw, new) in writes:
                    _apply(db, plan, raw, new)
        if any(reasons):
            codes = ", ".join(reason or "None" for reason in reasons)
            raise TransactionCanceledError(
                f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                f"[{codes}]",
                reasons,
            )


def _apply(db: CoreDatabase, plan: _Plan, raw: Any, new: Any) -> None:
    name = plan.table.schema.name
    if plan.kind in ("put", "update"):
        index_keys: list[IndexKey] = new[2]
        db.storage.put_row(name, plan.partition, plan.sort, new[1], index_keys)
    elif plan.kind == "delete" and raw is not None:
        db.storage.delete_row(name, plan.partition, plan.sort)


def _plan_all(db: CoreDatabase, ops: list[Any]) -> list[_Plan]:
    if not 1 <= len(ops) <= MAX_OPERATIONS:
        raise TableValidationError(
            f"A transaction needs between 1 and {MAX_OPERATIONS} operations, got {len(ops)}"
        )
    plans = [_plan(db, op) for op in ops]
    seen: set[tuple[str, KeyValue, KeyValue]] = set()
    for plan in plans:
        ident = (plan.table.schema.name, plan.partition, plan.sort)
        if ident in seen:
            raise TableValidationError(
                "Transaction request cannot include multiple operations on one item"
            )
        seen.add(ident)
    return plans


def _plan(db: CoreDatabase, op: Any) -> _Plan:
    if not isinstance(op, WriteOp) or op.kind not in ("put", "delete", "check", "update"):
        raise TableValidationError(f"Not a transactional write operation: {op!r}")
    table = db.table(op.table)
    schema = table.schema
    if op.condition is not None:
        validate_condition(op.condition)
    if op.kind == "put":
        check_item(op.item)
        assert op.item is not None
        partition, sort = item_key(schema, op.item)
        image = new_image(schema, dict(op.item))
        return _Plan(table, "put", partition, sort, op.condition, lambda _old: image)
    partition, sort = extract_key(schema, op.key)
    if op.kind == "check":
        if op.condition is None:
            raise TableValidationError("A condition check needs a condition")
        return _Plan(table, "check", partition, sort, op.condition, None)
    if op.kind == "delete":
        return _Plan(table, "delete", partition, sort, op.condition, None)
    assert op.key is not None
    build = table.update_builder(op.key, op.changes, op.remove)
    return _Plan(table, "update", partition, sort, op.condition, build)
