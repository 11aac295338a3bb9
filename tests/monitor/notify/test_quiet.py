"""The notifier skips a tick only when the tick would find nothing, and wakes for every write:
quiet states survive any later tick unchanged, every kind of waiting row keeps it ticking, and a
write from a connection it was never told about ends the skipping."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from heron.monitor.notify import notifier as notifier_module
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.operations import acknowledge
from heron.monitor.notify.quiet import nothing_pending
from heron.monitor.notify.topics import TopicStore

from .support import ACCOUNT, FakeClock, Harness, alarm_body, at, config

POLICY = """
[notify.hours.business]
time_zone = "UTC"
days = ["mon-fri"]
ranges = ["09:00-17:00"]

[notify.oncall.primary]
time_zone = "UTC"
[[notify.oncall.primary.layers]]
users = ["alice", "bob"]
rotation = "daily"
handoff = "09:00"
start = 2026-03-02

[notify.escalation]
levels = ["primary"]
after_min = 10
repeat_every_min = 30

[notify.flapping]
changes = 4
window_min = 10

[notify.routes.alerts]
channels = ["oncall", "inbox"]

[notify.routes.warnings]
channels = ["inbox"]
window = "business"
"""


def dump(path: Path) -> dict[str, list[str]]:
    """Every row of every table in the database file, through a connection of its own."""
    db = sqlite3.connect(path)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(repr, db.execute(f'SELECT * FROM "{n}"'))) for n in names}
    finally:
        db.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, config(POLICY), FakeClock(at("2026-03-06 03:00")))
    yield h
    h.close()


def fresh(h: Harness) -> None:
    h.tick()


def resolved_and_acknowledged(h: Harness) -> None:
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    incident = h.ctx.incidents.active_for("LambdaErrors")
    assert incident is not None
    acknowledge(h.ctx, incident.id, "bob", h.clock.now)
    h.clock.advance(120)
    h.publish("LambdaErrors", "OK", "ALARM")
    h.tick()


def warning_resolved_before_hours(h: Harness) -> None:
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")  # deferred to Monday's digest
    h.tick()
    h.clock.advance(3600)
    h.publish("HighLatency", "OK", "ALARM", topic="warnings")
    h.tick()
    h.clock.now = at("2026-03-09 09:00")  # the digest goes out empty: the row expires
    h.tick()


def silence_ahead_with_nothing_firing(h: Harness) -> None:
    start = h.clock.now + 600
    h.ctx.silences.add("Lambda*", start, start + 1800, comment="deploy", created_by="t", now=start)
    h.tick()


def flapping_that_settled(h: Harness) -> None:
    state = "OK"
    for _ in range(8):
        new = "ALARM" if state == "OK" else "OK"
        h.publish("Flaky", new, state)
        state = new
        h.clock.advance(30)
        h.tick()
    h.clock.advance(20 * 60)
    h.tick()


@pytest.mark.parametrize(
    "history",
    [
        fresh,
        resolved_and_acknowledged,
        warning_resolved_before_hours,
        silence_ahead_with_nothing_firing,
        flapping_that_settled,
    ],
)
def test_a_quiet_state_is_left_unchanged_by_any_later_tick(
    harness: Harness, tmp_path: Path, history: Callable[[Harness], None]
) -> None:
    history(harness)
    assert nothing_pending(harness.ctx.db, harness.topics)
    assert harness.notifier.skip_if_idle(harness.clock.now + 1)
    before = dump(tmp_path / "notify.db")
    inbox = harness.inbox()
    start = harness.clock.now
    # Past every clock in the policy: escalation, silence end, business hours, a weekend,
    # the 48 hours after which an unconfirmed subscription expires.
    for later in (1, 600, 2400, 6 * 3600, 3 * 86400):
        harness.notifier.tick(start + later)
        assert dump(tmp_path / "notify.db") == before, later
    assert harness.inbox() == inbox


WAITING_ROWS = {
    "a firing alarm": "INSERT INTO nt_states VALUES ('A', 'ALARM', 0, '{}')",
    "a flapping alarm": "INSERT INTO nt_flapping VALUES ('A', 0, 5)",
    **{
        f"incident {status}": "INSERT INTO nt_incidents (alarm, severity, status, opened,"
        f" updated, alert, thread) VALUES ('A', 'critical', '{status}', 0, 0, '{{}}', 't')"
        for status in ("open", "acknowledged", "snoozed")
    },
    **{
        f"outbox row {status}": "INSERT INTO nt_outbox (key, channel, alarm, alert_id, kind,"
        f" payload, status, due, created) VALUES ('k', 'inbox', 'A', 'a', 'alarm', '{{}}',"
        f" '{status}', 0, 0)"
        for status in ("queued", "deferred")
    },
}
SETTLED_ROWS = {
    "an OK alarm": "INSERT INTO nt_states VALUES ('A', 'OK', 0, '{}')",
    "a resolved incident": WAITING_ROWS["incident open"].replace("'open'", "'resolved'"),
    "a delivered outbox row": WAITING_ROWS["outbox row queued"].replace("queued", "delivered"),
}


@pytest.mark.parametrize("row", WAITING_ROWS.values(), ids=WAITING_ROWS.keys())
def test_each_kind_of_row_that_time_can_make_due_keeps_the_notifier_ticking(
    tmp_path: Path, row: str
) -> None:
    topics = TopicStore(tmp_path / "notify.db")
    db = NotifyDB(tmp_path / "notify.db")
    try:
        assert nothing_pending(db, topics)
        db.execute(row)
        assert not nothing_pending(db, topics)
    finally:
        db.close()
        topics.close()


@pytest.mark.parametrize("row", SETTLED_ROWS.values(), ids=SETTLED_ROWS.keys())
def test_settled_rows_leave_the_notifier_idle(tmp_path: Path, row: str) -> None:
    topics = TopicStore(tmp_path / "notify.db")
    db = NotifyDB(tmp_path / "notify.db")
    try:
        db.execute(row)
        assert nothing_pending(db, topics)
    finally:
        db.close()
        topics.close()


def test_a_pending_message_or_subscription_keeps_the_notifier_ticking(tmp_path: Path) -> None:
    topics = TopicStore(tmp_path / "notify.db", account_id=ACCOUNT)
    db = NotifyDB(tmp_path / "notify.db")
    try:
        arn = topics.topic_arn("alerts")
        topics.publish(arn, alarm_body("A", "ALARM", "OK", 0.0))
        assert not nothing_pending(db, topics)
        (message,) = topics.pending()
        topics.mark(message.message_id, "delivered")
        assert nothing_pending(db, topics)
        topics.subscribe(arn, "https", "https://example.invalid/hook")  # awaits confirmation
        assert not nothing_pending(db, topics)
    finally:
        db.close()
        topics.close()


def test_any_write_or_the_recheck_interval_ends_the_skipping(
    harness: Harness, tmp_path: Path
) -> None:
    harness.tick()
    now = harness.clock.now
    assert harness.notifier.skip_if_idle(now + 1)
    assert not harness.notifier.skip_if_idle(now + notifier_module.RECHECK_S)
    # Another process (or a TopicStore the notifier was never told about) publishes.
    other = TopicStore(tmp_path / "notify.db", account_id=ACCOUNT)
    other.publish(other.topic_arn("alerts"), alarm_body("LambdaErrors", "ALARM", "OK", now))
    other.close()
    assert not harness.notifier.skip_if_idle(now + 2)
    harness.tick()
    assert ("bob", "[CRITICAL] LambdaErrors is in ALARM") in harness.inbox()
    assert not harness.notifier.skip_if_idle(now + 3)  # firing: escalation is ahead
    harness.publish("LambdaErrors", "OK", "ALARM")
    harness.tick()
    assert harness.notifier.skip_if_idle(now + 4)
    # The notifier's own database written through its own connection (an API call, a link).
    harness.ctx.silences.add("X", now, now + 60, comment="c", created_by="t", now=now)
    assert not harness.notifier.skip_if_idle(now + 5)


class Running:
    """``Notifier.run`` on a thread and an event loop of its own, over a fresh ``notify.db``."""

    def __init__(self, tmp_path: Path, kind: type[Notifier] = Notifier) -> None:
        self.topics = TopicStore(tmp_path / "notify.db", account_id=ACCOUNT)
        self.notifier = kind(self.topics, config(POLICY), tmp_path / "notify.db")
        self._stop = asyncio.Event()
        self._loop = asyncio.new_event_loop()
        run = self.notifier.run(self._stop)
        self.thread = threading.Thread(target=self._loop.run_until_complete, args=(run,))
        self.thread.start()

    def stop(self) -> None:
        """Set ``stop`` and wait for ``run`` to return."""
        self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=10)

    def inbox_filled(self, timeout_s: float = 5.0) -> bool:
        """Whether a notice reaches the inbox within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.notifier.ctx.db.all("SELECT 1 FROM nt_inbox"):
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self.stop()
        self._loop.close()
        self.notifier.close()
        self.topics.close()


