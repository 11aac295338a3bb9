"""Flap detection: an alarm changing state more than K times in T minutes is flapping.

Every observed state change is recorded. Flapping begins when the window holds more than K
changes and ends (settles) when it holds at most K // 2 — the gap is hysteresis, so an alarm on
the edge does not flip between "flapping" and "settled" notices.
"""

from __future__ import annotations

import orjson

from heron.monitor.notify.config import Flapping
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.model import Alert


def starts_flapping(changes_in_window: int, policy: Flapping) -> bool:
    """Whether this many recent changes make a steady alarm flapping."""
    return changes_in_window > policy.changes


def has_settled(changes_in_window: int, policy: Flapping) -> bool:
    """Whether a flapping alarm has calmed down."""
    return changes_in_window <= policy.changes // 2


class AlarmStates:
    """Each alarm's last known state, its recent changes, and whether it is flapping."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def observe(self, alert: Alert) -> bool:
        """Record ``alert``'s state; True when it is a change from the last known state."""
        row = self._db.one("SELECT state FROM nt_states WHERE alarm=?", (alert.alarm,))
        self._db.execute(
            "INSERT INTO nt_states VALUES (?,?,?,?) ON CONFLICT(alarm) DO UPDATE SET "
            "state=excluded.state, at=excluded.at, alert=excluded.alert",
            (alert.alarm, alert.state, alert.at, orjson.dumps(alert.as_dict()).decode()),
        )
        changed = row is None or row[0] != alert.state
        if changed:
            self._db.execute(
                "INSERT INTO nt_changes (alarm, state, at) VALUES (?,?,?)",
                (alert.alarm, alert.state, alert.at),
            )
        return changed

    def last(self, alarm: str) -> Alert | None:
        """The last alert seen for ``alarm``."""
        row = self._db.one("SELECT alert FROM nt_states WHERE alarm=?", (alarm,))
        return None if row is None else Alert.from_dict(orjson.loads(row[0]))

    def changes(self, alarm: str, since: float) -> int:
        """How many state changes ``alarm`` made at or after ``since``."""
        row = self._db.one(
            "SELECT COUNT(*) FROM nt_changes WHERE alarm=? AND at>=?", (alarm, since)
        )
        return int(row[0]) if row else 0

    def is_flapping(self, alarm: str) -> bool:
        """Whether ``alarm`` is currently marked flapping."""
        return self._db.one("SELECT 1 FROM nt_flapping WHERE alarm=?", (alarm,)) is not None

    def mark_flapping(self, alarm: str, now: float, changes: int) -> None:
        """Mark ``alarm`` flapping."""
        self._db.execute("INSERT OR REPLACE INTO nt_flapping VALUES (?,?,?)", (alarm, now, changes))

    def clear_flapping(self, alarm: str) -> None:
        """``alarm`` has settled."""
        self._db.execute("DELETE FROM nt_flapping WHERE alarm=?", (alarm,))

    def flapping(self) -> list[str]:
        """Alarms currently flapping."""
        return [r[0] for r in self._db.all("SELECT alarm FROM nt_flapping ORDER BY alarm")]

    def prune(self, before: float) -> None:
        """Forget changes older than ``before`` (they no longer count toward any window)."""
        self._db.execute("DELETE FROM nt_changes WHERE at<?", (before,))
