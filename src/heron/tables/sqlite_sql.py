"""The SQL the SQLite backend runs for one table: DDL, point statements and Query/Scan builders.

Key columns have no declared type, so SQLite keeps strings as TEXT and numbers as INTEGER/REAL
and orders numbers before strings, with strings in UTF-8 byte order, as DynamoDB does. A sort
condition also checks ``typeof`` so a string bound never matches a number key. Statements are
built once per shape and cached, so SQLite's statement cache reuses the prepared statements.
"""

from __future__ import annotations

from typing import Any

from heron.tables.base import SortKeyCondition, TableSchema
from heron.tables.conditions import prefix_successor
from heron.tables.keys import is_number
from heron.tables.storage import Position

_COMPARE = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_SELECT = "SELECT doc, size, expires_at FROM "


def quoted_table(schema: TableSchema) -> str:
    """The quoted SQLite name of a DynamoDB table (names are checked against DynamoDB's rules)."""
    return f'"t_{schema.name}"'


def table_ddl(schema: TableSchema) -> list[str]:
    """CREATE statements for a table, its GSI indexes and its TTL index."""
    name = quoted_table(schema)
    index_columns = "".join(f", g{i}_pk, g{i}_sk" for i in range(len(schema.indexes)))
    ddl = [
        f"CREATE TABLE IF NOT EXISTS {name} (pk NOT NULL, sk NOT NULL, doc BLOB NOT NULL, "
        f"size INTEGER NOT NULL, expires_at REAL{index_columns}, PRIMARY KEY (pk, sk))"
    ]
    for i in range(len(schema.indexes)):
        ddl.append(
            f'CREATE INDEX IF NOT EXISTS "t_{schema.name}__g{i}" ON {name} '
            f"(g{i}_pk, g{i}_sk, pk, sk) WHERE g{i}_pk IS NOT NULL"
        )
    ddl.append(
        f'CREATE INDEX IF NOT EXISTS "t_{schema.name}__ttl" ON {name} (expires_at) '
        "WHERE expires_at IS NOT NULL"
    )
    return ddl


def sort_clause(column: str, condition: SortKeyCondition) -> tuple[str, list[Any]]:
    """SQL (and parameters) for a sort-key condition on ``column``."""
    numeric = is_number(condition.value)
    typed = f"typeof({column}) IN ('integer', 'real')" if numeric else f"typeof({column}) = 'text'"
    op = condition.op
    if op in _COMPARE:
        return f"{typed} AND {column} {_COMPARE[op]} ?", [condition.value]
    if op == "between":
        return f"{typed} AND {column} BETWEEN ? AND ?", [condition.value, condition.upper]
    prefix = str(condition.value)
    if not prefix:
        return typed, []
    upper = prefix_successor(prefix)
    if upper is None:
        return f"{typed} AND {column} >= ?", [prefix]
    return f"{typed} AND {column} >= ? AND {column} < ?", [prefix, upper]


class TableSql:
    """Prepared SQL text for one table."""

    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema
        name = quoted_table(schema)
        self.table = name
        columns = ["pk", "sk", "doc", "size", "expires_at"]
        for i in range(len(schema.indexes)):
            columns += [f"g{i}_pk", f"g{i}_sk"]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
        self.get = f"{_SELECT}{name} WHERE pk = ? AND sk = ?"
        self.put = (
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (pk, sk) DO UPDATE SET {updates}"
        )
        self.delete = f"DELETE FROM {name} WHERE pk = ? AND sk = ?"
        self.sweep = f"DELETE FROM {name} WHERE expires_at IS NOT NULL AND expires_at < ?"

    def query(
        self,
        index: int | None,
        partition: object,
        sort: SortKeyCondition | None,
        forward: bool,
        after: Position | None,
    ) -> tuple[str, list[Any]]:
        """A SELECT for one partition of the table or of GSI number ``index``, in key order."""
        order: tuple[str, ...]
        if index is None:
            where, sort_column, order = "pk = ?", "sk", ("sk",)
        else:
            where = f"g{index}_pk = ?"
            sort_column, order = f"g{index}_sk", (f"g{index}_sk", "pk", "sk")
        params: list[Any] = [partition]
        clauses = [where]
        if sort is not None:
            clause, values = sort_clause(sort_column, sort)
            clauses.append(clause)
            params += values
        if after is not None:
            clauses.append(_after(order, forward))
            params += list(after)
        direction = "ASC" if forward else "DESC"
        order_by = ", ".join(f"{c} {direction}" for c in order)
        return f"{_SELECT}{self.table} WHERE {' AND '.join(clauses)} ORDER BY {order_by}", params

    def scan(self, after: Position | None) -> tuple[str, list[Any]]:
        """A SELECT over the whole table in (pk, sk) order."""
        if after is None:
            return f"{_SELECT}{self.table} ORDER BY pk, sk", []
        return (
            f"{_SELECT}{self.table} WHERE {_after(('pk', 'sk'), True)} ORDER BY pk, sk",
            list(after),
        )


def _after(columns: tuple[str, ...], forward: bool) -> str:
    sign = ">" if forward else "<"
    if len(columns) == 1:
        return f"{columns[0]} {sign} ?"
    return f"({', '.join(columns)}) {sign} ({', '.join('?' * len(columns))})"
