"""Two races of the live loop, against a real HTTP receiver: a destination's rows read before a
finishing worker released it are not sent again, and a Slack rate slot counts from the send,
not from a tick's start that a long intake left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.monitor.notify.outbox import DELIVERED, QUEUED

from .support import FakeClock, Harness, Receiver, at, config

HOOK = """
[notify.channels.hook]
protocol = "http"
url = "${{HOOK_URL}}"
confirm = false
[notify.channels.team]
protocol = "slack"
url = "${{SLACK_URL}}"
[notify.routes.alerts]
channels = ["{channel}"]
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _harness(tmp_path: Path, receiver: Receiver, channel: str) -> Harness:
    env = {"HOOK_URL": receiver.url, "SLACK_URL": receiver.url}
    cfg = config(HOOK.format(channel=channel), env)
    return Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))


def test_rows_read_before_the_destination_was_claimed_are_not_sent_twice(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver, "hook")
    h.publish("LambdaErrors", "ALARM", "OK")
    h.notifier.accept(h.clock.now)
    stale = h.ctx.outbox.rows(QUEUED, due_by=h.clock.now)  # what a racing tick read
    assert len(stale) == 1
    h.notifier.deliverer.deliver_due(h.clock.now)  # the worker that was still running
    assert len(receiver.requests) == 1
    # The racing tick claims the now idle destination with its stale list.
    h.notifier.deliverer._run_channel("hook", stale, h.clock.now)
    assert len(receiver.requests) == 1
    assert h.ctx.outbox.get(stale[0].id).status == DELIVERED
    h.close()


def test_a_slow_intake_does_not_let_two_slack_posts_through_within_one_second(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver, "team")
    start = h.clock.now
    h.publish("LambdaErrors", "ALARM", "OK")
    # The live loop's tick began at `start`; intake took 0.9 s before the card went out.
    h.notifier.tick(start, clock=lambda: start + 0.9)
    assert len(receiver.requests) == 1
    h.clock.advance(1.0)
    h.publish("APIGateway5xxErrors", "ALARM", "OK")
    h.notifier.tick(h.clock.now, clock=h.clock)  # 0.1 s after the first post went out
    assert len(receiver.requests) == 1
    h.clock.advance(0.9)
    h.notifier.tick(h.clock.now, clock=h.clock)
    assert len(receiver.requests) == 2
    h.close()
