"""The Database shared by every backend: named tables over one Storage, charging, TTL sweeps."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from heron.errors import TableError, ThrottledError
from heron.tables._core import CoreTable
from heron.tables.base import TablesByName, TableSchema, WriteOp
from heron.tables.metrics import RECORDER, Recorder
from heron.tables.storage import Storage
from heron.tables.throttle import Demand, settle
from heron.types import Clock

_THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)


class CoreDatabase(TablesByName[CoreTable]):
    """A Database (see ``base.Database``): named tables over one Storage, and transactions."""

    def __init__(
        self,
        storage: Storage,
        schemas: Sequence[TableSchema],
        clock: Clock = time.time,
        recorder: Recorder | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.recorder = RECORDER if recorder is None else recorder
        self._name_tables(schemas, lambda s: CoreTable(self, s))

    def transact_write(self, ops: Iterable[WriteOp]) -> None:
        """Apply every op or none (DynamoDB TransactWriteItems); raises TransactionCanceledError."""
        from heron.tables.transactions import transact_write

        transact_write(self, ops)

    def charge(self, demands: Sequence[Demand | None], now: float) -> None:
        """Pay for an operation from its tables' token buckets, or raise ThrottledError.

        Must run inside ``storage.atomic()`` for provisioned tables, so the bucket update commits
        with (or instead of) the operation and every process sees the same buckets.
        """
        merged: dict[str, Demand] = {}
        for want in demands:
            if want is None:
                continue
            seen = merged.get(want.name)
            merged[want.name] = (
                want
                if seen is None
                else Demand(want.name, want.rate, want.cap, seen.units + want.units)
            )
        if not merged:
            return
        wanted = list(merged.values())
        paid = settle(wanted, self.storage.load_buckets([w.name for w in wanted]), now)
        if paid is None:
            raise ThrottledError(_THROTTLED)
        self.storage.save_buckets([(w.name, b) for w, b in zip(wanted, paid, strict=True)])

    def sweep_expired(self, now: float | None = None) -> int:
        """Delete every item whose TTL is past (free, like DynamoDB's TTL); return the count."""
        at = self.clock() if now is None else now
        deleted = 0
        for name, table in self._tables.items():
            if table.schema.ttl_attribute is None:
                continue
            try:
                with self.storage.atomic():
                    deleted += self.storage.sweep(name, at)
            except self.storage.system_errors as exc:
                raise TableError(f"TTL sweep of {name} failed: {exc}") from exc
        return deleted

    def close(self) -> None:
        """Release connections and files."""
        self.storage.close()
