"""Slack delivery against a real HTTP receiver that answers like Slack's webhook."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from heron.monitor.notify.outbox import COALESCED, DEAD, DELIVERED, QUEUED

from .support import FakeClock, Harness, Receiver, at, config

SLACK = """
[notify.channels.team]
protocol = "slack"
url = "${{SLACK_URL}}"
retry = {{ num_retries = 3, num_no_delay_retries = 0, num_min_delay_retries = 3, num_max_delay_retries = 0, min_delay_s = 5, max_delay_s = 5 }}
[notify.routes.alerts]
channels = ["team"]
"""


def _harness(tmp_path: Path, receiver: Receiver) -> Harness:
    cfg = config(SLACK.format(), {"SLACK_URL": receiver.url})
    return Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))


@pytest.fixture
def receiver() -> Receiver:
    r = Receiver()
    yield r  # type: ignore[misc]
    r.close()


def test_a_block_kit_card_with_severity_colour_and_facts(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    ((path, headers, body),) = receiver.requests
    assert path == "/services/T0/B0/s3cr3tT0ken"
    assert body["text"] == "[CRITICAL] LambdaErrors is in ALARM"
    assert body["blocks"][0]["type"] == "header"
    attachment = body["attachments"][0]
    assert attachment["color"] == "#D00000"
    fields = " ".join(f["text"] for f in attachment["blocks"][0]["fields"])
    for fact in (
        "OK -> ALARM",
        "Threshold Crossed",
        "AWS/Lambda Errors",
        "> 5.0",
        "2026-03-06T10:00:00Z",
    ):
        assert fact in fields
    assert headers["x-heron-idempotency-key"].endswith(":team")
    assert attachment["blocks"][0]["fields"][0]["text"] == "*Priority*\nHigh"  # critical
    h.close()


def test_priority_label_follows_severity(tmp_path: Path, receiver: Receiver) -> None:
    cfg = config(
        SLACK.format() + '[notify.routes.warnings]\nchannels = ["team"]\nwindow = "business"\n',
        {"SLACK_URL": receiver.url},
    )
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.tick()
    h.clock.advance(1)
    h.publish("QueueDepth", "INSUFFICIENT_DATA", "OK", topic="warnings")
    h.tick()
    cards = {body["text"]: body["attachments"][0] for _, _, body in receiver.requests}
    warning = cards["[WARNING] HighLatency is in ALARM"]
    assert warning["blocks"][0]["fields"][0]["text"] == "*Priority*\nMedium"
    assert warning["color"] == "#F2A900"
    no_data = cards["[INFO] QueueDepth has insufficient data"]
    assert no_data["blocks"][0]["fields"][0]["text"] == "*Priority*\nLow"
    h.close()


def test_429_is_retried_after_retry_after_and_nothing_else_is_lost(tmp_path: Path) -> None:
    receiver = Receiver([(429, "rate_limited", {"Retry-After": "7"})])
    h = _harness(tmp_path, receiver)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    assert len(receiver.requests) == 1
    h.clock.advance(6.9)
    h.tick()
    assert len(receiver.requests) == 1  # Retry-After honoured
    h.clock.advance(0.1)
    h.tick()
    assert len(receiver.requests) == 2
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert row.status == DELIVERED and row.attempts == 2 and row.retries == 0
    receiver.close()
    h.close()


def test_invalid_payload_is_dead_lettered_at_once_and_replayable(tmp_path: Path) -> None:
    receiver = Receiver([(400, "invalid_payload", {})])
    h = _harness(tmp_path, receiver)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert row.status == DEAD and "invalid_payload" in (row.last_error or "")
    from heron.monitor.notify.operations import replay

    replay(h.ctx, row.id, h.clock.now)
    h.clock.advance(1)
    h.tick()
    assert h.ctx.outbox.get(row.id).status == DELIVERED and len(receiver.requests) == 2
    receiver.close()
    h.close()


def test_server_errors_retry_with_backoff_then_dead_letter(tmp_path: Path) -> None:
    receiver = Receiver([(500, "rollup_error", {})] * 10)
    h = _harness(tmp_path, receiver)
    h.publish("LambdaErrors", "ALARM", "OK")
    for _ in range(6):
        h.tick()
        h.clock.advance(5)
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert len(receiver.requests) == 4  # the first attempt and 3 retries, 5 s apart
    assert row.status == DEAD
    reasons = [e.reason for e in h.ctx.ledger.entries("LambdaErrors") if e.stage == "delivery"]
    assert reasons.count("attempt failed: retry scheduled") == 3
    assert reasons[-1] == "retries exhausted: dead-lettered"
    receiver.close()
    h.close()


def test_a_burst_is_coalesced_into_one_digest_within_one_message_per_second(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver)
    h.publish("Alarm0", "ALARM", "OK")
    h.tick()  # the first goes at once
    for i in range(1, 40):
        h.publish(f"Alarm{i}", "ALARM", "OK")
    h.tick()
    assert len(receiver.requests) == 1  # the slot is taken for one second
    h.clock.advance(1)
    h.tick()
    assert len(receiver.requests) == 2
    digest = receiver.requests[1][2]
    assert digest["text"] == "[CRITICAL] 39 alerts, 0 resolved"
    text = str(digest)
    assert "*Alarm1*" in text and "and 14 more" in text
    statuses = [h.ctx.outbox.for_alarm(f"Alarm{i}")[0].status for i in range(1, 40)]
    assert set(statuses) == {COALESCED}  # none dropped: each points at the digest


def test_alerts_arriving_together_on_a_free_slot_send_the_first_as_a_full_card(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver)
    for name in ("DbDown", "ApiDown", "QueueStuck"):
        h.publish(name, "ALARM", "OK")
    h.tick()  # the slot is free: the first goes as itself, not as "3 alerts"
    ((_, _, first),) = receiver.requests
    assert first["text"] == "[CRITICAL] DbDown is in ALARM"
    assert first["attachments"][0]["color"] == "#D00000"
    waiting = [h.ctx.outbox.for_alarm(n)[0] for n in ("ApiDown", "QueueStuck")]
    assert {r.status for r in waiting} == {QUEUED}  # waiting for the next slot, not dropped
    h.clock.advance(0.5)
    h.tick()
    assert len(receiver.requests) == 1  # still one message per second
    h.clock.advance(0.5)
    h.tick()
    assert len(receiver.requests) == 2
    assert receiver.requests[1][2]["text"] == "[CRITICAL] 2 alerts, 0 resolved"
    assert "*ApiDown*" in str(receiver.requests[1][2])
    h.close()


def test_two_alerts_together_become_two_cards_one_second_apart(
    tmp_path: Path, receiver: Receiver
) -> None:
    h = _harness(tmp_path, receiver)
    h.publish("DbDown", "ALARM", "OK")
    h.publish("ApiDown", "ALARM", "OK")
    h.tick()
    h.clock.advance(1)
    h.tick()
    texts = [body["text"] for _, _, body in receiver.requests]
    assert texts == ["[CRITICAL] DbDown is in ALARM", "[CRITICAL] ApiDown is in ALARM"]
    h.close()


def test_the_webhook_url_never_reaches_a_log_or_the_ledger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver([(500, "boom", {})])
    # Other code (the demo) quietens httpx; it must log here so that redaction is what keeps
    # the URL out.
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "heron.notify"):
        caplog.set_level(logging.DEBUG, logger=name)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    h = _harness(tmp_path, receiver)
    secret = receiver.url
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    h.clock.advance(5)
    h.tick()
    receiver.close()
    h.clock.advance(5)
    h.tick()  # connection refused: the error text must not carry the URL either
    assert len(receiver.requests) == 2
    assert "s3cr3tT0ken" not in caplog.text and secret not in caplog.text
    assert "HTTP Request" in caplog.text  # httpx did log, redacted
    dump = "\n".join(
        str(r)
        for t in ("nt_ledger", "nt_outbox", "nt_channels")
        for r in h.ctx.db.all(f"SELECT * FROM {t}")
    )
    assert "s3cr3tT0ken" not in dump
    assert "s3cr3tT0ken" not in repr(h.notifier.config)
    h.close()
