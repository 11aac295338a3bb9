"""Silences and maintenance windows: alarms matching a name pattern are not notified while active.

A maintenance window is a silence that starts in the future. Expiring a silence ends it now (as
in Alertmanager, nothing is deleted; expired silences stay for the record).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from heron.monitor.notify.db import NotifyDB


@dataclass(frozen=True, slots=True)
class Silence:
    """Alarms whose name matches ``pattern`` (shell-style glob) are muted in [starts, ends)."""

    id: int
    pattern: str
    starts: float
    ends: float
    comment: str
    created_by: str

    def active(self, now: float) -> bool:
        """Whether the silence is in force at ``now``."""
        return self.starts <= now < self.ends

    def matches(self, alarm: str) -> bool:
        """Whether the silence covers ``alarm``."""
        return fnmatch.fnmatchcase(alarm, self.pattern)


def matching_silence(alarm: str, silences: Sequence[Silence], now: float) -> Silence | None:
    """The active silence covering ``alarm`` that ends last (None when nothing mutes it)."""
    hits = [s for s in silences if s.active(now) and s.matches(alarm)]
    return max(hits, key=lambda s: s.ends, default=None)


class Silences:
    """The silence table."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def add(
        self, pattern: str, starts: float, ends: float, *, comment: str, created_by: str, now: float
    ) -> Silence:
        """Create a silence; refuses an empty pattern or an end before the start."""
        if not pattern.strip():
            raise ValueError("a silence needs an alarm name or pattern")
        if ends <= starts:
            raise ValueError("a silence must end after it starts")
        cur = self._db.execute(
            "INSERT INTO nt_silences (pattern, starts, ends, comment, created_by, created) "
            "VALUES (?,?,?,?,?,?)",
            (pattern, starts, ends, comment, created_by, now),
        )
        return Silence(int(cur.lastrowid or 0), pattern, starts, ends, comment, created_by)

    def expire(self, silence_id: int, now: float) -> bool:
        """End a silence now; False when there is no such silence still in force or pending."""
        cur = self._db.execute(
            "UPDATE nt_silences SET ends=?, starts=MIN(starts, ?) WHERE id=? AND ends>?",
            (now, now, silence_id, now),
        )
        return cur.rowcount > 0

    def all(self) -> list[Silence]:
        """Every silence, newest first."""
        rows = self._db.all(
            "SELECT id, pattern, starts, ends, comment, created_by FROM nt_silences "
            "ORDER BY id DESC"
        )
        return [Silence(*row) for row in rows]

    def current(self, now: float) -> list[Silence]:
        """Silences active now or starting later (maintenance windows)."""
        return [s for s in self.all() if s.ends > now]

    def ended_between(self, start: float, end: float) -> list[Silence]:
        """Silences that ended in (start, end]: their still-firing alarms are announced again."""
        return [s for s in self.all() if start < s.ends <= end]
