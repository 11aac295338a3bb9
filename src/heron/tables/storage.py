"""The primitive storage operations a backend provides; everything else is shared in ``_core``.

A backend stores rows (the item's JSON, its DynamoDB size and its TTL) under a (partition, sort)
key, keeps each GSI's key beside the row, iterates a partition or an index partition in key
order, and runs a block of work atomically. Paging, TTL visibility, conditions, capacity,
throttling and telemetry are written once, above this line.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from heron.tables.base import SortKeyCondition, TableSchema
from heron.tables.keys import KeyValue
from heron.tables.throttle import Bucket

#: A stored row: (item JSON as bytes, DynamoDB item size, TTL in epoch seconds or None).
Row = tuple[bytes, int, float | None]
#: An item's key in one GSI, or None when the item is not in that (sparse) index.
IndexKey = tuple[KeyValue, KeyValue] | None
#: Where a page starts: after (sort,) for a table Query, (partition, sort) for a Scan, and
#: (index sort, partition, sort) for an index Query, compared in that order.
Position = tuple[KeyValue, ...]
#: A generator of rows a caller may stop early (and must close).
Rows = Generator[Row, None, None]


class Storage(Protocol):
    """Primitive row storage under a set of table schemas."""

    #: Exceptions from the storage engine that mean a system error (HTTP 500 in DynamoDB).
    system_errors: tuple[type[BaseException], ...]

    def atomic(self) -> AbstractContextManager[None]:
        """Run the block as one exclusive transaction: all its writes happen, or none."""

    def get_row(self, table: str, partition: KeyValue, sort: KeyValue) -> Row | None:
        """The row stored under the key (expired or not), or None."""

    def put_row(
        self,
        table: str,
        partition: KeyValue,
        sort: KeyValue,
        row: Row,
        index_keys: Sequence[IndexKey],
    ) -> None:
        """Insert or replace the row; ``index_keys`` has one entry per schema index, in order."""

    def delete_row(self, table: str, partition: KeyValue, sort: KeyValue) -> None:
        """Delete the row under the key, if any."""

    def query_rows(
        self,
        table: str,
        index: int | None,
        partition: KeyValue,
        sort: SortKeyCondition | None,
        forward: bool,
        after: Position | None,
    ) -> Rows:
        """Rows of one partition (of the table, or of index number ``index``) in key order."""

    def scan_rows(self, table: str, after: Position | None) -> Rows:
        """Every row of the table in (partition, sort) order, starting after ``after``."""

    def load_buckets(self, names: Sequence[str]) -> list[Bucket | None]:
        """The stored token buckets called ``names`` (None for a bucket never used)."""

    def save_buckets(self, buckets: Sequence[tuple[str, Bucket]]) -> None:
        """Store token buckets (inside the current atomic block)."""

    def sweep(self, table: str, now: float) -> int:
        """Delete rows whose TTL is before ``now``; return how many went."""

    def close(self) -> None:
        """Release connections."""


def schema_index_position(schema: TableSchema, index: str) -> int | None:
    """The position of GSI ``index`` in the schema, or None if there is no such index."""
    for i, candidate in enumerate(schema.indexes):
        if candidate.name == index:
            return i
    return None
