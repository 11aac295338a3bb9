"""The background checkpointer copies a committed WAL into the database file, only when nudged."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from heron.monitor.wal_checkpointer import WalCheckpointer


def _writer(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x BLOB)")
    return db


def _wait_for(condition: object, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_a_nudge_checkpoints_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = _writer(path)
    checkpointer = WalCheckpointer(path, interval_s=0.05, every_bytes=1_500_000)
    checkpointer.attach(db)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 1000  # the backstop only
    before = path.stat().st_size
    db.executemany("INSERT INTO t VALUES (randomblob(1000))", [()] * 2000)
    checkpointer.nudge(1_000_000)  # under every_bytes: not yet
    time.sleep(0.3)
    assert path.stat().st_size == before  # committed, in the WAL, nothing copied
    checkpointer.nudge(1_000_000)
    assert _wait_for(lambda: path.stat().st_size > before + 1_000_000)
    checkpointer.close()
    db.close()


def test_close_checkpoints_and_stops_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = _writer(path)
    checkpointer = WalCheckpointer(path, interval_s=10.0)
    checkpointer.attach(db)
    checkpointer.nudge(10**9)
    before = path.stat().st_size
    db.executemany("INSERT INTO t VALUES (randomblob(1000))", [()] * 500)
    started = time.monotonic()
    checkpointer.close()  # does not wait out the 10 s interval
    assert time.monotonic() - started < 5.0
    assert path.stat().st_size > before + 250_000  # the last checkpoint on the way out
    db.close()
