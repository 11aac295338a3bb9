"""Query and Scan pages for the DynamoDB backend, cut client-side like the other backends.

DynamoDB pages at ``Limit`` items evaluated or 1 MB and hands back ``LastEvaluatedKey`` even
when nothing follows. The protocol's page is ``limit`` *visible* items or 1 MB, with
``last_key`` only when another item exists. So requests ask for one item more than the page
needs, expired items are dropped, further requests follow ``LastEvaluatedKey`` until the page
is full, and ``last_key`` is the key of the page's last item (any item key is a valid
``ExclusiveStartKey``). Capacity is the sum of what every request consumed.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heron.tables.base import IndexSchema, Page, TableSchema
from heron.tables.capacity import PAGE_BYTES, ReadMode, item_size, query_read_units
from heron.tables.dynamodb_codec import decode_item, encode_item, key_of
from heron.tables.dynamodb_responses import Consumed, consumed
from heron.tables.operations import Call
from heron.types import Item, Key

if TYPE_CHECKING:
    from heron.tables.dynamodb import DynamoDatabase


@dataclass(frozen=True, slots=True)
class Reader:
    """What reading one page needs: the database, the table, the call and TTL visibility."""

    db: DynamoDatabase
    schema: TableSchema
    call: Call
    expired: Callable[[Item], bool]


def read_page(
    reader: Reader,
    operation: str,
    params: dict[str, Any],
    limit: int | None,
    start_key: Key | None,
    gsi: IndexSchema | None,
    mode: ReadMode,
) -> Page:
    """One protocol page of a ``query`` or ``scan`` with ``params``; charges ``reader.call``."""
    used = [Consumed()]
    items: list[Item] = []
    sizes: list[int] = []
    more = False
    with closing(_items(reader, operation, params, limit, start_key, used)) as found:
        for item in found:
            if reader.expired(item):
                continue
            size = item_size(item)
            if (limit is not None and len(items) >= limit) or (
                items and sum(sizes) + size > PAGE_BYTES
            ):
                more = True
                break
            items.append(item)
            sizes.append(size)
    total = used[0]
    index = gsi.name if gsi else None
    reader.call.read = total.read_units(index) if total.reported else query_read_units(sizes, mode)
    last = last_key(reader.schema, items[-1], gsi) if more and items else None
    return Page(items, last, reader.call.read)


def last_key(schema: TableSchema, item: Item, gsi: IndexSchema | None) -> Key:
    """The page token after ``item``: its table key, plus its index key on a GSI query."""
    key = key_of(schema, item)
    if gsi is not None:
        key[gsi.partition_key] = item[gsi.partition_key]
        if gsi.sort_key:
            key[gsi.sort_key] = item[gsi.sort_key]
    return key


def _items(
    reader: Reader,
    operation: str,
    params: dict[str, Any],
    limit: int | None,
    start_key: Key | None,
    used: list[Consumed],
) -> Generator[Item, None, None]:
    name = reader.schema.name
    request = {"TableName": name, "ReturnConsumedCapacity": "INDEXES", **params}
    if start_key is not None:
        request["ExclusiveStartKey"] = encode_item(start_key)
    while True:
        if limit is not None:
            request["Limit"] = limit + 1  # one ahead: is there another item after the page?
        response = reader.db.request(name, operation, **request)
        used[0] = used[0].plus(consumed(response.get("ConsumedCapacity")))
        for raw in response.get("Items") or ():
            yield decode_item(raw)
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last
