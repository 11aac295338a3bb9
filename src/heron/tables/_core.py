"""The Table logic shared by every backend, on top of a primitive Storage.

Written once: key and item validation, conditions, TTL visibility, paging (Limit, 1 MB pages,
ExclusiveStartKey), capacity units, provisioned-capacity throttling and one TableOperation per
call. A backend only supplies the Storage primitives (``storage.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from heron.errors import ConditionFailedError, TableValidationError
from heron.tables.base import Condition, IndexSchema, Page, SortKeyCondition, TableSchema
from heron.tables.capacity import (
    ReadMode,
    failed_write_units,
    index_write_units,
    query_read_units,
    read_units,
    write_units,
)
from heron.tables.checks import check_limit, check_start_key, check_update
from heron.tables.conditions import condition_holds, validate_condition, validate_sort_condition
from heron.tables.keys import (
    NO_SORT_KEY,
    KeyValue,
    check_item,
    check_key_value,
    extract_key,
    index_key,
    item_key,
    key_dict,
)
from heron.tables.operations import Call
from heron.tables.rows import Builder, NewImage, collect_page, decode, new_image, visible
from heron.tables.storage import Position, Row, Rows, schema_index_position
from heron.tables.throttle import Demand, demand
from heron.types import Item, Key

if TYPE_CHECKING:
    from heron.tables.database import CoreDatabase


class CoreTable:
    """A Table (see ``base.Table``) over a CoreDatabase's storage."""

    def __init__(self, db: CoreDatabase, schema: TableSchema) -> None:
        self._db = db
        self._schema = schema
        self._name = schema.name

    @property
    def schema(self) -> TableSchema:
        """The table's schema."""
        return self._schema

    def get(self, key: Key, *, consistent: bool = False) -> Item | None:
        """Return the item with ``key``, or None (expired TTL items count as absent)."""
        with Call(self._db, self._name, "GetItem", consistent=bool(consistent)) as call:
            partition, sort = extract_key(self._schema, key)
            mode: ReadMode = "strong" if consistent else "eventual"
            storage = self._db.storage
            with self._guard():
                now = self._db.clock()
                row = visible(storage.get_row(self._name, partition, sort), now)
                call.read = read_units(row[1] if row else 0, mode)
                self._db.charge([demand(self._schema, "read", call.read)], now)
            return None if row is None else decode(row)

    def put(self, item: Item, *, condition: Condition | None = None) -> Item | None:
        """Store ``item`` (replacing any old one) if ``condition`` holds; return the old item."""
        with Call(self._db, self._name, "PutItem") as call:
            check_item(item)
            if condition is not None:
                validate_condition(condition)
            partition, sort = item_key(self._schema, item)
            image = new_image(self._schema, dict(item))
            old, _ = self._write(call, partition, sort, condition, lambda _old: image)
            return old

    def update(
        self,
        key: Key,
        changes: Mapping[str, Any],
        *,
        remove: Sequence[str] = (),
        condition: Condition | None = None,
    ) -> Item:
        """Set ``changes`` and drop ``remove`` on the item (creating it if absent); return it."""
        with Call(self._db, self._name, "UpdateItem") as call:
            partition, sort = extract_key(self._schema, key)
            build = self.update_builder(key, changes, remove)
            if condition is not None:
                validate_condition(condition)
            _, new = self._write(call, partition, sort, condition, build)
            assert new is not None  # an update always leaves an item behind
            return new

    def delete(self, key: Key, *, condition: Condition | None = None) -> Item | None:
        """Delete the item with ``key`` if ``condition`` holds; return the deleted item."""
        with Call(self._db, self._name, "DeleteItem") as call:
            partition, sort = extract_key(self._schema, key)
            if condition is not None:
                validate_condition(condition)
            old, _ = self._write(call, partition, sort, condition, lambda _old: None)
            return old

    def query(
        self,
        partition: Any,
        *,
        sort: SortKeyCondition | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_key: Key | None = None,
        consistent: bool = False,
    ) -> Page:
        """Return items with partition key ``partition`` (on the table or ``index``), in order."""
        with Call(self._db, self._name, "Query", consistent=bool(consistent), index=index) as call:
            position = None if index is None else schema_index_position(self._schema, index)
            if index is not None and position is None:
                raise TableValidationError(
                    f"The table {self._name} does not have the specified index: {index}"
                )
            gsi = None if position is None else self._schema.indexes[position]
            if gsi is not None and consistent:
                raise TableValidationError(
                    "Consistent reads are not supported on global secondary indexes"
                )
            check_key_value(gsi.partition_key if gsi else self._schema.partition_key, partition)
            if sort is not None:
                validate_sort_condition(sort)
                if (gsi.sort_key if gsi else self._schema.sort_key) is None:
                    raise TableValidationError("Query key condition not supported: no sort key")
            check_limit(limit)
            after = None if start_key is None else self._start_position(start_key, gsi, False)
            mode: ReadMode = "strong" if consistent else "eventual"
            table = self._name
            return self._page(
                call,
                lambda: self._db.storage.query_rows(
                    table, position, partition, sort, forward, after
                ),
                mode,
                limit,
                gsi,
            )

    def scan(self, *, limit: int | None = None, start_key: Key | None = None) -> Page:
        """Return every item, one page at a time, in (partition, sort) key order."""
        with Call(self._db, self._name, "Scan", consistent=False) as call:
            check_limit(limit)
            after = None if start_key is None else self._start_position(start_key, None, True)
            table = self._name
            return self._page(
                call, lambda: self._db.storage.scan_rows(table, after), "eventual", limit, None
            )

    def update_builder(self, key: Key, changes: Any, remove: Any) -> Builder:
        """Validate an update's changes and return the function that applies them to an item."""
        check_update(self._schema, changes, remove)
        sets = dict(changes)
        drops = tuple(remove)
        schema = self._schema

        def build(old: Item | None) -> NewImage:
            new = dict(old) if old is not None else dict(key)
            new.update(sets)
            for name in drops:
                new.pop(name, None)
            return new_image(schema, new)

        return build

    def index_units(
        self, old: Item | None, old_row: Row | None, new: NewImage | None, transactional: bool
    ) -> list[tuple[str, float]]:
        """Per-GSI write units of replacing ``old`` with ``new`` (either may be absent)."""
        if not self._schema.indexes:
            return []
        old_size = old_row[1] if old_row else 0
        new_size = new[1][1] if new else 0
        changed = old_row is None or new is None or old_row[0] != new[1][0]
        out: list[tuple[str, float]] = []
        for i, gsi in enumerate(self._schema.indexes):
            old_key = index_key(gsi, old) if old is not None else None
            new_key = new[2][i] if new is not None else None
            units = index_write_units(
                old_key, new_key, old_size, new_size, changed=changed, transactional=transactional
            )
            if units:
                out.append((gsi.name, units))
        return out

    def write_demands(self, units: float, index_units: list[tuple[str, float]]) -> list[Demand]:
        """Bucket demands of a write: the table's, and each touched GSI's."""
        wanted = [demand(self._schema, "write", units)]
        wanted += [demand(self._schema, "write", u, name) for name, u in index_units]
        return [d for d in wanted if d is not None]

    def _write(
        self,
        call: Call,
        partition: KeyValue,
        sort: KeyValue,
        condition: Condition | None,
        build: Builder,
    ) -> tuple[Item | None, Item | None]:
        storage = self._db.storage
        with storage.atomic():
            now = self._db.clock()
            raw = storage.get_row(self._name, partition, sort)
            old_row = visible(raw, now)
            old = decode(old_row) if old_row else None
            old_size = old_row[1] if old_row else 0
            ok = condition_holds(condition, old)
            new = build(old) if ok else None
            if ok:
                call.write = write_units(old_size, new[1][1] if new else 0)
                call.index_writes = self.index_units(old, old_row, new, False)
            else:
                call.write = failed_write_units(old_size)
            self._db.charge(self.write_demands(call.write, call.index_writes), now)
            if ok and new is not None:
                storage.put_row(self._name, partition, sort, new[1], new[2])
            elif ok and raw is not None:
                storage.delete_row(self._name, partition, sort)
        if not ok:
            raise ConditionFailedError("The conditional request failed")
        return old, (new[0] if new else None)

    def _page(
        self,
        call: Call,
        rows: Callable[[], Rows],
        mode: ReadMode,
        limit: int | None,
        gsi: IndexSchema | None,
    ) -> Page:
        with self._guard():
            now = self._db.clock()
            items, sizes, more = collect_page(rows(), now, limit)
            call.read = query_read_units(sizes, mode)
            index = gsi.name if gsi else None
            self._db.charge([demand(self._schema, "read", call.read, index)], now)
        last = self._last_key(items[-1], gsi) if more and items else None
        return Page(items, last, call.read)

    def _guard(self) -> AbstractContextManager[None]:
        # Reads only need a transaction when they must update a shared token bucket.
        return nullcontext() if self._schema.provisioned is None else self._db.storage.atomic()

    def _last_key(self, item: Item, gsi: IndexSchema | None) -> Key:
        key = key_dict(self._schema, item)
        if gsi is not None:
            key[gsi.partition_key] = item[gsi.partition_key]
            if gsi.sort_key:
                key[gsi.sort_key] = item[gsi.sort_key]
        return key

    def _start_position(self, start_key: Any, gsi: IndexSchema | None, scan: bool) -> Position:
        values = check_start_key(self._schema, start_key, gsi, scan)
        sort = values[self._schema.sort_key] if self._schema.sort_key else NO_SORT_KEY
        partition = values[self._schema.partition_key]
        if gsi is not None:
            index_sort = values[gsi.sort_key] if gsi.sort_key else NO_SORT_KEY
            return (index_sort, partition, sort)
        return (partition, sort) if scan else (sort,)
