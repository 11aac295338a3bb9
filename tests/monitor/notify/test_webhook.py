"""HTTP(S) webhooks: SNS's SubscriptionConfirmation handshake, then Notification envelopes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette

from heron.monitor.notify.api import notify_routes

from .support import FakeClock, Harness, Receiver, at, config


async def test_confirmation_handshake_then_the_sns_envelope(tmp_path: Path) -> None:
    receiver = Receiver()
    cfg = config(
        '[notify.channels.ops]\nprotocol = "http"\nurl = "${HOOK}"\n'
        '[notify.routes.alerts]\nchannels = ["ops"]\n',
        {"HOOK": receiver.url},
    )
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    ((_, headers, body),) = receiver.requests
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    envelope = json.loads(body) if isinstance(body, str) else body
    assert envelope["Type"] == "SubscriptionConfirmation" and envelope["Token"]
    h.tick()
    assert len(receiver.requests) == 1  # nothing is sent before the endpoint confirms
    # The endpoint visits SubscribeURL with a plain, unsigned GET.
    app = Starlette(routes=notify_routes(h.ctx, h.clock))
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://heron")
    url = urlsplit(envelope["SubscribeURL"])
    assert (await api.get(f"{url.path}?{url.query}")).status_code == 200
    assert (await api.get("/notify/confirm?Token=wrong")).status_code == 400
    h.tick()
    _, headers, body = receiver.requests[1]
    note = json.loads(body) if isinstance(body, str) else body
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-topic-arn"].endswith(":alerts")
    assert headers["x-amz-sns-message-id"] == note["MessageId"]
    assert (
        note["Type"] == "Notification" and note["Subject"] == "[CRITICAL] LambdaErrors is in ALARM"
    )
    assert json.loads(note["Message"])["AlarmName"] == "LambdaErrors"  # CloudWatch's JSON as is
    # Priority travels as an SNS message attribute (and a header, for raw delivery).
    assert note["MessageAttributes"]["priority"] == {"Type": "String", "Value": "high"}
    assert note["MessageAttributes"]["severity"] == {"Type": "String", "Value": "critical"}
    assert headers["x-heron-priority"] == "high"
    incidents = (await api.get("/notify/incidents")).json()
    assert incidents[0]["alarm"] == "LambdaErrors" and incidents[0]["status"] == "open"
    acked = (
        await api.post(f"/notify/incidents/{incidents[0]['id']}/ack", json={"by": "alice"})
    ).json()
    assert acked["status"] == "acknowledged" and acked["acknowledgedBy"] == "alice"
    await api.aclose()
    receiver.close()
    h.close()


def test_warning_is_normal_and_no_data_low_priority(tmp_path: Path) -> None:
    receiver = Receiver()
    cfg = config(
        '[notify.channels.ops]\nprotocol = "http"\nurl = "${HOOK}"\nconfirm = false\n'
        '[notify.routes.warnings]\nchannels = ["ops"]\nwindow = "business"\n',
        {"HOOK": receiver.url},
    )
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.publish("QueueDepth", "INSUFFICIENT_DATA", "OK", topic="warnings")
    h.tick()
    seen = {
        body["Subject"]: (body["MessageAttributes"]["priority"]["Value"], hdrs["x-heron-priority"])
        for _, hdrs, body in receiver.requests
    }
    assert seen == {
        "[WARNING] HighLatency is in ALARM": ("normal", "normal"),
        "[INFO] QueueDepth has insufficient data": ("low", "low"),
    }
    receiver.close()
    h.close()


def test_an_endpoint_confirming_before_it_answers_finds_its_token(tmp_path: Path) -> None:
    # A quick endpoint GETs SubscribeURL while Heron still waits for the POST's answer; the
    # token must already be known then, or the confirmation is refused and paging stalls.
    answers: list[int] = []
    h_ref: list[Harness] = []

    def confirm_at_once(body: Any) -> None:
        if isinstance(body, dict) and body.get("Type") == "SubscriptionConfirmation":
            answers.append(asyncio.run(visit(body["SubscribeURL"])))

    async def visit(subscribe_url: str) -> int:
        app = Starlette(routes=notify_routes(h_ref[0].ctx, h_ref[0].clock))
        url = urlsplit(subscribe_url)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://heron") as api:
            return (await api.get(f"{url.path}?{url.query}")).status_code

    receiver = Receiver(before_answer=confirm_at_once)
    cfg = config(
        '[notify.channels.ops]\nprotocol = "http"\nurl = "${HOOK}"\n'
        '[notify.routes.alerts]\nchannels = ["ops"]\n',
        {"HOOK": receiver.url},
    )
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))
    h_ref.append(h)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    assert answers == [200]
    h.tick()
    kinds = [hdrs["x-amz-sns-message-type"] for _, hdrs, _ in receiver.requests]
    assert kinds == ["SubscriptionConfirmation", "Notification"]
    receiver.close()
    h.close()
