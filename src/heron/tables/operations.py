"""Measure one table call: its latency, consumed capacity and outcome, recorded on exit.

Every backend operation runs inside a ``Call``; whatever happens (success, failed condition,
throttle, bad input, engine failure) exactly one TableOperation per table reaches the recorder,
and engine exceptions leave as TableError (DynamoDB's InternalServerError).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Protocol

from heron.errors import (
    ConditionFailedError,
    TableError,
    TableValidationError,
    ThrottledError,
    TransactionCanceledError,
)
from heron.tables.metrics import Recorder, TableOperation


class _EngineErrors(Protocol):
    @property
    def system_errors(self) -> tuple[type[BaseException], ...]: ...


class _HasRecorder(Protocol):
    # Read-only members: any backend with a recorder and engine errors can be measured.
    @property
    def recorder(self) -> Recorder: ...

    @property
    def storage(self) -> _EngineErrors: ...


def outcome_of(exc: BaseException | None) -> str:
    """The TableOperation outcome an exception (or None for success) stands for."""
    if exc is None:
        return "ok"
    if isinstance(exc, ConditionFailedError | TransactionCanceledError):
        return "condition_failed"
    if isinstance(exc, ThrottledError):
        return "throttled"
    if isinstance(exc, TableValidationError):
        return "user_error"
    return "system_error"


class Usage:
    """Capacity one table consumed within a call."""

    __slots__ = ("index_writes", "read", "write")

    def __init__(self) -> None:
        self.read = 0.0
        self.write = 0.0
        self.index_writes: list[tuple[str, float]] = []


class Call:
    """Context manager around one table operation; the body fills in the units it consumed."""

    __slots__ = (
        "_db",
        "_start",
        "consistent",
        "index",
        "index_writes",
        "operation",
        "per_table",
        "read",
        "table",
        "write",
    )

    def __init__(
        self,
        db: _HasRecorder,
        table: str,
        operation: str,
        *,
        consistent: bool | None = None,
        index: str | None = None,
    ) -> None:
        self._db = db
        self.table = table
        self.operation = operation
        self.consistent = consistent
        self.index = index
        self.read = 0.0
        self.write = 0.0
        self.index_writes: list[tuple[str, float]] = []
        #: Set by multi-table calls (transactions): one Usage per table, recorded separately.
        self.per_table: dict[str, Usage] | None = None
        self._start = 0.0

    def __enter__(self) -> Call:
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        latency_ms = (time.perf_counter() - self._start) * 1000.0
        outcome = outcome_of(exc)
        charged = outcome in ("ok", "condition_failed")
        usages = self.per_table or {self.table: self._own_usage()}
        for table, usage in usages.items():
            self._db.recorder.record(
                TableOperation(
                    table=table,
                    operation=self.operation,
                    latency_ms=latency_ms,
                    read_units=usage.read if charged else 0.0,
                    write_units=usage.write if charged else 0.0,
                    consistent=self.consistent,
                    outcome=outcome,
                    index=self.index,
                    index_write_units=tuple(usage.index_writes) if charged else (),
                )
            )
        if exc is not None and isinstance(exc, self._db.storage.system_errors):
            raise TableError(f"Internal server error: {exc}") from exc

    def _own_usage(self) -> Usage:
        usage = Usage()
        usage.read, usage.write, usage.index_writes = self.read, self.write, self.index_writes
        return usage
