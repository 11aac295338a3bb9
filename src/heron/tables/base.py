"""The Table protocol every backend implements, and the schemas of Heron's four tables.

Backends (``memory``, ``sqlite``, later ``dynamodb``) implement the same protocol and pass one
contract suite (``tests/tables/test_contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from heron.errors import ConfigError, TableValidationError
from heron.types import Item, Key


@dataclass(frozen=True, slots=True)
class IndexSchema:
    """A global secondary index: its key attributes (all attributes are projected)."""

    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True, slots=True)
class TableSchema:
    """A table's name, key attributes, indexes, TTL attribute and capacity mode."""

    name: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[IndexSchema, ...] = ()
    ttl_attribute: str | None = None
    #: ``None`` means on-demand; otherwise (read capacity units, write capacity units) per second.
    provisioned: tuple[int, int] | None = None
    #: Seconds of unused provisioned capacity a table may bank for bursts (DynamoDB keeps 300).
    burst_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition on the stored item, checked atomically with a write.

    ``op`` is one of ``exists``, ``not_exists`` (the attribute), ``eq``, ``ne`` (attribute vs value);
    ``all_of`` combines conditions with AND.
    """

    op: Literal["exists", "not_exists", "eq", "ne", "and"]
    attribute: str = ""
    value: Any = None
    all_of: tuple[Condition, ...] = ()


def attribute_exists(attribute: str) -> Condition:
    """Condition: the stored item exists and has ``attribute``."""
    return Condition("exists", attribute)


def attribute_not_exists(attribute: str) -> Condition:
    """Condition: there is no stored item, or it lacks ``attribute``."""
    return Condition("not_exists", attribute)


def equals(attribute: str, value: Any) -> Condition:
    """Condition: the stored item's ``attribute`` equals ``value``."""
    return Condition("eq", attribute, value)


def not_equals(attribute: str, value: Any) -> Condition:
    """Condition: the stored item's ``attribute`` is absent or differs from ``value``."""
    return Condition("ne", attribute, value)


def all_of(*conditions: Condition) -> Condition:
    """Condition: every one of ``conditions`` holds."""
    return Condition("and", all_of=tuple(conditions))


@dataclass(frozen=True, slots=True)
class SortKeyCondition:
    """A Query's sort key condition: ``eq``, ``lt``, ``le``, ``gt``, ``ge``, ``between``, ``begins_with``."""

    op: Literal["eq", "lt", "le", "gt", "ge", "between", "begins_with"]
    value: Any
    upper: Any = None


@dataclass(slots=True)
class Page:
    """One page of Query results; ``last_key`` is set when there may be more."""

    items: list[Item]
    last_key: Key | None = None
    consumed_capacity: float = 0.0


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One operation of a transactional write: put, delete, or condition check, with a condition."""

    kind: Literal["put", "delete", "check", "update"]
    table: str
    item: Item | None = None
    key: Key | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    condition: Condition | None = None
    #: Attributes an ``update`` removes (the REMOVE clause of an update expression).
    remove: tuple[str, ...] = ()


class Table(Protocol):
    """A DynamoDB-shaped table: keyed items, conditional writes, queries with paging, indexes, TTL."""

    @property
    def schema(self) -> TableSchema:
        """The table's schema."""

    def get(self, key: Key, *, consistent: bool = False) -> Item | None:
        """Return the item with ``key``, or None (expired TTL items count as absent)."""

    def put(self, item: Item, *, condition: Condition | None = None) -> Item | None:
        """Store ``item`` (replacing any old one) if ``condition`` holds; return the old item."""

    def update(
        self,
        key: Key,
        changes: Mapping[str, Any],
        *,
        remove: Sequence[str] = (),
        condition: Condition | None = None,
    ) -> Item:
        """Set ``changes`` and drop ``remove`` on the item (creating it if absent); return the new item."""

    def delete(self, key: Key, *, condition: Condition | None = None) -> Item | None:
        """Delete the item with ``key`` if ``condition`` holds; return the deleted item."""

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
        """Return items with partition key ``partition`` (on the table or ``index``), in sort order."""

    def scan(self, *, limit: int | None = None, start_key: Key | None = None) -> Page:
        """Return every item, one page at a time."""


class Database(Protocol):
    """The set of tables one backend serves, and transactions across them."""

    def table(self, name: str) -> Table:
        """Return the table called ``name``; raises TableValidationError for an unknown table."""

    def transact_write(self, ops: Sequence[WriteOp]) -> None:
        """Apply every op or none (DynamoDB TransactWriteItems); raises TransactionCanceledError."""

    def close(self) -> None:
        """Release connections and files."""


_T = TypeVar("_T", bound=Table)


class TablesByName(Generic[_T]):
    """A Database's tables by name: the ``schemas`` and ``table`` lookup every backend shares."""

    _tables: dict[str, _T]

    def _name_tables(
        self, schemas: Sequence[TableSchema], make: Callable[[TableSchema], _T]
    ) -> None:
        """Build one table per schema with ``make``; raises ConfigError when a name repeats."""
        names = [s.name for s in schemas]
        if len(set(names)) != len(names):
            raise ConfigError(f"Duplicate table names in {names}")
        self._tables = {s.name: make(s) for s in schemas}

    @property
    def schemas(self) -> tuple[TableSchema, ...]:
        """The schemas of the tables this database serves."""
        return tuple(t.schema for t in self._tables.values())

    def table(self, name: str) -> _T:
        """Return the table called ``name``; raises TableValidationError for an unknown table."""
        try:
            return self._tables[name]
        except KeyError:
            raise TableValidationError(
                f"Requested resource not found: Table: {name} not found"
            ) from None
