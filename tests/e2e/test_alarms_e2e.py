"""With ``heron up --demo`` and error injection, the seed's LambdaErrors and HighLatency alarms go
to ALARM and back to OK, each transition publishing AWS's alarm message to the right topic.

Heron runs at ``time_scale = 100`` (a 300-second period closes every 3 real seconds) and stages
its demo incidents: an error burst, then a 17-minute (Heron time) latency phase.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.monitor.notify.topics import TopicStore

from .conftest import Heron, aws_client, start_heron, stop_heron

CONFIG = """
time_scale = 100
demo_rate = 20
demo_incident_interval_s = 1800
"""
ALERTS = "arn:aws:sns:us-east-1:000000000000:alerts"
WARNINGS = "arn:aws:sns:us-east-1:000000000000:warnings"
DEADLINE_S = 55


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Heron]:
    running = start_heron(tmp_path_factory.mktemp("alarms"), CONFIG, extra_args=("--demo",))
    yield running
    stop_heron(running)


def transitions(cloudwatch: Any, name: str) -> list[tuple[str, str]]:
    """(old, new) state of every StateUpdate of ``name``, oldest first."""
    items = cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    out = []
    for item in items:
        data = json.loads(item["HistoryData"])
        out.append((data["oldState"]["stateValue"], data["newState"]["stateValue"]))
    return out


def went_and_came_back(steps: list[tuple[str, str]]) -> bool:
    """Whether the history holds an OK -> ALARM followed by that ALARM -> OK."""
    for i, step in enumerate(steps):
        if step == ("OK", "ALARM") and ("ALARM", "OK") in steps[i + 1 :]:
            return True
    return False


def messages(data_dir: Path, name: str) -> list[tuple[str, dict[str, Any], str | None]]:
    """(topic, message, subject) of everything published about alarm ``name``."""
    store = TopicStore(data_dir / "notify.db")
    try:
        out = []
        for m in store.published(limit=100_000):
            body = json.loads(m.message)
            if body.get("AlarmName") == name:
                out.append((m.topic_arn, body, m.subject))
        return out
    finally:
        store.close()


@pytest.mark.slow
def test_lambda_errors_and_high_latency_go_to_alarm_and_back_notifying_their_topics(
    demo: Heron,
) -> None:
    cloudwatch = aws_client(demo, "cloudwatch")
    deadline = time.monotonic() + DEADLINE_S
    while True:
        errors, latency = (transitions(cloudwatch, n) for n in ("LambdaErrors", "HighLatency"))
        if went_and_came_back(errors) and went_and_came_back(latency):
            break
        assert time.monotonic() < deadline, (errors, latency, (demo.data_dir.parent / "heron.log"))
        time.sleep(0.5)

    for name, topic, other in (
        ("LambdaErrors", ALERTS, WARNINGS),
        ("HighLatency", WARNINGS, ALERTS),
    ):
        published = messages(demo.data_dir, name)
        assert published and all(t == topic for t, _, _ in published), (name, published)
        assert not any(t == other for t, _, _ in published)
        states = [(m["OldStateValue"], m["NewStateValue"]) for _, m, _ in published]
        assert went_and_came_back(states), (name, states)
        alarm_message = next(m for _, m, _ in published if m["NewStateValue"] == "ALARM")
        subject = next(s for _, m, s in published if m is alarm_message)
        assert subject == f'ALARM: "{name}" in US East (N. Virginia)'
        assert (
            alarm_message["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"
        )
        assert alarm_message["AWSAccountId"] == "000000000000"
        assert alarm_message["Region"] == "US East (N. Virginia)"
        assert alarm_message["AlarmActions"] == [topic] and alarm_message["OKActions"] == [topic]
        assert alarm_message["NewStateReason"].startswith("Threshold Crossed:")
        trigger = alarm_message["Trigger"]
        assert trigger["Namespace"] in ("AWS/Lambda", "AWS/ApiGateway")
        assert trigger["Period"] == 300 and trigger["StatisticType"] == "Statistic"
        assert trigger["ComparisonOperator"] == "GreaterThanThreshold"
        assert trigger["Dimensions"] == []
    errors_alarm = next(m for _, m, _ in messages(demo.data_dir, "LambdaErrors"))
    assert errors_alarm["Trigger"]["MetricName"] == "Errors"
    assert errors_alarm["Trigger"]["Statistic"] == "SUM"
    assert errors_alarm["Trigger"]["Threshold"] == 0.0
    latency_alarm = next(m for _, m, _ in messages(demo.data_dir, "HighLatency"))
    assert latency_alarm["Trigger"]["MetricName"] == "Latency"
    assert latency_alarm["Trigger"]["Statistic"] == "AVERAGE"
    assert latency_alarm["Trigger"]["EvaluationPeriods"] == 3
    assert latency_alarm["Trigger"]["Threshold"] == 1000.0

    described = cloudwatch.describe_alarms(AlarmNames=["LambdaErrors", "HighLatency"])
    assert {a["AlarmName"] for a in described["MetricAlarms"]} == {"LambdaErrors", "HighLatency"}
