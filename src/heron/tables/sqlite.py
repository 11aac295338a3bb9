"""The SQLite backend (the embedded default): one WAL file shared by every process.

Layout: one SQLite table per DynamoDB table with the item as orjson bytes beside its key
(``pk``, ``sk``), size, TTL and two columns per GSI (NULL when the item is not in that sparse
index), each GSI with a partial index. Token buckets live in ``heron_buckets`` so throttling is
shared across processes. Every write runs in ``BEGIN IMMEDIATE`` with ``synchronous=FULL``, so a
conditional write is atomic across processes and an acknowledged write survives ``kill -9``.
Connections are per thread (and per process: a forked child opens its own). Writers queue on
a lock file first (``writer_lock``), so they wait for each other without polling.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson

from heron.errors import ConfigError
from heron.tables.base import SortKeyCondition, TableSchema
from heron.tables.database import CoreDatabase
from heron.tables.metrics import Recorder
from heron.tables.sqlite_sql import TableSql, table_ddl
from heron.tables.storage import IndexKey, Position, Row, Rows
from heron.tables.throttle import Bucket
from heron.tables.writer_lock import WriterLock
from heron.types import Clock

#: Milliseconds a connection waits for another process's write lock before failing.
BUSY_TIMEOUT_MS = 10_000
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_META_DDL = (
    "CREATE TABLE IF NOT EXISTS heron_tables (name TEXT PRIMARY KEY, schema BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS heron_buckets "
    "(name TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL)",
)


class _Local(threading.local):
    conn: sqlite3.Connection | None = None
    pid: int = 0
    depth: int = 0


class SqliteStorage:
    """Storage primitives over one SQLite file, one connection per thread."""

    system_errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: Path, schemas: Sequence[TableSchema]) -> None:
        for schema in schemas:
            if not _TABLE_NAME.match(schema.name):
                raise ConfigError(f"Invalid table name {schema.name!r} (DynamoDB naming rules)")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sql = {s.name: TableSql(s) for s in schemas}
        self._local = _Local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._writer = WriterLock(self.path.with_name(self.path.name + "-writer"))
        self._create(schemas)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit; transactions are explicit BEGIN IMMEDIATE
            check_same_thread=False,  # only its thread uses it, but close() may run elsewhere
            cached_statements=256,
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so an acknowledged write survives a crash.
        conn.execute("PRAGMA synchronous=FULL")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn = local.conn
        if conn is None or local.pid != os.getpid():
            if self._closed:
                raise sqlite3.ProgrammingError("The database is closed")
            # A forked child must not share its parent's connection: open a fresh one.
            conn = local.conn = self._connect()
            local.pid = os.getpid()
            local.depth = 0
        return conn

    def _create(self, schemas: Sequence[TableSchema]) -> None:
        with self.atomic():
            conn = self._conn()
            for ddl in _META_DDL:
                conn.execute(ddl)
            for schema in schemas:
                stored = conn.execute(
                    "SELECT schema FROM heron_tables WHERE name = ?", (schema.name,)
                ).fetchone()
                shape = orjson.dumps(_shape(schema))
                if stored is None:
                    for ddl in table_ddl(schema):
                        conn.execute(ddl)
                    conn.execute("INSERT INTO heron_tables VALUES (?, ?)", (schema.name, shape))
                elif bytes(stored[0]) != shape:
                    raise ConfigError(
                        f"Table {schema.name} in {self.path} has different keys or indexes "
                        f"({bytes(stored[0]).decode()}); delete the file or rename the table"
                    )

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction (re-entrant within a thread)."""
        conn = self._conn()
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        took = self._writer.acquire()
        try:
            self._begin(conn)
            local.depth = 1
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            finally:
                local.depth = 0
        finally:
            if took:
                self._writer.release()

    def _begin(self, conn: sqlite3.Connection) -> None:
        # SQLite's own busy handler sleeps 1, 2, 5 ... 100 ms between tries, so a process waiting
        # for another's write lock stalls far longer than the lock is held (a commit takes about
        # 0.3 ms). Instead, try without waiting and poll briefly, with a growing jittered pause.
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
            pause = 0.00005
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 2, 0.002)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def get_row(self, table: str, partition: object, sort: object) -> Row | None:
        """The row under the key, or None."""
        cur = self._conn().execute(self._sql[table].get, (partition, sort))
        found: Row | None = cur.fetchone()
        return found

    def put_row(
        self,
        table: str,
        partition: object,
        sort: object,
        row: Row,
        index_keys: Sequence[IndexKey],
    ) -> None:
        """Insert or replace a row and its GSI key columns."""
        values: list[object] = [partition, sort, row[0], row[1], row[2]]
        for ikey in index_keys:
            values += (None, None) if ikey is None else ikey
        self._conn().execute(self._sql[table].put, values)

    def delete_row(self, table: str, partition: object, sort: object) -> None:
        """Delete the row under the key."""
        self._conn().execute(self._sql[table].delete, (partition, sort))

    def query_rows(
        self,
        table: str,
        index: int | None,
        partition: object,
        sort: SortKeyCondition | None,
        forward: bool,
        after: Position | None,
    ) -> Rows:
        """A partition's rows in key order, streamed from one SELECT."""
        sql, params = self._sql[table].query(index, partition, sort, forward, after)
        return self._stream(sql, params)

    def scan_rows(self, table: str, after: Position | None) -> Rows:
        """Every row of a table in (pk, sk) order."""
        sql, params = self._sql[table].scan(after)
        return self._stream(sql, params)

    def _stream(self, sql: str, params: Sequence[object]) -> Rows:
        cur = self._conn().execute(sql, params)
        try:
            while True:
                batch = cur.fetchmany(64)
                if not batch:
                    return
                yield from batch
        finally:
            cur.close()

    def load_buckets(self, names: Sequence[str]) -> list[Bucket | None]:
        """Stored token buckets by name."""
        conn = self._conn()
        out: list[Bucket | None] = []
        for name in names:
            found = conn.execute(
                "SELECT tokens, updated FROM heron_buckets WHERE name = ?", (name,)
            ).fetchone()
            out.append(None if found is None else Bucket(found[0], found[1]))
        return out

    def save_buckets(self, buckets: Sequence[tuple[str, Bucket]]) -> None:
        """Store token buckets (inside the caller's transaction)."""
        self._conn().executemany(
            "INSERT INTO heron_buckets (name, tokens, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated",
            [(name, b.tokens, b.updated) for name, b in buckets],
        )

    def sweep(self, table: str, now: float) -> int:
        """Delete expired rows through the partial TTL index."""
        return self._conn().execute(self._sql[table].sweep, (now,)).rowcount

    def close(self) -> None:
        """Close every connection this storage opened, in any thread."""
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local.conn = None
        self._writer.close()


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back (a failed COMMIT, SQLITE_FULL); the original error wins.
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _shape(schema: TableSchema) -> dict[str, object]:
    # What the file layout depends on; capacity settings may change freely between runs.
    return {
        "partition_key": schema.partition_key,
        "sort_key": schema.sort_key,
        "indexes": [[i.name, i.partition_key, i.sort_key] for i in schema.indexes],
        "ttl_attribute": schema.ttl_attribute,
    }


class SqliteDatabase(CoreDatabase):
    """A Database in one SQLite file (``<data-dir>/tables.db``), shared by many processes."""

    def __init__(
        self,
        path: Path,
        schemas: Sequence[TableSchema],
        clock: Clock = time.time,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__(SqliteStorage(path, schemas), schemas, clock, recorder)
