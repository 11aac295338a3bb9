"""Checkpoints a SQLite WAL database from a background thread, so commits never do it.

With SQLite's automatic checkpoints, the commit that crosses 1,000 WAL pages copies them back
into the database file itself: about two thirds of a log write's commit time
(bench/README.md, figure 8a). Here a thread with its own connection runs a PASSIVE checkpoint
every ``interval_s`` instead; the sqlite3 module releases the GIL while SQLite works, so the
copy runs beside the writer on another core. The writer keeps an automatic checkpoint at
``backstop_pages`` only as a backstop should this thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: WAL pages after which the writer's own commit checkpoints anyway (the backstop).
BACKSTOP_PAGES = 8_192


class WalCheckpointer:
    """A daemon thread checkpointing the WAL of the database at ``path`` every ``interval_s``."""

    def __init__(self, path: Path, *, interval_s: float = 0.5) -> None:
        self._path = path
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, writer: sqlite3.Connection) -> None:
        """Move the writer's automatic checkpoints to the backstop and start the thread."""
        writer.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        if self._thread is None:
            self._thread = threading.Thread(
                target=_run,
                args=(self._path, self._interval_s, self._stop),
                daemon=True,
                name=f"heron-checkpoint-{self._path.name}",
            )
            self._thread.start()

    def close_soon(self) -> None:
        """Ask the thread to stop without waiting (for a store collected without close)."""
        self._stop.set()

    def close(self) -> None:
        """Stop the thread (after a last checkpoint) and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _run(path: Path, interval_s: float, stop: threading.Event) -> None:
    # The thread gets only what it needs, not the store, so a store dropped without close()
    # is still collected (and its finalizer stops the thread).
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        while not stop.wait(interval_s):
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy or locked: the next round, or the backstop, catches up
                log.debug("checkpoint of %s skipped", path, exc_info=True)
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        db.close()
