"""Checkpoints a SQLite WAL database from a background thread, so commits never do it.

With SQLite's automatic checkpoints, the commit that crosses 1,000 WAL pages copies them back
into the database file itself: about two thirds of a log write's commit time
(bench/README.md, figure 8a). Here a thread with its own connection runs a PASSIVE checkpoint
instead, once the writer has reported (``nudge``) ``every_bytes`` of committed data, at most
every ``interval_s``: a checkpoint syncs the files, so small commits do not each get one, and an
idle store wakes nobody. The sqlite3 module releases the GIL while SQLite works, so the copy
runs beside the writer on another core. The writer keeps an automatic checkpoint at
``BACKSTOP_PAGES`` only as a backstop should this thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: WAL pages after which the writer's own commit checkpoints anyway (the backstop).
BACKSTOP_PAGES = 8_192
#: Committed bytes reported before a checkpoint is due (SQLite's default is 1,000 pages).
EVERY_BYTES = 4 * 1024 * 1024


class WalCheckpointer:
    """A daemon thread checkpointing the WAL of the database at ``path`` every ``interval_s``."""

    def __init__(
        self, path: Path, *, interval_s: float = 0.5, every_bytes: int = EVERY_BYTES
    ) -> None:
        self._path = path
        self._interval_s = interval_s
        self._every_bytes = every_bytes
        self._pending_bytes = 0
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, writer: sqlite3.Connection) -> None:
        """Move the writer's automatic checkpoints to the backstop and start the thread."""
        writer.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        if self._thread is None:
            self._thread = threading.Thread(
                target=_run,
                args=(self._path, self._interval_s, self._stop, self._dirty),
                daemon=True,
                name=f"heron-checkpoint-{self._path.name}",
            )
            self._thread.start()

    def nudge(self, committed_bytes: int) -> None:
        """Tell the thread the writer committed about ``committed_bytes``; past ``every_bytes``
        since the last checkpoint, one is due."""
        self._pending_bytes += committed_bytes
        if self._pending_bytes >= self._every_bytes:
            self._pending_bytes = 0
            self._dirty.set()

    def close_soon(self) -> None:
        """Ask the thread to stop without waiting (for a store collected without close)."""
        self._stop.set()
        self._dirty.set()

    def close(self) -> None:
        """Stop the thread (after a last checkpoint) and wait for it."""
        self.close_soon()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _run(path: Path, interval_s: float, stop: threading.Event, dirty: threading.Event) -> None:
    # The thread gets only what it needs, not the store, so a store dropped without close()
    # is still collected (and its finalizer stops the thread).
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        while True:
            dirty.wait()
            if stop.is_set():
                break
            dirty.clear()
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy or locked: the next round, or the backstop, catches up
                log.debug("checkpoint of %s skipped", path, exc_info=True)
            if stop.wait(interval_s):  # at most one checkpoint per interval
                break
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        db.close()
