"""The ledger: every routing decision and delivery attempt, queryable per alarm, alert or delivery.

``heron notify explain`` reads it to show the route one alert took: what silenced, deduplicated,
deferred, rate-limited or coalesced it, and each attempt with its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.model import Alert
from heron.monitor.notify.reasons import Decision
from heron.monitor.notify.secrets import redact


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded decision."""

    id: int
    at: float
    alert_id: str
    alarm: str
    stage: str
    verdict: str
    reason: str
    detail: str
    delivery: int | None
    channel: str | None

    def line(self) -> str:
        """The entry as one readable line."""
        when = datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        where = f" [{self.channel}]" if self.channel else ""
        which = f" #{self.delivery}" if self.delivery is not None else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{when}Z  {self.stage:<10} {self.verdict:<6}{where}{which} {self.reason}{detail}"


class Ledger:
    """Appends decisions; reads them back for explain."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def record(
        self,
        alert: Alert,
        stage: str,
        decision: Decision,
        at: float,
        *,
        delivery: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Store one decision about ``alert`` (details are redacted: they may quote errors)."""
        self.note(alert.id, alert.alarm, stage, decision, at, delivery=delivery, channel=channel)

    def note(
        self,
        alert_id: str,
        alarm: str,
        stage: str,
        decision: Decision,
        at: float,
        *,
        delivery: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Store one decision by alert id and alarm name."""
        self._db.append(
            "INSERT INTO nt_ledger (at, alert_id, alarm, stage, verdict, reason, detail, delivery,"
            " channel) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                at,
                alert_id,
                alarm,
                stage,
                decision.verdict.value,
                decision.reason.value,
                redact(decision.detail),
                delivery,
                channel,
            ),
        )

    def entries(self, what: str, limit: int = 500) -> list[Entry]:
        """Entries for an alarm name, an alert (message) id, or a delivery ``#id``."""
        cols = "id, at, alert_id, alarm, stage, verdict, reason, detail, delivery, channel"
        if what.startswith("#") and what[1:].isdigit():
            ids = self._db.all(
                "SELECT alert_id FROM nt_ledger WHERE delivery=? UNION "
                "SELECT alert_id FROM nt_outbox WHERE id=?",
                (int(what[1:]), int(what[1:])),
            )
            rows = []
            for (alert_id,) in ids:
                rows += self._db.all(
                    f"SELECT {cols} FROM nt_ledger WHERE alert_id=? ORDER BY id", (alert_id,)
                )
            rows.sort()
        else:
            rows = self._db.all(
                f"SELECT {cols} FROM nt_ledger WHERE alarm=? OR alert_id=? ORDER BY id DESC "
                "LIMIT ?",
                (what, what, limit),
            )
            rows.reverse()
        return [Entry(*row) for row in rows]
