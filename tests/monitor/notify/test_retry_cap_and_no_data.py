"""SNS's 3,600 s cap on retry delays, and INSUFFICIENT_DATA as its own low-priority kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.errors import ConfigError
from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.model import Kind, Severity
from heron.monitor.notify.outbox import DEFERRED
from heron.monitor.notify.reasons import Reason, Verdict
from heron.monitor.notify.retry import MAX_DELAY_CAP_S, RetryPolicy, parse_retry
from heron.monitor.notify.routing import retry_decision

from .support import FakeClock, Harness, at, config


def test_no_retry_waits_longer_than_an_hour() -> None:
    policy = RetryPolicy(num_retries=10, num_no_delay_retries=0, num_min_delay_retries=0,
                         num_max_delay_retries=2, min_delay_s=60, max_delay_s=3600)  # fmt: skip
    delays = [policy.delay(n) for n in range(1, 11)]
    assert delays[-1] == 3600 and max(d or 0 for d in delays) == MAX_DELAY_CAP_S
    with pytest.raises(ConfigError, match=r"x.max_delay_s: at most 3600 \(SNS's maxDelayTarget"):
        parse_retry({"max_delay_s": 3601}, "x", RetryPolicy())
    # A Retry-After of a day is honoured only up to the cap (and uses no retry).
    day = retry_decision(Outcome(False, "busy", retry_after=86400.0, status=429), 0, policy, 0.0)
    assert day.verdict is Verdict.RETRY and day.reason is Reason.THROTTLED and day.until == 3600


ROUTES = """
[notify.channels.team]
protocol = "inbox"
[notify.oncall.primary]
[[notify.oncall.primary.layers]]
users = ["alice"]
rotation = "weekly"
start = 2026-03-02
[notify.escalation]
levels = ["primary"]
after_min = 5
[notify.routes.alerts]
channels = ["oncall", "team"]
"""


def test_insufficient_data_is_a_low_priority_notice_that_never_pages(tmp_path: Path) -> None:
    h = Harness(tmp_path, config(ROUTES), FakeClock(at("2026-03-06 03:00")))
    h.publish("LambdaErrors", "INSUFFICIENT_DATA", "OK")
    h.tick()
    assert h.inbox() == []  # 03:00 Friday: waits for business hours even on the critical topic
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert row.status == DEFERRED and row.channel == "team" and row.notice.recipient == ""
    assert row.notice.kind is Kind.NO_DATA and row.notice.severity is Severity.INFO
    assert h.ctx.incidents.active_for("LambdaErrors") is None  # no incident, no escalation
    reasons = [e.reason for e in h.ctx.ledger.entries("LambdaErrors")]
    assert Reason.INSUFFICIENT_DATA.value in reasons
    assert Reason.NO_PAGE_FOR_NO_DATA.value in reasons
    h.clock.now = at("2026-03-06 09:00")
    h.tick()
    assert h.inbox() == [("team", "[INFO] Digest: 1 firing, 0 resolved")]  # the morning digest
    (body,) = h.ctx.db.one("SELECT body FROM nt_inbox") or ("",)
    assert "LambdaErrors: INSUFFICIENT_DATA since 2026-03-06T03:00:00Z" in body
    h.close()


def test_no_data_that_recovered_before_hours_is_not_sent(tmp_path: Path) -> None:
    h = Harness(tmp_path, config(ROUTES), FakeClock(at("2026-03-06 03:00")))
    h.publish("LambdaErrors", "INSUFFICIENT_DATA", "OK")
    h.tick()
    h.clock.advance(600)
    h.publish("LambdaErrors", "OK", "INSUFFICIENT_DATA")  # data is back; nothing to resolve
    h.tick()
    h.clock.now = at("2026-03-06 09:00")
    h.tick()
    assert h.inbox() == []
    h.close()


def test_no_data_during_an_incident_keeps_it_open_and_threads_with_it(tmp_path: Path) -> None:
    h = Harness(tmp_path, config(ROUTES), FakeClock(at("2026-03-06 10:00")))
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    h.clock.advance(60)
    h.publish("LambdaErrors", "INSUFFICIENT_DATA", "ALARM")
    h.tick()
    incident = h.ctx.incidents.active_for("LambdaErrors")
    assert incident is not None and incident.status == "open"
    no_data = [r for r in h.ctx.outbox.for_alarm("LambdaErrors") if r.kind == "no-data"]
    assert [r.notice.thread for r in no_data] == [incident.thread]
    assert h.inbox()[-1] == ("team", "[INFO] LambdaErrors has insufficient data")
    h.close()
