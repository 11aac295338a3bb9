"""What only the SQLite backend promises: a durable file shared by threads and processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from heron.errors import ConfigError, TableError, ThrottledError
from heron.tables import open_database
from heron.tables.base import TableSchema
from heron.tables.metrics import Recorder
from heron.tables.sqlite import SqliteDatabase

from .fakes import SCHEMAS, FakeClock

# Child processes open the same file with the same schemas (the test schemas module is importable
# as a plain module from this directory).
CHILD_PREAMBLE = """
import sys, time
from pathlib import Path
sys.path.insert(0, {here!r})
from fakes import SCHEMAS
from heron.errors import ConditionFailedError, ThrottledError
from heron.tables import open_database
from heron.tables.base import attribute_not_exists
db = open_database("sqlite", Path({data_dir!r}), SCHEMAS, clock=lambda: 1000.0)
"""


def child(data_dir: Path, body: str) -> list[str]:
    """argv for a Python child that opens the database in ``data_dir`` and runs ``body``."""
    preamble = CHILD_PREAMBLE.format(here=str(Path(__file__).parent), data_dir=str(data_dir))
    return [sys.executable, "-c", preamble + textwrap.dedent(body)]


def test_file_layout_and_pragmas(tmp_path: Path) -> None:
    db = open_database("sqlite", tmp_path, SCHEMAS)
    db.table("Users").put({"userId": "u1"})
    db.close()
    conn = sqlite3.connect(tmp_path / "tables.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"t_Users", "t_Messages", "t_Notifications", "t_Connections"} <= tables
    conn.close()


def test_data_survives_reopening(tmp_path: Path) -> None:
    db = open_database("sqlite", tmp_path, SCHEMAS)
    db.table("Messages").put({"conversationId": "c", "sk": "1", "text": "hi"})
    db.close()
    again = open_database("sqlite", tmp_path, SCHEMAS)
    assert again.table("Messages").get({"conversationId": "c", "sk": "1"}) == {
        "conversationId": "c",
        "sk": "1",
        "text": "hi",
    }
    again.close()


def test_a_changed_key_schema_is_refused(tmp_path: Path) -> None:
    SqliteDatabase(tmp_path / "t.db", [TableSchema("Things", "id")]).close()
    with pytest.raises(ConfigError, match="different keys"):
        SqliteDatabase(tmp_path / "t.db", [TableSchema("Things", "id", sort_key="at")])
    # Capacity settings are not part of the layout and may change.
    SqliteDatabase(tmp_path / "t.db", [TableSchema("Things", "id", provisioned=(1, 1))]).close()
    with pytest.raises(ConfigError, match="Invalid table name"):
        SqliteDatabase(tmp_path / "t.db", [TableSchema('bad"name', "id")])


def test_threads_share_the_database(tmp_path: Path) -> None:
    db = open_database("sqlite", tmp_path, SCHEMAS)
    users = db.table("Users")

    def work(worker: int) -> None:
        for i in range(50):
            users.put({"userId": f"{worker}-{i}"})
            assert users.get({"userId": f"{worker}-{i}"}) is not None

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(users.scan(limit=1000).items) == 200
    db.close()


def test_engine_failures_are_system_errors(tmp_path: Path) -> None:
    recorder = Recorder()
    db = open_database("sqlite", tmp_path, SCHEMAS, recorder=recorder)
    users = db.table("Users")
    db.close()
    with pytest.raises(TableError) as caught:
        users.get({"userId": "u1"})
    assert type(caught.value) is TableError
    assert [op.outcome for op in recorder.drain()] == ["system_error"]


def test_racing_conditional_puts_across_processes(tmp_path: Path) -> None:
    open_database("sqlite", tmp_path, SCHEMAS).close()
    go = tmp_path / "go"
    body = f"""
        print("ready", flush=True)
        while not Path({str(go)!r}).exists():
            time.sleep(0.001)
        users = db.table("Users")
        # The two children walk the keys from opposite ends, so they collide in the middle.
        for i in range(200) if sys.argv[1] == "a" else reversed(range(200)):
            try:
                users.put({{"userId": f"k{{i}}", "by": sys.argv[1]}},
                          condition=attribute_not_exists("userId"))
                print(f"won k{{i}}", flush=True)
            except ConditionFailedError:
                pass
    """
    procs = [
        subprocess.Popen([*child(tmp_path, body), name], stdout=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    for p in procs:  # wait until both children have opened the database
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    go.touch()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    wins = [{line.split()[1] for line in out.splitlines() if line} for out in outputs]
    assert wins[0] | wins[1] == {f"k{i}" for i in range(200)}
    assert not wins[0] & wins[1]  # exactly one process won each key
    db = open_database("sqlite", tmp_path, SCHEMAS)
    users = db.table("Users")
    for name, won in zip("ab", wins, strict=True):
        assert all(users.get({"userId": key})["by"] == name for key in won)  # type: ignore[index]
    db.close()


def test_throttle_buckets_are_shared_across_processes(tmp_path: Path) -> None:
    body = """
        for i in range(4):
            db.table("Limited").put({"id": f"child{i}"})
        print("spent", flush=True)
    """
    out = subprocess.run(child(tmp_path, body), capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "spent", out.stderr
    db = open_database("sqlite", tmp_path, SCHEMAS, clock=FakeClock(1000.0))
    with pytest.raises(ThrottledError):
        db.table("Limited").put({"id": "parent"})
    db.close()


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    body = """
        messages = db.table("Messages")
        i = 0
        while True:
            messages.put({"conversationId": "c", "sk": f"{i:08d}", "text": "x" * 100})
            print(i, flush=True)
            i += 1
    """
    with subprocess.Popen(child(tmp_path, body), stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        acked = -1
        deadline = time.monotonic() + 30
        while acked < 150 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acked = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for line in proc.stdout:  # acks written to the pipe before the kill count too
            if line.strip():
                acked = int(line)
    assert acked >= 150
    db = open_database("sqlite", tmp_path, SCHEMAS)
    messages = db.table("Messages")
    for i in range(acked + 1):
        assert messages.get({"conversationId": "c", "sk": f"{i:08d}"}, consistent=True), i
    db.close()
