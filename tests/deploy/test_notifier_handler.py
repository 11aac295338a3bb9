"""The notifier's Lambda entry point runs Heron's routing on SNS events (SQLite state in a dir)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from heron.deploy import notifier_handler
from heron.deploy.notifier_handler import CONFIG_ENV, STATE_ENV, TOPIC_ENV, handle, topic_name
from heron.monitor.notify.channels.inbox import Inbox
from heron.monitor.notify.db import NotifyDB

ALERTS_ARN = "arn:aws:sns:eu-west-1:111122223333:heron-prod-alerts"
WARNINGS_ARN = "arn:aws:sns:eu-west-1:111122223333:heron-prod-warnings"
NOW = 1_780_000_000.0


def alarm_body(name: str, state: str, old: str, when: float) -> str:
    """The CloudWatch alarm message SNS carries (the fields the notifier reads)."""
    stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return json.dumps(
        {
            "AlarmName": name,
            "AlarmDescription": f"{name} description",
            "NewStateValue": state,
            "NewStateReason": "Threshold Crossed",
            "StateChangeTime": stamp,
            "Region": "EU (Ireland)",
            "OldStateValue": old,
            "Trigger": {"MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "SUM",
                        "Period": 300, "EvaluationPeriods": 1, "Threshold": 0.0,
                        "ComparisonOperator": "GreaterThanThreshold"},
        }
    )  # fmt: skip


def sns_event(message_id: str, topic: str, body: str) -> dict[str, Any]:
    """An SNS-to-Lambda event with one record, as Lambda delivers it."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic,
                    "Subject": 'ALARM: "heron-prod-LambdaErrors" in EU (Ireland)',
                    "Message": body,
                    "Timestamp": "2026-06-01T10:00:00.000Z",
                },
            }
        ]
    }


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environ = {
        STATE_ENV: str(tmp_path),
        CONFIG_ENV: "{}",
        TOPIC_ENV["alerts"]: ALERTS_ARN,
        TOPIC_ENV["warnings"]: WARNINGS_ARN,
    }
    yield environ
    notifier_handler.close_all()


def inbox(tmp_path: Path) -> list[Any]:
    db = NotifyDB(tmp_path / "heron-notify.db")
    try:
        return Inbox(db).items()
    finally:
        db.close()


def test_deployed_topic_arns_map_back_to_heron_topics(env: dict[str, str]) -> None:
    assert topic_name(ALERTS_ARN, env) == "alerts"
    assert topic_name(WARNINGS_ARN, env) == "warnings"
    assert topic_name("arn:aws:sns:eu-west-1:1:other", env) == "other"


def test_an_alarm_on_the_alerts_topic_reaches_the_inbox_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    body = alarm_body("heron-prod-LambdaErrors", "ALARM", "OK", NOW - 5)
    assert handle(sns_event("m-1", ALERTS_ARN, body), env, NOW) == {"accepted": 1}
    # SNS delivers at least once: the same MessageId again is recognised and dropped.
    assert handle(sns_event("m-1", ALERTS_ARN, body), env, NOW + 1) == {"accepted": 0}
    items = inbox(tmp_path)
    assert [i.alarm for i in items] == ["heron-prod-LambdaErrors"]
    assert items[0].severity == "critical"


def test_a_scheduled_tick_without_records_accepts_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert handle({"source": "aws.events", "detail-type": "Scheduled Event"}, env, NOW) == {
        "accepted": 0
    }
    assert inbox(tmp_path) == []


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_routing_to_a_webhook_uses_the_secret_from_the_environment(env: dict[str, str]) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env[CONFIG_ENV] = json.dumps(
            {
                "channels": {"hook": {"protocol": "http", "url": "${HOOK_URL}", "confirm": False}},
                "routes": {"alerts": {"channels": ["hook"]}},
            }
        )
        env["HOOK_URL"] = f"http://127.0.0.1:{server.server_port}/alerts"
        body = alarm_body("heron-prod-LambdaErrors", "ALARM", "OK", NOW - 5)
        handle(sns_event("m-2", ALERTS_ARN, body), env, NOW)
    finally:
        server.shutdown()
        server.server_close()
    assert _Receiver.bodies, "the webhook received nothing"
    assert "heron-prod-LambdaErrors" in json.dumps(_Receiver.bodies[-1])
