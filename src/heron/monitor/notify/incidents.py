"""Incidents: an ALARM opens one (dedup key = the alarm), people acknowledge, snooze or resolve it,
and the alarm returning to OK resolves it automatically.

Escalation state lives here too (current level, loop, when the next step is due), so a restart
resumes escalation exactly where it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import orjson

from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.model import Alert, Severity

OPEN, ACKNOWLEDGED, SNOOZED, RESOLVED = "open", "acknowledged", "snoozed", "resolved"
_COLS = (
    "id, alarm, severity, status, opened, updated, alert, thread, level, loop, next_escalation,"
    " snoozed_until, acked_by, resolved, note, promoted, targets"
)


class IncidentError(ValueError):
    """An action that does not apply (unknown incident, already resolved...)."""


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident and its escalation position."""

    id: int
    alarm: str
    severity: Severity
    status: str
    opened: float
    updated: float
    alert: Alert
    thread: str
    level: int
    loop: int
    next_escalation: float | None
    snoozed_until: float | None
    acked_by: str | None
    resolved: float | None
    note: str | None
    promoted: bool
    targets: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Whether the incident is not yet resolved."""
        return self.status != RESOLVED


def _incident(row: tuple[object, ...]) -> Incident:
    values = list(row)
    values[2] = Severity(str(values[2]))
    values[6] = Alert.from_dict(orjson.loads(str(values[6])))
    values[15] = bool(values[15])
    values[16] = tuple(json.loads(str(values[16])))
    return Incident(*values)  # type: ignore[arg-type]


class IncidentStore:
    """The incident table."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def get(self, incident_id: int) -> Incident:
        """The incident, or IncidentError."""
        row = self._db.one(f"SELECT {_COLS} FROM nt_incidents WHERE id=?", (incident_id,))
        if row is None:
            raise IncidentError(f"no incident #{incident_id}")
        return _incident(row)

    def active_for(self, alarm: str) -> Incident | None:
        """The alarm's unresolved incident (the dedup key is the alarm name)."""
        row = self._db.one(
            f"SELECT {_COLS} FROM nt_incidents WHERE alarm=? AND status!=? ORDER BY id DESC",
            (alarm, RESOLVED),
        )
        return None if row is None else _incident(row)

    def latest_for(self, alarm: str) -> Incident | None:
        """The alarm's most recent incident, resolved or not."""
        row = self._db.one(
            f"SELECT {_COLS} FROM nt_incidents WHERE alarm=? ORDER BY id DESC", (alarm,)
        )
        return None if row is None else _incident(row)

    def all(self, *, active_only: bool = False, limit: int = 100) -> list[Incident]:
        """Incidents, newest first."""
        where = f"WHERE status!='{RESOLVED}'" if active_only else ""
        rows = self._db.all(
            f"SELECT {_COLS} FROM nt_incidents {where} ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [_incident(r) for r in rows]

    def open(self, alert: Alert, now: float, next_escalation: float | None) -> Incident:
        """Open an incident for ``alert``'s alarm."""
        thread = f"incident-{alert.id}@heron"
        cur = self._db.execute(
            "INSERT INTO nt_incidents (alarm, severity, status, opened, updated, alert, thread,"
            " next_escalation) VALUES (?,?,?,?,?,?,?,?)",
            (
                alert.alarm,
                alert.severity.value,
                OPEN,
                now,
                now,
                orjson.dumps(alert.as_dict()).decode(),
                thread,
                next_escalation,
            ),
        )
        # Built here rather than read back: intake opens one per alarm and speed matters there.
        return Incident(
            int(cur.lastrowid or 0), alert.alarm, alert.severity, OPEN, now, now, alert, thread,
            0, 0, next_escalation, None, None, None, None, False, (),
        )  # fmt: skip

    def add_targets(self, incident_id: int, targets: tuple[str, ...]) -> None:
        """Remember where the incident was announced (its resolution goes to the same places)."""
        row = self._db.one("SELECT targets FROM nt_incidents WHERE id=?", (incident_id,))
        if row is None:
            raise IncidentError(f"no incident #{incident_id}")
        current = tuple(json.loads(str(row[0])))
        merged = current + tuple(t for t in targets if t not in current)
        self._db.execute(
            "UPDATE nt_incidents SET targets=? WHERE id=?", (json.dumps(list(merged)), incident_id)
        )

    def resolve(self, incident_id: int, now: float, note: str = "") -> Incident:
        """Resolve (by hand or because the alarm is OK); escalation stops."""
        incident = self.get(incident_id)
        if not incident.active:
            raise IncidentError(f"incident #{incident_id} is already resolved")
        self._db.execute(
            "UPDATE nt_incidents SET status=?, updated=?, resolved=?, next_escalation=NULL,"
            " note=COALESCE(NULLIF(?, ''), note) WHERE id=?",
            (RESOLVED, now, now, note, incident_id),
        )
        return self.get(incident_id)

    def acknowledge(self, incident_id: int, now: float, by: str) -> Incident:
        """Acknowledge: somebody is on it, so escalation stops."""
        incident = self.get(incident_id)
        if not incident.active:
            raise IncidentError(f"incident #{incident_id} is resolved; nothing to acknowledge")
        self._db.execute(
            "UPDATE nt_incidents SET status=?, updated=?, acked_by=?, next_escalation=NULL,"
            " snoozed_until=NULL WHERE id=?",
            (ACKNOWLEDGED, now, by, incident_id),
        )
        return self.get(incident_id)

    def snooze(self, incident_id: int, now: float, until: float, by: str) -> Incident:
        """Pause paging until ``until``; then the incident pages its current level again."""
        incident = self.get(incident_id)
        if not incident.active:
            raise IncidentError(f"incident #{incident_id} is resolved; nothing to snooze")
        if until <= now:
            raise IncidentError("a snooze must end in the future")
        self._db.execute(
            "UPDATE nt_incidents SET status=?, updated=?, acked_by=?, snoozed_until=?,"
            " next_escalation=NULL WHERE id=?",
            (SNOOZED, now, by, until, incident_id),
        )
        return self.get(incident_id)

    def escalate_to(
        self, incident_id: int, now: float, level: int, loop: int, next_at: float | None
    ) -> None:
        """Record the new escalation position."""
        self._db.execute(
            "UPDATE nt_incidents SET status=?, updated=?, level=?, loop=?, next_escalation=?,"
            " snoozed_until=NULL WHERE id=?",
            (OPEN, now, level, loop, next_at, incident_id),
        )

    def promote(self, incident_id: int, now: float, next_at: float | None) -> None:
        """Mark a long-firing warning as critical."""
        self._db.execute(
            "UPDATE nt_incidents SET severity=?, promoted=1, updated=?, next_escalation=? "
            "WHERE id=?",
            (Severity.CRITICAL.value, now, next_at, incident_id),
        )

    def due(self, now: float) -> list[Incident]:
        """Open incidents whose next escalation is due, and snoozes that have ended."""
        rows = self._db.all(
            f"SELECT {_COLS} FROM nt_incidents WHERE (status=? AND next_escalation<=?)"
            " OR (status=? AND snoozed_until<=?) ORDER BY id",
            (OPEN, now, SNOOZED, now),
        )
        return [_incident(r) for r in rows]

    def firing_warnings(self, opened_before: float) -> list[Incident]:
        """Unresolved, unpromoted warning incidents opened before ``opened_before``."""
        rows = self._db.all(
            f"SELECT {_COLS} FROM nt_incidents WHERE status!=? AND severity=? AND promoted=0"
            " AND opened<=? ORDER BY id",
            (RESOLVED, Severity.WARNING.value, opened_before),
        )
        return [_incident(r) for r in rows]
