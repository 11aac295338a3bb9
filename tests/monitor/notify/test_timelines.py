"""Timelines with an injected clock: paging and escalation at night, warnings deferred to a
Monday digest, DST, overrides, silences, flapping, promotion — all through the inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.monitor.notify.operations import acknowledge, snooze
from heron.monitor.notify.outbox import EXPIRED

from .support import FakeClock, Harness, at, config

LONDON = "Europe/London"
POLICY = """
[notify.hours.business]
time_zone = "Europe/London"
days = ["mon-fri"]
ranges = ["09:00-17:00"]

[notify.oncall.primary]
time_zone = "Europe/London"
[[notify.oncall.primary.layers]]
users = ["alice", "bob"]
rotation = "daily"
handoff = "09:00"
start = 2026-03-02
[[notify.oncall.primary.overrides]]
user = "carol"
start = 2026-03-10T00:00:00
end = 2026-03-10T06:00:00

[notify.oncall.secondary]
time_zone = "Europe/London"
[[notify.oncall.secondary.layers]]
users = ["manager"]
start = 2026-03-02

[notify.escalation]
levels = ["primary", "secondary"]
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


@pytest.fixture
def make(tmp_path: Path) -> Iterator[object]:
    made: list[Harness] = []

    def factory(start: str, policy: str = POLICY) -> Harness:
        h = Harness(tmp_path, config(policy), FakeClock(at(start, LONDON)))
        made.append(h)
        return h

    yield factory
    for h in made:
        h.close()


def test_critical_at_3am_pages_that_hours_on_call_and_escalates_without_ack(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 03:00")  # Friday; Thursday's shift (bob) runs until 09:00
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    assert h.inbox() == [
        ("bob", "[CRITICAL] LambdaErrors is in ALARM"),
        ("team", "[CRITICAL] LambdaErrors is in ALARM"),
    ]
    h.clock.advance(9 * 60)
    h.tick()
    assert len(h.inbox()) == 2  # not yet
    h.clock.advance(60)
    h.tick()
    assert h.inbox()[-1][0] == "manager"  # level 2 after 10 minutes
    # The last level repeats from the top every 30 minutes, with no cap.
    pages = []
    for _ in range(6):
        h.clock.advance(30 * 60)
        h.tick()
        pages.append(h.inbox()[-1][0])
    assert pages == ["bob", "manager", "bob", "manager", "bob", "manager"]


def test_acknowledging_stops_escalation(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 03:00")
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    incident = h.ctx.incidents.active_for("LambdaErrors")
    assert incident is not None
    acknowledge(h.ctx, incident.id, "bob", h.clock.now)
    h.clock.advance(3600)
    h.tick()
    assert len(h.inbox()) == 2
    h.publish("LambdaErrors", "OK", "ALARM")
    h.tick()
    titles = [t for _, t in h.inbox()]
    assert titles[-2:] == ["[CRITICAL] RESOLVED: LambdaErrors resolved"] * 2  # same channels


def test_a_snooze_that_ends_on_a_still_open_incident_pages_again(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 03:00")  # bob's shift until 09:00
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    start = h.clock.now
    snooze(h.ctx, 1, "bob", start + 45 * 60, start)
    for minutes in (10, 20, 44):  # escalation (due at 10 min) is held while snoozed
        h.clock.now = start + minutes * 60
        h.tick()
    assert [r for r, _ in h.inbox()] == ["bob", "team"]
    h.clock.now = start + 45 * 60
    h.tick()
    assert h.inbox()[-1] == ("bob", "[CRITICAL] LambdaErrors is still in ALARM (incident #1)")
    incident = h.ctx.incidents.get(1)
    assert incident.status == "open" and incident.next_escalation == start + 55 * 60
    h.clock.now = start + 55 * 60  # and escalation resumes: the next level 10 minutes later
    h.tick()
    assert h.inbox()[-1][0] == "manager"


def test_an_override_is_paged_instead_of_the_rotation(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-10 03:00")
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    assert h.inbox()[0][0] == "carol"


def test_warning_friday_night_arrives_as_one_digest_on_monday(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 22:00")
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.clock.advance(3600)
    h.publish("ThrottleWarning", "ALARM", "OK", topic="warnings")
    h.tick()
    h.clock.advance(3600)
    h.publish("DiskWarning", "ALARM", "OK", topic="warnings")
    h.tick()
    h.clock.now = at("2026-03-07 12:00", LONDON)
    h.publish("DiskWarning", "OK", "ALARM", topic="warnings")  # resolved over the weekend
    h.tick()
    h.clock.now = at("2026-03-09 08:59", LONDON)
    h.tick()
    assert h.inbox() == []  # deferred, not dropped, not yet
    h.clock.now = at("2026-03-09 09:00", LONDON)
    h.tick()
    inbox = h.inbox()
    assert inbox == [("team", "[WARNING] Digest: 2 firing, 1 resolved")]
    body = h.ctx.db.one("SELECT body FROM nt_inbox")
    assert body is not None and "HighLatency" in body[0] and "DiskWarning" in body[0]


def test_a_warning_resolved_before_hours_is_not_sent(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 22:00")
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.tick()
    h.clock.advance(3600)
    h.publish("HighLatency", "OK", "ALARM", topic="warnings")
    h.tick()
    h.clock.now = at("2026-03-09 09:00", LONDON)
    h.tick()
    assert h.inbox() == []
    assert [r.status for r in h.ctx.outbox.for_alarm("HighLatency")] == [EXPIRED]


def test_deferred_warning_over_the_dst_weekend_arrives_at_local_nine(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-27 22:00")  # Friday; BST begins Sunday 29 March
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.tick()
    (row,) = h.ctx.outbox.for_alarm("HighLatency")
    assert row.due == at("2026-03-30 09:00", LONDON) == at("2026-03-30 08:00", "UTC")


def test_silence_mutes_and_its_end_re_announces_a_still_firing_alarm(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 03:00")
    h.ctx.silences.add(
        "Lambda*",
        h.clock.now,
        h.clock.now + 1800,
        comment="deploy",
        created_by="t",
        now=h.clock.now,
    )
    h.tick()
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    assert h.inbox() == []
    reasons = [e.reason for e in h.ctx.ledger.entries("LambdaErrors")]
    assert "silenced" in reasons
    h.clock.advance(1800)
    h.tick()
    assert [r for r, _ in h.inbox()] == ["bob", "team"]


def test_flapping_becomes_one_notice_until_it_settles(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 10:00")
    state = "OK"
    for _ in range(8):
        new = "ALARM" if state == "OK" else "OK"
        h.publish("Flaky", new, state)
        state = new
        h.clock.advance(30)
        h.tick()
    titles = [t for _, t in h.inbox()]
    assert titles.count("[CRITICAL] Flaky is flapping") == 2  # bob (on call) and the team
    assert len(titles) == 4 * 2 + 2  # ALARM, OK, ALARM, OK to both, then one flapping notice
    h.clock.advance(20 * 60)
    h.tick()
    assert [t for _, t in h.inbox()][-1] == "[CRITICAL] Flaky settled: now OK"


def test_a_warning_firing_too_long_is_promoted_to_critical(make) -> None:  # type: ignore[no-untyped-def]
    h = make("2026-03-06 10:00", POLICY + "promote_after_min = 240\n")
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.tick()
    h.clock.advance(4 * 3600 - 1)
    h.tick()
    assert [r for r, _ in h.inbox()] == ["team"]
    h.clock.advance(1)
    h.tick()
    recipients = [r for r, _ in h.inbox()]
    assert recipients[0] == "team" and "alice" in recipients  # Friday's shift is alice
