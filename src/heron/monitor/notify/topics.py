"""SNS topics, subscriptions and published messages, durable in ``<data-dir>/notify.db``.

A minimal SNS: topics are created idempotently by name; http/https subscriptions stay "pending
confirmation" until the endpoint GETs the SubscribeURL (or calls ConfirmSubscription) with the
token the notifier sent it, other protocols are confirmed at once; every published message lands
in an ``outbox`` table the notifier works through. Nothing is delivered here.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.types import Clock

#: Protocols Subscribe accepts; the notifier delivers to all but lambda and sqs (stored only).
#: ``oncall`` (Heron's) pages whoever is on call on the schedule named by the endpoint.
PROTOCOLS = ("email", "email-json", "http", "https", "lambda", "sqs", "slack", "oncall")
#: Protocols whose subscriptions wait for the SubscriptionConfirmation handshake.
CONFIRMED_BY_HANDSHAKE = ("http", "https")
#: Topics created on first start: critical alarms go to ``alerts``, warnings to ``warnings``.
DEFAULT_TOPICS = ("alerts", "warnings")
#: Outbox delivery states.
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, attributes TEXT NOT NULL,
    tags TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    arn TEXT PRIMARY KEY, topic_arn TEXT NOT NULL, protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL, attributes TEXT NOT NULL, created REAL NOT NULL,
    UNIQUE (topic_arn, protocol, endpoint));
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
    topic_arn TEXT NOT NULL, subject TEXT, message TEXT NOT NULL, attributes TEXT NOT NULL,
    published REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, delivered REAL);
CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (topic_arn, id);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, id);
"""


class TopicNotFound(KeyError):
    """Raised for a topic ARN that names no topic (SNS's ``NotFound``)."""


