"""The in-memory backend: dictionaries under one lock, for unit tests and the memory setting.

It stores the same rows (item JSON bytes) as the SQLite backend, so items are copied on the way
in and out exactly as a real store copies them, and sorts keys the way SQLite does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from heron.tables.base import SortKeyCondition, TableSchema
from heron.tables.conditions import sort_matches
from heron.tables.database import CoreDatabase
from heron.tables.keys import KeyValue, is_expired, order_value
from heron.tables.metrics import Recorder
from heron.tables.storage import IndexKey, Position, Row, Rows
from heron.tables.throttle import Bucket
from heron.types import Clock

_Stored = tuple[Row, tuple[IndexKey, ...]]


def _order(position: Sequence[KeyValue]) -> tuple[tuple[int, Any], ...]:
    return tuple(order_value(v) for v in position)


class MemoryStorage:
    """Storage primitives over dictionaries, guarded by one re-entrant lock."""

    system_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, schemas: Sequence[TableSchema]) -> None:
        self._lock = threading.RLock()
        self._tables: dict[str, dict[tuple[KeyValue, KeyValue], _Stored]] = {
            s.name: {} for s in schemas
        }
        self._buckets: dict[str, Bucket] = {}

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the lock for the block (the core only writes after every check has passed)."""
        with self._lock:
            yield

    def get_row(self, table: str, partition: KeyValue, sort: KeyValue) -> Row | None:
        """The row under the key, or None."""
        with self._lock:
            stored = self._tables[table].get((partition, sort))
        return None if stored is None else stored[0]

    def put_row(
        self,
        table: str,
        partition: KeyValue,
        sort: KeyValue,
        row: Row,
        index_keys: Sequence[IndexKey],
    ) -> None:
        """Insert or replace a row."""
        with self._lock:
            rows = self._tables[table]
            # Drop any old entry first so a key equal by value (1 vs 1.0) takes the new spelling.
            rows.pop((partition, sort), None)
            rows[(partition, sort)] = (row, tuple(index_keys))

    def delete_row(self, table: str, partition: KeyValue, sort: KeyValue) -> None:
        """Delete a row if present."""
        with self._lock:
            self._tables[table].pop((partition, sort), None)

    def query_rows(
        self,
        table: str,
        index: int | None,
        partition: KeyValue,
        sort: SortKeyCondition | None,
        forward: bool,
        after: Position | None,
    ) -> Rows:
        """A partition's rows in key order (table order, or index order for a GSI)."""
        found: list[tuple[tuple[tuple[int, Any], ...], Row]] = []
        with self._lock:
            for (pk, sk), (row, index_keys) in self._tables[table].items():
                if index is None:
                    if pk == partition and sort_matches(sort, sk):
                        found.append((_order((sk,)), row))
                    continue
                ikey = index_keys[index]
                if ikey is not None and ikey[0] == partition and sort_matches(sort, ikey[1]):
                    found.append((_order((ikey[1], pk, sk)), row))
        return _ordered(found, forward, after)

    def scan_rows(self, table: str, after: Position | None) -> Rows:
        """Every row of a table in (partition, sort) order."""
        with self._lock:
            found = [(_order(key), row) for key, (row, _) in self._tables[table].items()]
        return _ordered(found, True, after)

    def load_buckets(self, names: Sequence[str]) -> list[Bucket | None]:
        """Stored token buckets by name."""
        with self._lock:
            return [self._buckets.get(name) for name in names]

    def save_buckets(self, buckets: Sequence[tuple[str, Bucket]]) -> None:
        """Store token buckets."""
        with self._lock:
            self._buckets.update(buckets)

    def sweep(self, table: str, now: float) -> int:
        """Delete expired rows."""
        with self._lock:
            rows = self._tables[table]
            gone = [key for key, (row, _) in rows.items() if is_expired(row[2], now)]
            for key in gone:
                del rows[key]
        return len(gone)

    def close(self) -> None:
        """Nothing to release."""


def _ordered(
    found: list[tuple[tuple[tuple[int, Any], ...], Row]], forward: bool, after: Position | None
) -> Rows:
    found.sort(key=lambda entry: entry[0], reverse=not forward)
    start = None if after is None else _order(after)
    for position, row in found:
        if start is not None and (position <= start if forward else position >= start):
            continue
        yield row


class MemoryDatabase(CoreDatabase):
    """A Database kept in this process's memory (lost when it exits)."""

    def __init__(
        self,
        schemas: Sequence[TableSchema],
        clock: Clock = time.time,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__(MemoryStorage(schemas), schemas, clock, recorder)
