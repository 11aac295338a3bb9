"""The durable delivery outbox: one row per (notice, destination), unique by idempotency key.

A row is accepted once (INSERT OR IGNORE on the key), then moves queued → delivered, or is
retried, coalesced into a digest, or dead-lettered; deferred rows wait for business hours. Nothing
is ever deleted, so ``explain`` can show every row an alert produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.model import Notice

QUEUED, DEFERRED, DELIVERED, DEAD, COALESCED, EXPIRED = (
    "queued", "deferred", "delivered", "dead", "coalesced", "expired",
)  # fmt: skip
_COLS = (
    "id, key, channel, alarm, alert_id, kind, payload, status, due, attempts, retries,"
    " last_error, created, done, parent"
)


@dataclass(frozen=True, slots=True)
class Row:
    """One outbox row."""

    id: int
    key: str
    channel: str
    alarm: str
    alert_id: str
    kind: str
    notice: Notice
    status: str
    due: float
    attempts: int
    retries: int
    last_error: str | None
    created: float
    done: float | None
    parent: int | None


def _row(raw: tuple[object, ...]) -> Row:
    values = list(raw)
    values[6] = Notice.from_json(str(values[6]))
    return Row(*values)  # type: ignore[arg-type]


class Outbox:
    """The outbox table and the per-destination state (rate-limit slot, confirmation)."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def add(
        self,
        key: str,
        channel: str,
        notice: Notice,
        *,
        alarm: str,
        alert_id: str,
        status: str,
        due: float,
        now: float,
    ) -> tuple[int, bool]:
        """Accept a delivery; ``(row id, False)`` when the key was accepted before."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO nt_outbox (key, channel, alarm, alert_id, kind, payload,"
            " status, due, created) VALUES (?,?,?,?,?,?,?,?,?)",
            (key, channel, alarm, alert_id, notice.kind.value, notice.to_json(), status, due, now),
        )
        if cur.rowcount:
            return int(cur.lastrowid or 0), True
        row = self._db.one("SELECT id FROM nt_outbox WHERE key=?", (key,))
        return (int(row[0]) if row else 0), False

    def get(self, row_id: int) -> Row:
        """One row (KeyError when absent)."""
        raw = self._db.one(f"SELECT {_COLS} FROM nt_outbox WHERE id=?", (row_id,))
        if raw is None:
            raise KeyError(f"no delivery #{row_id}")
        return _row(raw)

    def rows(
        self,
        status: str,
        *,
        due_by: float | None = None,
        limit: int = 1000,
        channel: str | None = None,
        after_id: int = 0,
    ) -> list[Row]:
        """Rows in ``status`` (due by ``due_by`` when given; of one ``channel``; with ids above
        ``after_id``), oldest first."""
        where, args = "status=? AND id>?", [status, after_id]
        if channel is not None:
            where += " AND channel=?"
            args.append(channel)
        if due_by is None:
            order = "id"
        else:
            where += " AND due<=?"
            args.append(due_by)
            order = "due, id"
        raws = self._db.all(
            f"SELECT {_COLS} FROM nt_outbox WHERE {where} ORDER BY {order} LIMIT ?", (*args, limit)
        )
        return [_row(r) for r in raws]

    def for_alarm(self, alarm: str) -> list[Row]:
        """Every row an alarm produced, oldest first."""
        raws = self._db.all(f"SELECT {_COLS} FROM nt_outbox WHERE alarm=? ORDER BY id", (alarm,))
        return [_row(r) for r in raws]

    def next_due(self) -> float | None:
        """The earliest due time of any queued or deferred row."""
        row = self._db.one(
            "SELECT MIN(due) FROM nt_outbox WHERE status IN (?, ?)", (QUEUED, DEFERRED)
        )
        return None if row is None or row[0] is None else float(row[0])

    def has_deferred(self, alarm: str) -> bool:
        """Whether an ALARM notification of ``alarm`` still waits for business hours."""
        row = self._db.one(
            "SELECT 1 FROM nt_outbox WHERE alarm=? AND status=? AND kind!='resolution'",
            (alarm, DEFERRED),
        )
        return row is not None

    def coalesce(self, rows: Sequence[Row], key: str, notice: Notice, *, now: float) -> int:
        """Replace ``rows`` by one queued digest row (returns its id); they point to it."""
        first = rows[0]
        digest_id, _ = self.add(
            key,
            first.channel,
            notice,
            alarm=first.alarm if len({r.alarm for r in rows}) == 1 else "(digest)",
            alert_id=f"digest:{key}",
            status=QUEUED,
            due=now,
            now=now,
        )
        self._db.execute(
            f"UPDATE nt_outbox SET status=?, parent=?, done=? WHERE id IN "
            f"({','.join('?' * len(rows))})",
            (COALESCED, digest_id, now, *(r.id for r in rows)),
        )
        return digest_id

    def delivered(self, row_id: int, now: float, note: str = "") -> None:
        """Mark a row delivered."""
        self._db.execute(
            "UPDATE nt_outbox SET status=?, attempts=attempts+1, done=?, last_error=NULLIF(?, '')"
            " WHERE id=?",
            (DELIVERED, now, note, row_id),
        )

    def retry(self, row_id: int, due: float, error: str, *, counts: bool) -> None:
        """Schedule another attempt (``counts`` False for throttling, which uses no retry)."""
        self._db.execute(
            "UPDATE nt_outbox SET status=?, attempts=attempts+1, retries=retries+?, due=?,"
            " last_error=? WHERE id=?",
            (QUEUED, 1 if counts else 0, due, error, row_id),
        )

    def dead(self, row_id: int, now: float, error: str) -> None:
        """Move a row to the dead-letter queue."""
        self._db.execute(
            "UPDATE nt_outbox SET status=?, attempts=attempts+1, done=?, last_error=? WHERE id=?",
            (DEAD, now, error, row_id),
        )

    def expire(self, row_id: int, now: float, note: str) -> None:
        """A deferred row that is no longer relevant (its alarm resolved before hours began)."""
        self._db.execute(
            "UPDATE nt_outbox SET status=?, done=?, last_error=? WHERE id=?",
            (EXPIRED, now, note, row_id),
        )

    def waiting(self, row_id: int, note: str) -> bool:
        """Note why a row waits; True the first time (so the ledger records it once)."""
        cur = self._db.execute(
            "UPDATE nt_outbox SET last_error=? WHERE id=? AND COALESCE(last_error, '')!=?",
            (note, row_id, note),
        )
        return cur.rowcount > 0

    def replay(self, row_id: int, now: float) -> Row:
        """Queue a dead-lettered row again with a fresh retry budget."""
        row = self.get(row_id)
        if row.status != DEAD:
            raise ValueError(f"delivery #{row_id} is {row.status}, not in the dead-letter queue")
        self._db.execute(
            "UPDATE nt_outbox SET status=?, due=?, retries=0, done=NULL WHERE id=?",
            (QUEUED, now, row_id),
        )
        return self.get(row_id)

    # -- per-destination state --------------------------------------------------------------

    def next_send(self, channel: str) -> float:
        """When the destination may next receive a message (its rate-limit slot)."""
        row = self._db.one("SELECT next_send FROM nt_channels WHERE channel=?", (channel,))
        return float(row[0]) if row else 0.0

    def set_next_send(self, channel: str, at: float) -> None:
        """Reserve the destination's next slot."""
        self._db.execute(
            "INSERT INTO nt_channels (channel, next_send) VALUES (?, ?) ON CONFLICT(channel)"
            " DO UPDATE SET next_send=MAX(next_send, excluded.next_send)",
            (channel, at),
        )

    def confirmation(self, channel: str) -> tuple[bool, str | None, float | None]:
        """(confirmed, token, when the confirmation request was sent) for an HTTP(S) channel."""
        row = self._db.one(
            "SELECT confirmed, token, confirm_sent FROM nt_channels WHERE channel=?", (channel,)
        )
        return (False, None, None) if row is None else (bool(row[0]), row[1], row[2])

    def confirmation_sent(self, channel: str, token: str, now: float) -> None:
        """Remember the token a SubscriptionConfirmation carried."""
        self._db.execute(
            "INSERT INTO nt_channels (channel, token, confirm_sent) VALUES (?,?,?)"
            " ON CONFLICT(channel) DO UPDATE SET token=excluded.token,"
            " confirm_sent=excluded.confirm_sent",
            (channel, token, now),
        )

    def confirm(self, token: str) -> str | None:
        """Confirm the subscription holding ``token``; the channel name, or None if unknown."""
        row = self._db.one("SELECT channel FROM nt_channels WHERE token=?", (token,))
        if row is None:
            return None
        self._db.execute("UPDATE nt_channels SET confirmed=1 WHERE token=?", (token,))
        return str(row[0])
