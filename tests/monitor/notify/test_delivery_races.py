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


def test_the_next_slack_slot_counts_from_when_the_post_went_out(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver, "team")
    start = h.clock.now
    for name in ("DbDown", "ApiDown", "QueueStuck"):
        h.publish(name, "ALARM", "OK")
    reads = iter([start])  # the tick's own read; every later read is after the post
    h.notifier.tick(start, clock=lambda: next(reads, start + 0.4))
    assert len(receiver.requests) == 1
    # Work before the post (intake, marking the others to wait) took 0.4 s of a `now` read
    # earlier: the slot is a second after the post, not after that read.
    assert h.ctx.outbox.next_send("team") == pytest.approx(start + 1.4)
    h.clock.advance(1.2)
    h.notifier.tick(h.clock.now, clock=h.clock)
    assert len(receiver.requests) == 1
    h.clock.advance(0.2)
    h.notifier.tick(h.clock.now, clock=h.clock)
    assert len(receiver.requests) == 2
    h.close()


def test_newer_slack_rows_never_overtake_those_waiting_for_the_slot(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver, "team")
    start = h.clock.now
    h.publish("DbDown", "ALARM", "OK")
    h.publish("ApiDown", "ALARM", "OK")
    calls: list[float] = []

    def clock() -> float:
        # The tick's read, then the read after the card went out; any later read (a worker
        # going on to newer rows) finds a new alert queued and the slot free again.
        calls.append(start)
        if len(calls) == 3:
            h.clock.now = start + 5
            h.publish("QueueStuck", "ALARM", "OK")
            h.notifier.accept(h.clock.now)
        return h.clock.now

    h.notifier.tick(start, clock=clock)
    assert [b["text"] for _, _, b in receiver.requests] == ["[CRITICAL] DbDown is in ALARM"]
    if len(calls) < 3:
        h.clock.now = start + 5
        h.publish("QueueStuck", "ALARM", "OK")
    h.notifier.tick(h.clock.now, clock=h.clock)
    # ApiDown waited for this slot: it goes now, with QueueStuck, as one digest.
    assert [b["text"] for _, _, b in receiver.requests][1:] == ["[CRITICAL] 2 alerts, 0 resolved"]
    h.close()
