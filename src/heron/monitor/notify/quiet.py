"""When the notifier may skip a tick: nothing that time alone can make due, and no new writes.

A tick reads about a dozen tables to find work that time has made due: escalations, snooze
ends, promotions, digests, retries, silence and maintenance ends, subscription confirmations.
All of that work hangs off rows: a firing or flapping alarm, an open incident, a queued or
deferred outbox row, a pending subscription or topic message. When none exists, only a write
can create some, so until the databases change a tick would find nothing. ``ChangeWatch``
notices every commit, from this process or another (``heron notify ack`` writes the file
directly), through ``PRAGMA data_version`` on a connection of its own: SQLite changes that
number for a connection whenever any *other* connection commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.incidents import ACKNOWLEDGED, OPEN, SNOOZED
from heron.monitor.notify.outbox import DEFERRED, QUEUED
from heron.monitor.notify.topics import TopicStore

#: Rows of the notify database that time can turn into work, one query each.
_WAITING_ON_TIME = (
    ("SELECT 1 FROM nt_states WHERE state='ALARM' LIMIT 1", ()),
    ("SELECT 1 FROM nt_flapping LIMIT 1", ()),
    (
        "SELECT 1 FROM nt_incidents WHERE status IN (?, ?, ?) LIMIT 1",
        (OPEN, ACKNOWLEDGED, SNOOZED),
    ),
    ("SELECT 1 FROM nt_outbox WHERE status IN (?, ?) LIMIT 1", (QUEUED, DEFERRED)),
)


def nothing_pending(db: NotifyDB, topics: TopicStore) -> bool:
    """True when no alarm fires or flaps, no incident is open, no outbox row waits and no
    subscription or topic message is pending: then a tick can only find work after a write."""
    if topics.has_pending():
        return False
    return all(db.one(sql, args) is None for sql, args in _WAITING_ON_TIME)


class ChangeWatch:
    """Sees commits to some SQLite files by any connection, in this process or another."""

    def __init__(self, paths: Iterable[Path | str]) -> None:
        unique = dict.fromkeys(str(Path(p).resolve()) for p in paths)
        # Used from the event loop and from the tick's worker thread, never at once.
        self._connections = [
            sqlite3.connect(path, check_same_thread=False, isolation_level=None) for path in unique
        ]

    def versions(self) -> tuple[int, ...]:
        """Numbers that differ from an earlier call's once another connection has committed."""
        return tuple(c.execute("PRAGMA data_version").fetchone()[0] for c in self._connections)

    def close(self) -> None:
        """Close the watching connections."""
        for connection in self._connections:
            connection.close()
