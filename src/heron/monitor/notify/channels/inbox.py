"""The local inbox: where deliveries land when no real channel is configured (the demo)."""

from __future__ import annotations

from dataclasses import dataclass

from heron.monitor.notify.channels import OK, Outcome
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.model import Notice
from heron.monitor.notify.render import priority, subject, text


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One message in the inbox."""

    id: int
    key: str
    at: float
    recipient: str
    severity: str
    title: str
    body: str
    alarm: str

    @property
    def priority(self) -> str:
        """``high``, ``normal`` or ``low``, from the severity."""
        return priority(self.severity)


class Inbox:
    """Writes notices into ``nt_inbox``; the key makes a repeated delivery a no-op."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def send(self, notice: Notice, key: str, now: float) -> Outcome:
        """Store the notice (exactly once per key)."""
        alarm = notice.alerts[0].alarm if notice.alerts else ""
        self._db.execute(
            "INSERT OR IGNORE INTO nt_inbox (key, at, recipient, severity, title, body, alarm)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                key,
                now,
                notice.recipient or "team",
                notice.severity.value,
                subject(notice),
                text(notice),
                alarm,
            ),
        )
        return OK

    def items(self, limit: int = 50) -> list[InboxItem]:
        """The newest messages first."""
        rows = self._db.all(
            "SELECT id, key, at, recipient, severity, title, body, alarm FROM nt_inbox "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [InboxItem(*r) for r in rows]
