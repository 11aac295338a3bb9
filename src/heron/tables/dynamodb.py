"""The DynamoDB backend: the Table protocol over a botocore DynamoDB client.

Validation is the shared one (``keys``, ``conditions``), so bad input fails before any request
and with the same messages as the SQLite backend. Conditions become ConditionExpressions checked
by DynamoDB itself, so a conditional write is atomic across every process and machine. Reads
hide expired items (DynamoDB's TTL deletes lazily) and pages are cut client-side at ``limit``
items or 1 MB, reading one item ahead so ``last_key`` is only set when another item exists.
Consumed capacity is what DynamoDB reports (``ReturnConsumedCapacity=INDEXES``); a failed
condition reports none, so its units are computed from the item DynamoDB returns with the
failure, by DynamoDB's billing rules. Throttling is retried by the SDK (``standard`` or
``adaptive`` retry mode) and surfaces as ``ThrottledError`` once the retries are spent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from heron.errors import ConditionFailedError, ConfigError, TableValidationError
from heron.tables.base import (
    Condition,
    IndexSchema,
    Page,
    SortKeyCondition,
    TablesByName,
    TableSchema,
    WriteOp,
)
from heron.tables.capacity import (
    ReadMode,
    failed_write_units,
    item_size,
    read_units,
)
from heron.tables.checks import check_limit, check_start_key
from heron.tables.conditions import condition_holds, validate_condition, validate_sort_condition
from heron.tables.dynamodb_codec import decode_item, encode_item, key_attribute_types
from heron.tables.dynamodb_expressions import (
    Placeholders,
    condition_expression,
    expired_expression,
    key_condition,
    live_condition,
    update_expression,
    write_condition,
)
from heron.tables.dynamodb_paging import Reader, read_page
from heron.tables.dynamodb_responses import consumed, map_error
from heron.tables.dynamodb_rules import (
    check_key_types,
    check_update,
    key_matches_types,
    write_estimate,
)
from heron.tables.keys import check_item, check_key_value, extract_key, is_expired, item_key, ttl_of
from heron.tables.metrics import RECORDER, Recorder
from heron.tables.operations import Call
from heron.tables.rows import new_image
from heron.types import Clock, Item, Key

#: Key attributes that are numbers in Heron's tables (every other key attribute is a string).
DEFAULT_KEY_TYPES: Mapping[str, str] = {"connectedAt": "N"}
#: Attempts at reviving an expired item under an update before giving up on a racing writer.
_REVIVE_ATTEMPTS = 3


class _CallSite:
    """What ``operations.Call`` needs: the recorder; engine errors are mapped before it sees them."""

    system_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @property
    def storage(self) -> _CallSite:
        """Itself: the errors Call would convert are already TableErrors here."""
        return self


class DynamoTable:
    """A Table (see ``base.Table``) stored in a DynamoDB table of the same name."""

    def __init__(self, db: DynamoDatabase, schema: TableSchema, types: Mapping[str, str]) -> None:
        self._db = db
        self._schema = schema
        self._name = schema.name
        self._ttl = schema.ttl_attribute
        self.types = key_attribute_types(schema, types)

    @property
    def schema(self) -> TableSchema:
        """The table's schema."""
        return self._schema

    def get(self, key: Key, *, consistent: bool = False) -> Item | None:
        """Return the item with ``key``, or None (expired TTL items count as absent)."""
        with self._call("GetItem", consistent=bool(consistent)) as call:
            extract_key(self._schema, key)
            if not key_matches_types(key, self.types):
                return None  # a string key can never name an item keyed by a number
            response = self._db.request(
                self._name,
                "get_item",
                TableName=self._name,
                Key=encode_item(key),
                ConsistentRead=bool(consistent),
                ReturnConsumedCapacity="INDEXES",
            )
            raw = response.get("Item")
            item = decode_item(raw) if raw else None
            used = consumed(response.get("ConsumedCapacity"))
            mode: ReadMode = "strong" if consistent else "eventual"
            call.read = used.table if used.reported else read_units(_size(item), mode)
            return None if item is None or self._expired(item) else item

    def put(self, item: Item, *, condition: Condition | None = None) -> Item | None:
        """Store ``item`` (replacing any old one) if ``condition`` holds; return the old item."""
        with self._call("PutItem") as call:
            check_item(item)
            if condition is not None:
                validate_condition(condition)
            item_key(self._schema, item)
            check_key_types(self._schema, item, self.types)
            new_image(self._schema, dict(item))  # size and index-key checks
            ph = Placeholders()
            expression = write_condition(condition, self._ttl, self._db.clock(), ph)
            response = self._write(call, "put_item", expression, ph, Item=encode_item(item))
            old = _attributes(response)
            self._charge(call, response, old, item)
            return None if old is None or self._expired(old) else old

    def update(
        self,
        key: Key,
        changes: Mapping[str, Any],
        *,
        remove: Sequence[str] = (),
        condition: Condition | None = None,
    ) -> Item:
        """Set ``changes`` and drop ``remove`` on the item (creating it if absent); return it."""
        with self._call("UpdateItem") as call:
            extract_key(self._schema, key)
            check_update(self._schema, changes, remove)
            if condition is not None:
                validate_condition(condition)
            check_key_types(self._schema, {**key, **changes}, self.types)
            for _ in range(_REVIVE_ATTEMPTS):
                ph = Placeholders()
                now = self._db.clock()
                if self._ttl is None:
                    expression = condition_expression(condition, ph)
                else:
                    expression = live_condition(condition, self._ttl, now, ph)
                setting = update_expression(changes, remove, ph)
                params: dict[str, Any] = {"Key": encode_item(key), "ReturnValues": "ALL_NEW"}
                if setting is not None:
                    params["UpdateExpression"] = setting
                try:
                    response = self._write(call, "update_item", expression, ph, **params)
                except ConditionFailedError as exc:
                    old = _failed_item(exc)
                    if (
                        old is None
                        or not self._expired(old)
                        or not condition_holds(condition, None)
                    ):
                        raise
                    # The stored item is expired, so it counts as absent: replace it outright.
                    fresh = {k: v for k, v in {**key, **changes}.items() if k not in remove}
                    if self._revive(call, fresh, now):
                        return fresh
                    continue
                new = _attributes(response) or dict(key)
                self._charge(call, response, None, new)
                return new
            raise ConditionFailedError("The conditional request failed (the item kept changing)")

    def delete(self, key: Key, *, condition: Condition | None = None) -> Item | None:
        """Delete the item with ``key`` if ``condition`` holds; return the deleted item."""
        with self._call("DeleteItem") as call:
            extract_key(self._schema, key)
            if condition is not None:
                validate_condition(condition)
            if not key_matches_types(key, self.types):
                if condition_holds(condition, None):
                    return None
                call.write = failed_write_units(0)
                raise ConditionFailedError("The conditional request failed")
            ph = Placeholders()
            expression = write_condition(condition, self._ttl, self._db.clock(), ph)
            response = self._write(call, "delete_item", expression, ph, Key=encode_item(key))
            old = _attributes(response)
            self._charge(call, response, old, None)
            return None if old is None or self._expired(old) else old

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
        with self._call("Query", consistent=bool(consistent), index=index) as call:
            gsi = self._index(index)
            if gsi is not None and consistent:
                raise TableValidationError(
                    "Consistent reads are not supported on global secondary indexes"
                )
            partition_key = gsi.partition_key if gsi else self._schema.partition_key
            sort_key = gsi.sort_key if gsi else self._schema.sort_key
            check_key_value(partition_key, partition)
            if sort is not None:
                validate_sort_condition(sort)
                if sort_key is None:
                    raise TableValidationError("Query key condition not supported: no sort key")
            check_limit(limit)
            if start_key is not None:
                check_start_key(self._schema, start_key, gsi, scan=False)
            wanted = {partition_key: partition}
            if sort is not None and sort_key is not None:
                wanted[sort_key] = sort.value
            if not key_matches_types(wanted, self.types):
                return Page([], None, 0.0)  # no item's key has another type: nothing matches
            ph = Placeholders()
            params: dict[str, Any] = {
                "KeyConditionExpression": key_condition(
                    partition_key, partition, sort_key, sort, ph
                ),
                "ScanIndexForward": bool(forward),
                **ph.params(),
            }
            if gsi is not None:
                params["IndexName"] = gsi.name
            else:
                params["ConsistentRead"] = bool(consistent)
            mode: ReadMode = "strong" if consistent else "eventual"
            return read_page(self._reader(call), "query", params, limit, start_key, gsi, mode)

    def scan(self, *, limit: int | None = None, start_key: Key | None = None) -> Page:
        """Return every item, one page at a time (in DynamoDB's hash order)."""
        with self._call("Scan", consistent=False) as call:
            check_limit(limit)
            if start_key is not None:
                check_start_key(self._schema, start_key, None, scan=True)
            return read_page(self._reader(call), "scan", {}, limit, start_key, None, "eventual")

    def _write(
        self, call: Call, operation: str, expression: str | None, ph: Placeholders, **params: Any
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "ReturnConsumedCapacity": "INDEXES",
            **params,
        }
        request.setdefault("ReturnValues", "ALL_OLD")
        if expression is not None:
            request["ConditionExpression"] = expression
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        request.update(ph.params())
        try:
            return self._db.request(self._name, operation, **request)
        except ConditionFailedError as exc:
            # DynamoDB bills a failed condition on the stored item's size but does not say so.
            call.write = failed_write_units(_size(_failed_item(exc)))
            raise

    def _revive(self, call: Call, fresh: Item, now: float) -> bool:
        """Replace a still-expired item with ``fresh``; False if someone changed it meanwhile."""
        new_image(self._schema, fresh)
        ph = Placeholders()
        assert self._ttl is not None
        expression = expired_expression(self._ttl, now, ph)
        try:
            response = self._write(call, "put_item", expression, ph, Item=encode_item(fresh))
        except ConditionFailedError:
            return False
        self._charge(call, response, _attributes(response), fresh)
        return True

    def _charge(
        self, call: Call, response: Mapping[str, Any], old: Item | None, new: Item | None
    ) -> None:
        used = consumed(response.get("ConsumedCapacity"))
        if used.reported:
            call.write = used.table
            call.index_writes = sorted(used.indexes.items())
        else:
            call.write, call.index_writes = write_estimate(self._schema, old, new)

    def _index(self, index: str | None) -> IndexSchema | None:
        if index is None:
            return None
        for candidate in self._schema.indexes:
            if candidate.name == index:
                return candidate
        raise TableValidationError(
            f"The table {self._name} does not have the specified index: {index}"
        )

    def _expired(self, item: Item) -> bool:
        return self._ttl is not None and is_expired(ttl_of(self._schema, item), self._db.clock())

    def _reader(self, call: Call) -> Reader:
        return Reader(self._db, self._schema, call, self._expired)

    def _call(self, operation: str, **kwargs: Any) -> Call:
        return Call(self._db.site, self._name, operation, **kwargs)