@contextlib.contextmanager
def running(tmp_path: Path, kind: type[Notifier] = Notifier) -> Iterator[Running]:
    live = Running(tmp_path, kind)
    try:
        yield live
    finally:
        live.close()


def test_run_stops_at_once_while_it_sleeps_through_an_idle_spell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "IDLE_WAKE_S", 3600.0)
    with running(tmp_path) as live:
        time.sleep(1.0)  # the first tick found nothing; now it sleeps for the hour
        began = time.monotonic()
        live.stop()
        assert not live.thread.is_alive() and time.monotonic() - began < 2.0


def test_a_broken_database_watch_costs_the_skipping_not_the_notifier(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running(tmp_path) as live:
        time.sleep(0.5)
        live.notifier._watch.close()  # every look at the databases now raises
        arn = live.topics.topic_arn("alerts")
        live.topics.publish(arn, alarm_body("A", "ALARM", "OK", time.time()))
        assert live.inbox_filled()
        assert live.thread.is_alive()
    assert "notifier" in caplog.text


class CountingNotifier(Notifier):
    """A Notifier that counts its full ticks."""

    ticks = 0

    def tick(self, now: float, **kwargs: object) -> bool:  # type: ignore[override]
        self.ticks += 1
        return super().tick(now, **kwargs)  # type: ignore[arg-type]


def test_run_sleeps_through_idle_seconds_and_wakes_for_a_write_from_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "IDLE_WAKE_S", 0.5)  # looks for writes twice a second
    with running(tmp_path, CountingNotifier) as live:
        notifier = live.notifier
        assert isinstance(notifier, CountingNotifier)
        time.sleep(2.5)  # several looks at the databases
        assert notifier.ticks == 1
        other = TopicStore(tmp_path / "notify.db", account_id=ACCOUNT)  # no publish hook
        other.publish(other.topic_arn("alerts"), alarm_body("A", "ALARM", "OK", time.time()))
        other.close()
        assert live.inbox_filled()
        assert notifier.ticks >= 2
