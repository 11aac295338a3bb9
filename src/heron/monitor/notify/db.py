"""The notifier's SQLite database: one connection, one lock, nestable transactions.

Incidents, silences, the delivery outbox, the inbox and the ledger live in the same file (by
default ``notify.db``, beside TopicStore's tables) so that one alert's decisions, its outbox rows
and the "already processed" mark commit together: after a ``kill -9`` either all of them exist or
none does, and re-processing the topic message is a no-op.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nt_processed (message_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nt_states (
    alarm TEXT PRIMARY KEY, state TEXT NOT NULL, at REAL NOT NULL, alert TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nt_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, alarm TEXT NOT NULL, state TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS nt_changes_alarm ON nt_changes (alarm, at);
CREATE TABLE IF NOT EXISTS nt_flapping (
    alarm TEXT PRIMARY KEY, since REAL NOT NULL, changes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nt_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, alarm TEXT NOT NULL, severity TEXT NOT NULL,
    status TEXT NOT NULL, opened REAL NOT NULL, updated REAL NOT NULL, alert TEXT NOT NULL,
    thread TEXT NOT NULL, level INTEGER NOT NULL DEFAULT 0, loop INTEGER NOT NULL DEFAULT 0,
    next_escalation REAL, snoozed_until REAL, acked_by TEXT, resolved REAL, note TEXT,
    promoted INTEGER NOT NULL DEFAULT 0, targets TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS nt_incidents_alarm ON nt_incidents (alarm, status);
CREATE TABLE IF NOT EXISTS nt_silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT, pattern TEXT NOT NULL, starts REAL NOT NULL,
    ends REAL NOT NULL, comment TEXT NOT NULL, created_by TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nt_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
    alarm TEXT NOT NULL, alert_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL, due REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, created REAL NOT NULL, done REAL, parent INTEGER);
CREATE INDEX IF NOT EXISTS nt_outbox_due ON nt_outbox (status, due);
CREATE INDEX IF NOT EXISTS nt_outbox_alarm ON nt_outbox (alarm);
CREATE TABLE IF NOT EXISTS nt_channels (
    channel TEXT PRIMARY KEY, next_send REAL NOT NULL DEFAULT 0, confirmed INTEGER NOT NULL DEFAULT 0,
    token TEXT, confirm_sent REAL);
CREATE TABLE IF NOT EXISTS nt_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, at REAL NOT NULL,
    recipient TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    alarm TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nt_maintenance (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL, created_by TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nt_slack_threads (
    channel TEXT NOT NULL, thread TEXT NOT NULL, ts TEXT NOT NULL, slack_channel TEXT NOT NULL,
    PRIMARY KEY (channel, thread));
CREATE TABLE IF NOT EXISTS nt_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, alert_id TEXT NOT NULL,
    alarm TEXT NOT NULL, stage TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL,
    detail TEXT NOT NULL, delivery INTEGER, channel TEXT);
CREATE INDEX IF NOT EXISTS nt_ledger_alarm ON nt_ledger (alarm, id);
CREATE INDEX IF NOT EXISTS nt_ledger_alert ON nt_ledger (alert_id, id);
"""


class NotifyDB:
    """A thread-safe SQLite connection with nestable ``transaction()`` blocks."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = str(path)
        if readonly:
            uri = f"file:{Path(path).resolve()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        else:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        # The CLI and heron up may write at the same moment; wait instead of failing.
        self._db.execute("PRAGMA busy_timeout=5000")
        if not readonly:
            self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0
        self._appends: dict[str, list[Sequence[Any]]] = {}

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one write transaction (inner blocks join the outer one)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._appends.clear()
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                try:
                    self._flush_appends()
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")

    def _flush_appends(self) -> None:
        appends, self._appends = self._appends, {}
        for sql, rows in appends.items():
            self._db.executemany(sql, rows)

    def append(self, sql: str, args: Sequence[Any]) -> None:
        """An INSERT nothing reads back before the commit: batched until the transaction ends
        (executed at once outside one). The ledger writes several rows per alert this way."""
        with self._lock:
            if self._depth == 0:
                self._db.execute(sql, args)
            else:
                self._appends.setdefault(sql, []).append(args)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Execute one statement (autocommitted unless inside ``transaction()``)."""
        with self._lock:
            return self._db.execute(sql, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute one statement for each of ``rows``."""
        with self._lock:
            self._db.executemany(sql, rows)

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
            return row
