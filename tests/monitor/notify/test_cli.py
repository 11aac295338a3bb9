"""``heron notify`` and ``heron oncall`` against a real notify.db and heron.toml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heron.cli import main
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore

from .support import alarm_body, at

TOML = """
[notify.oncall.primary]
time_zone = "Europe/London"
[[notify.oncall.primary.layers]]
users = ["alice", "bob"]
rotation = "weekly"
start = 2026-03-02

[notify.routes.alerts]
channels = ["oncall", "inbox"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "heron.toml").write_text(TOML)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / ".heron"
    data.mkdir()
    topics = TopicStore(data / "notify.db")
    import tomllib

    config = load_notify_config(tomllib.loads(TOML)["notify"])
    notifier = Notifier(topics, config, data / "notify.db")
    now = at("2026-03-06 03:00")
    topics.publish(topics.topic_arn("alerts"), alarm_body("LambdaErrors", "ALARM", "OK", now))
    notifier.tick(now)
    notifier.close()
    topics.close()
    return tmp_path


def test_oncall_who_and_show(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["oncall", "who", "--at", "2026-03-10T12:00"]) == 0
    assert "primary: bob" in capsys.readouterr().out
    assert main(["oncall", "show", "--at", "2026-03-06T00:00", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "Mon 2026-03-09 09:00 GMT  bob" in out


def test_inbox_explain_incidents_and_ack(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", "inbox"]) == 0
    out = capsys.readouterr().out
    assert "to alice" in out and "[CRITICAL] LambdaErrors is in ALARM" in out
    assert "critical high   to alice" in out  # the priority beside the severity
    assert main(["notify", "inbox", "--json", "--full"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {i["priority"] for i in items} == {"high"}
    assert all("Priority: High" in i["body"] for i in items)
    assert main(["notify", "explain", "LambdaErrors"]) == 0
    out = capsys.readouterr().out
    for word in ("first notification", "on call: alice", "critical: immediate", "delivered"):
        assert word in out
    assert main(["notify", "ack", "1", "--by", "alice"]) == 0
    assert "acknowledged" in capsys.readouterr().out
    assert main(["notify", "ack", "99"]) == 1


def test_simulate_sends_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "notify",
                "simulate",
                "--alarm",
                "HighLatency",
                "--topic",
                "warnings",
                "--at",
                "2026-03-06T22:00",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "deferred" in out and "2026-03-09 09:00:00Z" in out
    assert main(["notify", "inbox"]) == 0
    assert "HighLatency" not in capsys.readouterr().out


def test_dlq_list_and_silences(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", "dlq", "list"]) == 0
    assert "empty" in capsys.readouterr().out
    assert (
        main(["notify", "silence", "add", "Lambda*", "--minutes", "30", "--comment", "deploy"]) == 0
    )
    assert main(["notify", "silence", "list"]) == 0
    assert "Lambda*" in capsys.readouterr().out
    assert main(["notify", "silence", "add", "x", "--minutes", "0"]) == 2


def test_simulate_includes_the_api_subscriptions(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notify", "subscribe", "alerts", "email", "ops@example.com"]) == 0
    capsys.readouterr()
    argv = ["notify", "simulate", "--alarm", "Throttles", "--topic", "alerts",
            "--at", "2026-03-06T12:00"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "-> sub:arn:aws:sns:" in out and ":alerts:" in out, out
    assert "-> oncall" in out or "(alice)" in out or "(bob)" in out, out
    assert main(["notify", "inbox"]) == 0
    assert "Throttles" not in capsys.readouterr().out  # still sends nothing
