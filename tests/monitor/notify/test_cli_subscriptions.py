"""``heron notify topics|subscribe|unsubscribe|subscriptions`` on the data directory's topic
store, beside a notifier that plays the running ``heron up``: what the CLI subscribes, the
notifier delivers to on its next tick; what the SNS API refuses, the CLI refuses the same way."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.cli import main
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore

from .support import FakeClock, Receiver, alarm_body, at

TOML = """
account_id = "123456789012"

[notify.oncall.primary]
time_zone = "Europe/London"
[[notify.oncall.primary.layers]]
users = ["alice", "bob"]
rotation = "weekly"
start = 2026-03-02

[notify.escalation]
after_min = 10

[notify.routes.alerts]
channels = ["inbox"]
"""
ALERTS = "arn:aws:sns:us-east-1:123456789012:alerts"


class Running:
    """A notifier on the project's data directory, as ``heron up`` runs it."""

    def __init__(self, data: Path) -> None:
        self.clock = FakeClock(at("2026-03-06 03:00"))  # Friday night: alice's week
        self.topics = TopicStore(data / "notify.db", account_id="123456789012", clock=self.clock)
        config = load_notify_config(tomllib.loads(TOML)["notify"])
        self.notifier = Notifier(self.topics, config, data / "notify.db", clock=self.clock)

    def alarm(self, name: str, state: str = "ALARM") -> None:
        old = "OK" if state == "ALARM" else "ALARM"
        body = alarm_body(name, state, old, self.clock.now)
        self.topics.publish(ALERTS, body)
        self.notifier.tick(self.clock.now)

    def inbox(self) -> list[tuple[str, str]]:
        return [(str(r), str(t)) for r, t in
                self.notifier.ctx.db.all("SELECT recipient, title FROM nt_inbox ORDER BY id")]  # fmt: skip


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    (tmp_path / "heron.toml").write_text(TOML)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / ".heron"
    data.mkdir()
    r = Running(data)
    yield r
    r.notifier.close()
    r.topics.close()


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_oncall_subscription_from_the_cli_pages_the_on_call_person(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notify", "topics"]) == 0
    out = capsys.readouterr().out
    assert f"{ALERTS:<52}         0       0" in out and ":warnings" in out
    assert main(["notify", "subscribe", "alerts", "oncall", "primary"]) == 0
    arn = capsys.readouterr().out.splitlines()[0]
    assert arn.startswith(ALERTS + ":")
    listed = _json(capsys, "notify", "subscriptions", "alerts", "--json")
    assert listed == [{"SubscriptionArn": arn, "TopicArn": ALERTS, "Protocol": "oncall",
                       "Endpoint": "primary", "PendingConfirmation": False,
                       "RawMessageDelivery": False}]  # fmt: skip

    running.alarm("LambdaErrors")  # the running notifier picks the subscription up
    assert running.inbox() == [
        ("team", "[CRITICAL] LambdaErrors is in ALARM"),
        ("alice", "[CRITICAL] LambdaErrors is in ALARM"),
    ]
    assert main(["notify", "explain", "LambdaErrors"]) == 0
    explained = capsys.readouterr().out
    (routed,) = [ln for ln in explained.splitlines() if "on call: alice" in ln]
    assert f"(primary layer layer 1) (subscription {arn}, schedule 'primary')" in routed
    # Unacknowledged, it escalates like the configured on-call route: alice again in 10 minutes.
    running.clock.advance(600)
    running.notifier.tick(running.clock.now)
    assert running.inbox()[-1] == (
        "alice",
        "[CRITICAL] LambdaErrors is still in ALARM (incident #1)",
    )

    assert main(["notify", "unsubscribe", arn]) == 0
    assert "unsubscribed" in capsys.readouterr().out
    running.alarm("APIGateway5xxErrors")
    assert running.inbox()[-1] == ("team", "[CRITICAL] APIGateway5xxErrors is in ALARM")
    assert _json(capsys, "notify", "subscriptions", "--json") == []


def test_an_http_subscription_gets_its_confirmation_from_the_running_notifier(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = Receiver()
    try:
        assert main(["notify", "subscribe", ALERTS, "http", hook.url]) == 0
        out = capsys.readouterr().out
        assert "pending confirmation" in out
        assert main(["notify", "topics"]) == 0
        assert f"{ALERTS:<52}         0       1" in capsys.readouterr().out
        running.notifier.tick(running.clock.now)
        ((_, headers, body),) = hook.requests
        assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
        assert body["TopicArn"] == ALERTS
    finally:
        hook.close()
    # A Slack webhook URL is a secret: listings show its host only.
    secret = "https://hooks.slack.com/services/T1/B1/slackS3cret"
    assert main(["notify", "subscribe", "alerts", "slack", secret]) == 0
    capsys.readouterr()
    assert main(["notify", "subscriptions"]) == 0
    out = capsys.readouterr().out
    assert "slackS3cret" not in out and "https://hooks.slack.com/… (hidden)" in out
    assert "pending" in out and "confirmed" in out


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["subscribe", "alerts", "pager", "x"], 2,
         "Invalid parameter: Amazon SNS does not support this protocol string: pager"),
        (["subscribe", "arn:aws:sns:us-east-1:alerts", "email", "a@example.com"], 2,
         "Invalid parameter: TopicArn"),
        (["subscribe", "alerts", "email", "not-an-address"], 2, "Invalid parameter: Email address"),
        (["subscribe", "alerts", "oncall", "ghost"], 2,
         "no on-call schedule named 'ghost' ([notify.oncall.NAME] in heron.toml; configured: "
         "primary)"),
        (["subscribe", "alerts", "https", "http://plain.example.com"], 2, "Invalid parameter"),
        (["subscribe", "nosuchtopic", "email", "a@example.com"], 1, "Topic does not exist"),
        (["unsubscribe", "arn:aws:sns:us-east-1:123456789012:alerts"], 2,
         "Invalid parameter: SubscriptionArn"),
        (["unsubscribe", f"{ALERTS}:0f0e0d0c"], 1, "Subscription does not exist"),
        (["subscriptions", "arn:aws:sns:nowhere"], 2, "Invalid parameter: TopicArn"),
        (["subscriptions", "nosuchtopic"], 1, "Topic does not exist"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_like_the_sns_api_and_changes_nothing(
    running: Running, capsys: pytest.CaptureFixture[str], argv: list[str], status: int,
    message: str,
) -> None:  # fmt: skip
    assert main(["notify", *argv]) == status
    err = capsys.readouterr().err
    assert message in err
    if "protocol string" in message:
        assert "protocols: email, email-json, http, https, lambda, sqs, slack, oncall" in err
    assert _json(capsys, "notify", "subscriptions", "--json") == []