class TopicConflict(ValueError):
    """CreateTopic of an existing name with different attributes (SNS's ``InvalidParameter``)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """One subscription of an endpoint to a topic."""

    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    pending: bool = False
    token: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublishedMessage:
    """A message in the outbox: what was published, when, and how far delivery got."""

    id: int
    message_id: str
    topic_arn: str
    subject: str | None
    message: str
    attributes: dict[str, Any]
    published: float
    status: str
    attempts: int
    last_error: str | None


class TopicStore:
    """Topics, subscriptions and the outbox; thread-safe; every change committed before return."""

    def __init__(
        self,
        path: Path | str,
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        clock: Clock = time.time,
        default_topics: tuple[str, ...] = DEFAULT_TOPICS,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self._clock = clock
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(subscriptions)")}
        for column, kind in (("pending", "INTEGER NOT NULL DEFAULT 0"), ("token", "TEXT"),
                             ("confirm_sent", "REAL"),
                             ("confirm_delivered", "INTEGER NOT NULL DEFAULT 0"),
                             ("asked", "REAL")):  # fmt: skip
            if column not in columns:  # databases made before the confirmation handshake
                self._db.execute(f"ALTER TABLE subscriptions ADD COLUMN {column} {kind}")
        self._listeners: list[Callable[[], None]] = []
        for name in default_topics:
            self.create_topic(name)

    def on_publish(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from the publishing thread) after each stored message."""
        self._listeners.append(listener)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def topic_arn(self, name: str) -> str:
        """The ARN a topic called ``name`` has in this region and account."""
        return f"arn:aws:sns:{self.region}:{self.account_id}:{name}"

    # -- topics ----------------------------------------------------------------------------

    def create_topic(
        self,
        name: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """The topic's ARN, creating it unless a topic of that name exists (idempotent)."""
        arn = self.topic_arn(name)
        wanted = dict(attributes or {})
        with self._lock:
            row = self._db.execute("SELECT attributes FROM topics WHERE arn=?", (arn,)).fetchone()
            if row is not None:
                existing = json.loads(row[0])
                if any(existing.get(k) != v for k, v in wanted.items()):
                    raise TopicConflict(name)
                return arn
            self._db.execute(
                "INSERT INTO topics VALUES (?,?,?,?,?)",
                (arn, name, json.dumps(wanted), json.dumps(dict(tags or {})), self._clock()),
            )
        return arn

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """Hold the lock and run the block in one write transaction (rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def delete_topic(self, arn: str) -> None:
        """Delete a topic and its subscriptions (a missing topic is not an error, as in SNS)."""
        with self._write():
            self._db.execute("DELETE FROM subscriptions WHERE topic_arn=?", (arn,))
            self._db.execute("DELETE FROM topics WHERE arn=?", (arn,))

    def topics(self) -> list[str]:
        """Every topic ARN, sorted."""
        with self._lock:
            rows = self._db.execute("SELECT arn FROM topics ORDER BY arn").fetchall()
        return [r[0] for r in rows]

    def exists(self, arn: str) -> bool:
        """Whether ``arn`` names a topic."""
        with self._lock:
            return (
                self._db.execute("SELECT 1 FROM topics WHERE arn=?", (arn,)).fetchone() is not None
            )

    def attributes(self, arn: str) -> dict[str, str]:
        """GetTopicAttributes' map: the stored attributes plus the computed ones."""
        with self._lock:
            row = self._db.execute("SELECT attributes FROM topics WHERE arn=?", (arn,)).fetchone()
            if row is None:
                raise TopicNotFound(arn)
            counts = self._db.execute(
                "SELECT COUNT(*) - COALESCE(SUM(pending), 0), COALESCE(SUM(pending), 0) "
                "FROM subscriptions WHERE topic_arn=?",
                (arn,),
            ).fetchone()
        stored: dict[str, str] = json.loads(row[0])
        return {
            "TopicArn": arn,
            "Owner": self.account_id,
            "DisplayName": stored.get("DisplayName", ""),
            "SubscriptionsConfirmed": str(counts[0]),
            "SubscriptionsPending": str(counts[1]),
            "SubscriptionsDeleted": "0",
            **stored,
        }

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe(
        self,
        topic_arn: str,
        protocol: str,
        endpoint: str,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """The subscription ARN (the same one again for the same protocol and endpoint).

        http/https subscriptions start pending; the notifier sends them the confirmation.
        """
        pending = protocol in CONFIRMED_BY_HANDSHAKE
        with self._lock:
            if (
                self._db.execute("SELECT 1 FROM topics WHERE arn=?", (topic_arn,)).fetchone()
                is None
            ):
                raise TopicNotFound(topic_arn)
            row = self._db.execute(
                "SELECT arn FROM subscriptions WHERE topic_arn=? AND protocol=? AND endpoint=?",
                (topic_arn, protocol, endpoint),
            ).fetchone()
            if row is not None:
                # Subscribing again while confirmation is pending asks the endpoint again, as
                # SNS does (the way to re-send a lost SubscriptionConfirmation), and the 48
                # hours to confirm start again from this request.
                again = self._db.execute(
                    "UPDATE subscriptions SET confirm_sent=NULL, confirm_delivered=0, asked=?"
                    " WHERE arn=? AND pending=1",
                    (self._clock(), row[0]),
                ).rowcount
                arn = str(row[0])
            else:
                again = 0
                arn = self._insert_subscription(topic_arn, protocol, endpoint, attributes, pending)
        if pending and (again or row is None):
            for listener in self._listeners:  # the notifier sends the confirmation at once
                listener()
        return arn

    def _insert_subscription(
        self,
        topic_arn: str,
        protocol: str,
        endpoint: str,
        attributes: Mapping[str, str] | None,
        pending: bool,
    ) -> str:
        arn = f"{topic_arn}:{uuid.uuid4()}"
        self._db.execute(
            "INSERT INTO subscriptions (arn, topic_arn, protocol, endpoint, attributes,"
            " created, pending, token) VALUES (?,?,?,?,?,?,?,?)",
            (arn, topic_arn, protocol, endpoint, json.dumps(dict(attributes or {})),
             self._clock(), int(pending), uuid.uuid4().hex * 2 if pending else None),
        )  # fmt: skip
        return arn

    def _select_subs(self, where: str, args: tuple[Any, ...]) -> list[Subscription]:
        with self._lock:
            return self._subs_locked(where, args)

    def _subs_locked(self, where: str, args: tuple[Any, ...]) -> list[Subscription]:
        rows = self._db.execute(
            "SELECT arn, topic_arn, protocol, endpoint, pending, token, attributes "
            f"FROM subscriptions {where} ORDER BY created, rowid",
            args,
        ).fetchall()
        return [
            Subscription(a, t, p, e, self.account_id, bool(pend), tok or "", json.loads(attrs))
            for a, t, p, e, pend, tok, attrs in rows
        ]

    def subscriptions(self, topic_arn: str) -> list[Subscription]:
        """The topic's subscriptions in creation order."""
        if not self.exists(topic_arn):
            raise TopicNotFound(topic_arn)
        return self._select_subs("WHERE topic_arn=?", (topic_arn,))

    def all_subscriptions(self) -> list[Subscription]:
        """Every subscription in creation order (ListSubscriptions)."""
        return self._select_subs("", ())

    def subscription(self, arn: str) -> Subscription | None:
        """One subscription by ARN."""
        found = self._select_subs("WHERE arn=?", (arn,))
        return found[0] if found else None

    def confirm_subscription(self, topic_arn: str, token: str) -> str | None:
        """Confirm the pending subscription ``token`` was sent to; its ARN, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT arn FROM subscriptions WHERE token=? AND topic_arn=?", (token, topic_arn)
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE subscriptions SET pending=0 WHERE arn=?", (row[0],))
        return str(row[0])

    def unsubscribe(self, arn: str) -> bool:
        """Delete a subscription; False when there is none with that ARN."""
        with self._lock:
            return self._db.execute("DELETE FROM subscriptions WHERE arn=?", (arn,)).rowcount > 0

    def set_subscription_attribute(self, arn: str, name: str, value: str) -> None:
        """Store one subscription attribute (KeyError for an unknown subscription)."""
        sub = self.subscription(arn)
        if sub is None:
            raise KeyError(arn)
        merged = {**sub.attributes, name: value}
        with self._lock:
            self._db.execute(
                "UPDATE subscriptions SET attributes=? WHERE arn=?", (json.dumps(merged), arn)
            )

    def confirmations_due(self, now: float, retry_s: float) -> list[Subscription]:
        """Pending subscriptions whose confirmation was never sent, or whose last attempt
        failed at least ``retry_s`` ago (one the endpoint accepted is not sent again)."""
        return self._select_subs(
            "WHERE pending=1 AND confirm_delivered=0 AND (confirm_sent IS NULL OR confirm_sent<=?)",
            (now - retry_s,),
        )

    def confirmation_sent(self, arn: str, now: float, *, delivered: bool) -> None:
        """Remember when the SubscriptionConfirmation was sent and whether the endpoint took it."""
        with self._lock:
            self._db.execute(
                "UPDATE subscriptions SET confirm_sent=?, confirm_delivered=? WHERE arn=?",
                (now, int(delivered), arn),
            )

    def expire_unconfirmed(self, now: float, max_age_s: float) -> list[Subscription]:
        """Delete subscriptions still pending ``max_age_s`` after they were last asked for
        (Subscribe); those deleted."""
        where = "WHERE pending=1 AND coalesce(asked, created)<=?"
        cutoff = (now - max_age_s,)
        # The notifier asks every tick and there is almost never anything: read first, and
        # only then take a write transaction (in which a confirmation that landed meanwhile
        # keeps its subscription out of both the list and the delete).
        if not self._select_subs(where, cutoff):
            return []
        with self._write():
            expired = self._subs_locked(where, cutoff)
            self._db.execute(f"DELETE FROM subscriptions {where}", cutoff)
        return expired

    # -- publishing ------------------------------------------------------------------------

    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> str:
        """Store a message for delivery and return its MessageId."""
        message_id = str(uuid.uuid4())
        with self._lock:
            if (
                self._db.execute("SELECT 1 FROM topics WHERE arn=?", (topic_arn,)).fetchone()
                is None
            ):
                raise TopicNotFound(topic_arn)
            self._db.execute(
                "INSERT INTO outbox (message_id, topic_arn, subject, message, attributes, "
                "published) VALUES (?,?,?,?,?,?)",
                (
                    message_id,
                    topic_arn,
                    subject,
                    message,
                    json.dumps(dict(attributes or {})),
                    self._clock(),
                ),
            )
        for listener in self._listeners:
            listener()
        return message_id

    def published(
        self, topic_arn: str | None = None, *, limit: int = 1000
    ) -> list[PublishedMessage]:
        """Messages published to ``topic_arn`` (all topics when None), oldest first."""
        sql = "SELECT * FROM outbox"
        args: tuple[Any, ...] = ()
        if topic_arn is not None:
            sql += " WHERE topic_arn=?"
            args = (topic_arn,)
        sql += " ORDER BY id LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [_message(row) for row in rows]

    def pending(self, limit: int = 100) -> list[PublishedMessage]:
        """Messages still waiting for delivery, oldest first (for the notifier)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE status=? ORDER BY id LIMIT ?", (PENDING, limit)
            ).fetchall()
        return [_message(row) for row in rows]

    def has_pending(self) -> bool:
        """Whether a message waits for delivery or a subscription for its confirmation."""
        with self._lock:
            row = self._db.execute(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE status=?)"
                " OR EXISTS (SELECT 1 FROM subscriptions WHERE pending=1)",
                (PENDING,),
            ).fetchone()
        return bool(row[0])

    def mark(self, message_id: str, status: str, error: str | None = None) -> None:
        """Record a delivery attempt's outcome (``delivered``, ``failed`` or back to ``pending``)."""
        self.mark_many([message_id], status, error)

    def mark_many(self, message_ids: Sequence[str], status: str, error: str | None = None) -> None:
        """``mark`` for several messages in one transaction (the notifier's intake batch)."""
        if status not in (PENDING, DELIVERED, FAILED):
            raise ValueError(f"unknown delivery status {status!r}")
        delivered = self._clock() if status == DELIVERED else None
        with self._write():  # one commit, not one per message
            self._db.executemany(
                "UPDATE outbox SET status=?, attempts=attempts+1, last_error=?, delivered=?"
                " WHERE message_id=?",
                [(status, error, delivered, m) for m in message_ids],
            )


def _message(row: tuple[Any, ...]) -> PublishedMessage:
    ident, message_id, topic, subject, message, attributes, published, status, attempts, error = (
        row[:10]
    )
    return PublishedMessage(
        id=ident,
        message_id=message_id,
        topic_arn=topic,
        subject=subject,
        message=message,
        attributes=json.loads(attributes),
        published=published,
        status=status,
        attempts=attempts,
        last_error=error,
    )
