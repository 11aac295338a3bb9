"""The paths that make >= 1,000 notifications/s possible keep their guarantees: batched intake
(one transaction per batch, messages still in order, a re-read batch a no-op), several requests
in flight per webhook (bounded, one alarm's rows in order, each row once), the run loop taking a
backlog without waiting for its poll, and waking for the next rate-limit slot or retry."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.monitor.notify import notifier as notifier_module
from heron.monitor.notify.delivery import IN_FLIGHT
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.outbox import DELIVERED
from heron.monitor.notify.reasons import Reason
from heron.monitor.notify.topics import TopicStore

from .support import (
    FakeClock,
    Harness,
    LocalServer,
    QuietHandler,
    Receiver,
    alarm_body,
    at,
    config,
)

HOOK = """
[notify.channels.hook]
protocol = "http"
url = "${HOOK_URL}"
confirm = false
[notify.routes.alerts]
channels = ["hook"]
"""


class CountingReceiver(LocalServer):
    """A threaded HTTP server that answers 200 after ``delay`` and records how many requests
    were open at once, and each request's idempotency key and SNS subject in arrival order."""

    def __init__(self, delay: float) -> None:
        self.open = 0
        self.most_open = 0
        self.seen: list[tuple[str, str]] = []
        lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                import json

                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with lock:
                    outer.open += 1
                    outer.most_open = max(outer.most_open, outer.open)
                    outer.seen.append((self.headers["x-heron-idempotency-key"], body["Subject"]))
                time.sleep(delay)
                with lock:
                    outer.open -= 1
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.serve(Handler)

    @property
    def url(self) -> str:
        return self.address("/hook")


@pytest.fixture
def counting() -> Iterator[CountingReceiver]:
    r = CountingReceiver(delay=0.03)
    yield r
    r.close()


def test_one_batch_keeps_message_order_and_a_reread_batch_is_a_no_op(
    tmp_path: Path, counting: CountingReceiver
) -> None:
    h = Harness(
        tmp_path, config(HOOK, {"HOOK_URL": counting.url}), FakeClock(at("2026-03-06 10:00"))
    )
    h.publish("DbDown", "ALARM", "OK")
    h.publish("DbDown", "OK", "ALARM")  # the same batch: opened, then resolved
    assert h.notifier.accept(h.clock.now) == 2
    [incident] = h.ctx.incidents.all()
    assert incident.status == "resolved"
    kinds = [r.kind for r in h.ctx.outbox.for_alarm("DbDown")]
    assert kinds == ["alert", "resolution"]
    # A crash after the commit but before the topic marks: the batch is read again.
    h.topics._db.execute("UPDATE outbox SET status='pending'")
    assert h.notifier.accept(h.clock.now) == 2
    assert len(h.ctx.outbox.for_alarm("DbDown")) == 2  # nothing new
    assert len(h.ctx.incidents.all()) == 1
    reasons = [e.reason for e in h.ctx.ledger.entries("DbDown") if e.stage == "intake"]
    assert reasons == [Reason.ALREADY_PROCESSED.value] * 2
    h.close()


def test_a_webhook_gets_several_requests_at_once_and_each_alarm_in_order(
    tmp_path: Path, counting: CountingReceiver
) -> None:
    h = Harness(
        tmp_path, config(HOOK, {"HOOK_URL": counting.url}), FakeClock(at("2026-03-06 10:00"))
    )
    names = [f"Alarm{i:02d}" for i in range(24)]
    for name in names:
        h.publish(name, "ALARM", "OK")
    for name in names:
        h.publish(name, "OK", "ALARM")
    h.tick()
    assert 2 <= counting.most_open <= IN_FLIGHT  # concurrent, and bounded
    keys = [k for k, _ in counting.seen]
    assert len(keys) == len(set(keys)) == 48  # every row once
    for name in names:  # one alarm's messages arrive in the order they were published
        subjects = [s for _, s in counting.seen if name in s]
        assert len(subjects) == 2
        assert "is in ALARM" in subjects[0] and "resolved" in subjects[1], subjects
    statuses = h.ctx.db.all("SELECT status, COUNT(*) FROM nt_outbox GROUP BY status")
    assert statuses == [(DELIVERED, 48)]
    h.close()


def test_the_run_loop_takes_a_backlog_without_waiting_for_its_poll(
    tmp_path: Path, counting: CountingReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "BATCH", 4)
    topics = TopicStore(tmp_path / "notify.db")
    arn = topics.topic_arn("alerts")
    for i in range(13):  # four batches: with a 1 s poll between them this took 3 s
        topics.publish(arn, alarm_body(f"Alarm{i}", "ALARM", "OK", time.time()))
    notifier = Notifier(topics, config(HOOK, {"HOOK_URL": counting.url}), tmp_path / "notify.db")
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_until_complete, args=(notifier.run(stop),))
    began = time.monotonic()
    runner.start()
    try:
        while len(counting.seen) < 13 and time.monotonic() - began < 10:
            time.sleep(0.01)
        took = time.monotonic() - began
    finally:
        loop.call_soon_threadsafe(stop.set)
        runner.join(timeout=10)
        loop.close()
        notifier.close()
        topics.close()
    assert len(counting.seen) == 13
    assert took < 1.5


def test_the_loop_wakes_for_the_next_rate_slot_or_retry(tmp_path: Path) -> None:
    hook, slack = Receiver([(500, "busy", {})]), Receiver()
    text = """
[notify.channels.team]
protocol = "slack"
url = "${SLACK_URL}"
[notify.channels.hook]
protocol = "http"
url = "${HOOK_URL}"
confirm = false
retry = { num_retries = 3, num_no_delay_retries = 0, num_min_delay_retries = 3, num_max_delay_retries = 0, min_delay_s = 5, max_delay_s = 5 }
[notify.routes.alerts]
channels = ["hook"]
[notify.routes.warnings]
channels = ["team"]
window = "always"
"""
    h = Harness(
        tmp_path,
        config(text, {"SLACK_URL": slack.url, "HOOK_URL": hook.url}),
        FakeClock(at("2026-03-06 10:00")),
    )
    now = h.clock.now
    assert h.notifier.deliverer.next_wake(now) is None  # nothing queued
    h.publish("DbDown", "ALARM", "OK")  # to the hook, which answers 500 once: retry in 5 s
    h.publish("Slow", "ALARM", "OK", topic="warnings")
    h.publish("Slower", "ALARM", "OK", topic="warnings")  # waits for Slack's next slot
    h.tick()
    assert (len(hook.requests), len(slack.requests)) == (1, 1)
    assert h.notifier.deliverer.next_wake(now) == pytest.approx(now + 1.0)
    assert h.notifier._sleep_s(now) == pytest.approx(1.0)
    h.clock.advance(1)
    h.tick()
    assert h.notifier.deliverer.next_wake(h.clock.now) == pytest.approx(now + 5.0)
    assert h.notifier._sleep_s(h.clock.now) == pytest.approx(notifier_module.POLL_S)
    h.close()
    hook.close()
    slack.close()
