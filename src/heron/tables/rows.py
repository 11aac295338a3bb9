"""Stored rows and items: TTL visibility, decoding, new images and collecting a page.

A row is what a backend keeps (item JSON, DynamoDB size, TTL); these helpers are the one place
rows become items and items become rows, shared by every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import cast

import orjson

from heron.tables.base import TableSchema
from heron.tables.capacity import PAGE_BYTES, check_item_size, item_size
from heron.tables.keys import index_key, is_expired, ttl_of
from heron.tables.storage import IndexKey, Row, Rows
from heron.types import Item

#: What a write produces: the new item, its stored row and its key in each GSI.
NewImage = tuple[Item, Row, list[IndexKey]]
#: Builds a write's new image from the current item (None when there is none); None deletes.
Builder = Callable[[Item | None], NewImage | None]


def visible(row: Row | None, now: float) -> Row | None:
    """The row, unless it is missing or past its TTL (expired items read as absent)."""
    return None if row is None or is_expired(row[2], now) else row


def decode(row: Row) -> Item:
    """The item stored in a row."""
    return cast(Item, orjson.loads(row[0]))


def new_image(schema: TableSchema, item: Item) -> NewImage:
    """Size-check and serialise a validated item into the row a backend stores."""
    size = item_size(item)
    check_item_size(size)
    row: Row = (orjson.dumps(item), size, ttl_of(schema, item))
    return item, row, [index_key(index, item) for index in schema.indexes]


def collect_page(rows: Rows, now: float, limit: int | None) -> tuple[list[Item], list[int], bool]:
    """Read visible items until ``limit`` items or 1 MB; say whether more items may follow."""
    items: list[Item] = []
    sizes: list[int] = []
    total = 0
    with closing(rows):
        for doc, size, expires_at in rows:
            if is_expired(expires_at, now):
                continue
            if (limit is not None and len(items) >= limit) or (items and total + size > PAGE_BYTES):
                return items, sizes, True
            items.append(cast(Item, orjson.loads(doc)))
            sizes.append(size)
            total += size
    return items, sizes, False
