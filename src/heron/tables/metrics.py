"""Table-operation telemetry: one TableOperation per call, and their AWS/DynamoDB metric datums.

Cross-process contract: every backend operation records a TableOperation into the process-wide
``RECORDER``; the runtime's worker drains it after each invocation, ships ``as_dict()`` to the
parent, which rebuilds them with ``from_dict()`` and turns them into datums with
``operation_datums`` (or into plain values with ``operation_values``, which is what the runtime's
metric aggregator takes). Names, units and dimensions are AWS's (``cloudwatch.md`` §6.4), except
the latency split by ``ReadConsistency``, which AWS does not publish and Heron adds for the seed's
"consistent read latency" panel.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from heron.types import Dimensions, MetricDatum

NAMESPACE = "AWS/DynamoDB"
OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "TransactWriteItems"}
)
OUTCOMES = frozenset({"ok", "throttled", "condition_failed", "user_error", "system_error"})
_READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan"})
_CONSISTENCY_SPLIT = frozenset({"GetItem", "Query"})


@dataclass(frozen=True, slots=True)
class TableOperation:
    """One table call as measured: latency, consumed capacity, consistency and outcome.

    ``read_units`` are charged to ``index`` when it is set (a GSI Query), else to the table;
    ``write_units`` are the base table's, and ``index_write_units`` the per-GSI write units.
    """

    table: str
    operation: str
    latency_ms: float
    read_units: float = 0.0
    write_units: float = 0.0
    consistent: bool | None = None
    outcome: str = "ok"
    index: str | None = None
    index_write_units: tuple[tuple[str, float], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict (what crosses the process boundary)."""
        return {
            "table": self.table,
            "operation": self.operation,
            "latency_ms": self.latency_ms,
            "read_units": self.read_units,
            "write_units": self.write_units,
            "consistent": self.consistent,
            "outcome": self.outcome,
            "index": self.index,
            "index_write_units": [[name, units] for name, units in self.index_write_units],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableOperation:
        """Rebuild a TableOperation from ``as_dict()`` output; raises ValueError on bad input."""
        try:
            op = cls(
                table=str(data["table"]),
                operation=str(data["operation"]),
                latency_ms=float(data["latency_ms"]),
                read_units=float(data.get("read_units", 0.0)),
                write_units=float(data.get("write_units", 0.0)),
                consistent=None if data.get("consistent") is None else bool(data["consistent"]),
                outcome=str(data.get("outcome", "ok")),
                index=None if data.get("index") is None else str(data["index"]),
                index_write_units=tuple(
                    (str(name), float(units)) for name, units in data.get("index_write_units", ())
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Not a TableOperation: {data!r} ({exc})") from exc
        if op.operation not in OPERATIONS or op.outcome not in OUTCOMES:
            raise ValueError(f"Unknown operation or outcome in {data!r}")
        return op


class Recorder:
    """A thread-safe, bounded buffer of TableOperations: keeps the newest, counts the dropped."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._ops: deque[TableOperation] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._dropped = 0

    def record(self, op: TableOperation) -> None:
        """Add one operation, dropping the oldest when nobody has drained for a while."""
        with self._lock:
            if len(self._ops) == self._ops.maxlen:
                self._dropped += 1
            self._ops.append(op)

    def drain(self) -> list[TableOperation]:
        """Remove and return everything recorded so far, oldest first."""
        with self._lock:
            ops = list(self._ops)
            self._ops.clear()
            return ops

    @property
    def dropped(self) -> int:
        """How many operations were discarded because the buffer was full (since creation)."""
        with self._lock:
            return self._dropped


#: The process-wide recorder every backend writes to unless given another.
RECORDER = Recorder()


#: One AWS/DynamoDB value: (metric name, dimensions, unit, value).
OperationValue = tuple[str, Dimensions, str, float]


def operation_datums(ops: Sequence[TableOperation], timestamp_ms: int) -> list[MetricDatum]:
    """AWS/DynamoDB datums for ``ops``, named and dimensioned as DynamoDB publishes them."""
    return [
        MetricDatum(NAMESPACE, name, value, unit, dims, timestamp_ms)
        for op in ops
        for name, dims, unit, value in operation_values(op)
    ]


@lru_cache(maxsize=1024)
def _dimensions(table: str, operation: str) -> tuple[Dimensions, Dimensions]:
    """The (table) and (table, operation) dimension sets, built once per combination."""
    return (("TableName", table),), (("Operation", operation), ("TableName", table))


@lru_cache(maxsize=1024)
def _split(table: str, operation: str, consistent: bool) -> Dimensions:
    """The (operation, consistency, table) dimension set of the Heron-local latency split."""
    consistency = "strong" if consistent else "eventual"
    return (("Operation", operation), ("ReadConsistency", consistency), ("TableName", table))


@lru_cache(maxsize=1024)
def _on_index(table: str, index: str) -> Dimensions:
    """The (index, table) dimension set of a global secondary index."""
    return (("GlobalSecondaryIndexName", index), ("TableName", table))


def operation_values(op: TableOperation) -> list[OperationValue]:
    """The AWS/DynamoDB (name, dimensions, unit, value) entries of one operation."""
    table, table_op = _dimensions(op.table, op.operation)
    out: list[OperationValue] = []
    if op.outcome in ("ok", "condition_failed"):
        out.append(("SuccessfulRequestLatency", table_op, "Milliseconds", op.latency_ms))
        if op.operation in _CONSISTENCY_SPLIT and op.consistent is not None:
            split = _split(op.table, op.operation, op.consistent)
            out.append(("SuccessfulRequestLatency", split, "Milliseconds", op.latency_ms))
    if op.read_units > 0:
        dims = _on_index(op.table, op.index) if op.index else table
        out.append(("ConsumedReadCapacityUnits", dims, "Count", op.read_units))
    if op.write_units > 0:
        out.append(("ConsumedWriteCapacityUnits", table, "Count", op.write_units))
    for index, units in op.index_write_units:
        if units > 0:
            out.append(("ConsumedWriteCapacityUnits", _on_index(op.table, index), "Count", units))
    if op.outcome == "throttled":
        out.append(("ThrottledRequests", table_op, "Count", 1.0))
        event = "ReadThrottleEvents" if op.operation in _READ_OPERATIONS else "WriteThrottleEvents"
        out.append((event, table, "Count", 1.0))
        if op.index:
            out.append((event, _on_index(op.table, op.index), "Count", 1.0))
    elif op.outcome == "condition_failed":
        out.append(("ConditionalCheckFailedRequests", table, "Count", 1.0))
    elif op.outcome == "user_error":
        out.append(("UserErrors", (), "Count", 1.0))
    elif op.outcome == "system_error":
        out.append(("SystemErrors", table_op, "Count", 1.0))
    return out