class DynamoDatabase(TablesByName[DynamoTable]):
    """A Database (see ``base.Database``) of DynamoDB tables reached through ``client``."""

    def __init__(
        self,
        client: Any,
        schemas: Sequence[TableSchema],
        *,
        clock: Clock = time.time,
        recorder: Recorder | None = None,
        key_types: Mapping[str, str] | None = None,
        endpoint: str = "",
    ) -> None:
        self.client = client
        self.clock = clock
        self.recorder = RECORDER if recorder is None else recorder
        self.site = _CallSite(self.recorder)
        self.endpoint = endpoint
        types = {**DEFAULT_KEY_TYPES, **(key_types or {})}
        try:
            self._name_tables(schemas, lambda s: DynamoTable(self, s, types))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def transact_write(self, ops: Sequence[WriteOp]) -> None:
        """Apply every op or none (TransactWriteItems); raises TransactionCanceledError."""
        from heron.tables.dynamodb_transactions import transact_write

        transact_write(self, ops)

    def request(self, table: str, operation: str, **params: Any) -> dict[str, Any]:
        """Call one DynamoDB operation, turning botocore's failures into Heron's TableErrors."""
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**params)
        except Exception as exc:
            mapped = map_error(exc, table, self.endpoint)
            if mapped is None:
                raise
            raise mapped from exc
        return response

    def sweep_expired(self, now: float | None = None) -> int:
        """Delete items whose TTL is past (DynamoDB Local and moto never do); return the count."""
        from heron.tables.dynamodb_admin import sweep_table

        at = self.clock() if now is None else now
        deleted = 0
        for table in self._tables.values():
            deleted += sweep_table(self, table.schema, at)
        return deleted

    def close(self) -> None:
        """Close the client's connection pool."""
        close = getattr(self.client, "close", None)
        if callable(close):
            close()


def _attributes(response: Mapping[str, Any]) -> Item | None:
    raw = response.get("Attributes")
    return decode_item(raw) if raw else None


def _failed_item(exc: BaseException) -> Item | None:
    raw = (getattr(exc.__cause__, "response", None) or {}).get("Item")
    return decode_item(raw) if raw else None


def _size(item: Item | None) -> int:
    return 0 if item is None else item_size(item)
