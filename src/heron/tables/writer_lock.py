"""A cross-process lock that queues SQLite writers in the kernel instead of polling for SQLite's.

SQLite lets one writer at a time into a WAL database; the others get SQLITE_BUSY and must try
again. With ``synchronous=FULL`` a commit holds the write lock for about 0.35 ms of fsync on this
machine, so under ``POST /messages`` load four environments spent most of their CPU retrying
``BEGIN IMMEDIATE`` (each try is a read transaction, shared-memory locks and an exception). An
exclusive ``flock`` taken first makes a waiting writer sleep in the kernel until the holder lets
go, and ``BEGIN IMMEDIATE`` then succeeds at its first try. SQLite's own locking still guards
the data: a writer that does not take this lock (the ``sqlite3`` shell) is waited for as before.

The kernel drops a dead holder's lock, so a writer killed mid-transaction (a function timeout)
never blocks the others; only Heron's own code runs between taking and releasing it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

#: The lock files this thread holds, whichever instance took them.
_THIS_THREAD = threading.local()


def _paths_held_here() -> set[Path]:
    """The lock files this thread of this process holds (a forked child holds none)."""
    state = _THIS_THREAD.__dict__
    if state.get("pid") != os.getpid():
        state["pid"], state["paths"] = os.getpid(), set()
    paths: set[Path] = state["paths"]
    return paths


class _Held(threading.local):
    fd: int | None = None
    pid: int = 0


class WriterLock:
    """An exclusive ``flock`` on one file beside the database, with an open file per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held = _Held()
        self._fds: list[int] = []
        self._fds_lock = threading.Lock()

    def acquire(self) -> bool:
        """Wait (sleeping, not polling) until no other writer holds the lock, then hold it;
        False (nothing taken) when this thread holds it already through another instance."""
        held_here = _paths_held_here()
        if self.path in held_here:
            # A second database object on the same file, inside the first one's transaction:
            # waiting here would wait for ourselves. SQLite's own lock decides, as without this.
            return False
        fcntl.flock(self._fd(), fcntl.LOCK_EX)
        held_here.add(self.path)
        return True

    def release(self) -> None:
        """Let the next writer in (after an ``acquire`` that returned True)."""
        fd = self._held.fd
        _paths_held_here().discard(self.path)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close every thread's file (releasing whatever they hold)."""
        with self._fds_lock:
            fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held.fd = None

    def _fd(self) -> int:
        held = self._held
        if held.fd is None or held.pid != os.getpid():
            # flock belongs to the open file, so each thread opens its own (threads sharing one
            # would all hold it at once), and so does a forked child (its inherited copy is
            # the parent's).
            held.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            held.pid = os.getpid()
            with self._fds_lock:
                self._fds.append(held.fd)
        return held.fd
