"""``heron notify dlq list|replay``, ``snooze`` and ``resolve`` against a running notifier (real
time, so the commands and the notifier share a clock) and a real Slack-like HTTP receiver."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.cli import main
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.outbox import DEAD, DELIVERED
from heron.monitor.notify.topics import TopicStore

from .support import Receiver, alarm_body

TOML = """
[notify.channels.team]
protocol = "slack"
url = "${SLACK_URL}"
retry = { num_retries = 1, num_no_delay_retries = 0, num_min_delay_retries = 1, num_max_delay_retries = 0, min_delay_s = 5, max_delay_s = 5 }

[notify.oncall.primary]
[[notify.oncall.primary.layers]]
users = ["alice"]
rotation = "weekly"
start = 2020-01-06

[notify.escalation]
levels = ["primary"]
after_min = 10

[notify.routes.alerts]
channels = ["oncall", "team"]
"""


class Running:
    """``heron up``'s notifier on the project's data directory, and Slack's webhook."""

    def __init__(self, data: Path, slack: Receiver) -> None:
        self.slack = slack
        self.topics = TopicStore(data / "notify.db")
        config = load_notify_config(tomllib.loads(TOML)["notify"], {"SLACK_URL": slack.url})
        self.notifier = Notifier(self.topics, config, data / "notify.db")  # real time
        self.ctx = self.notifier.ctx

    def alarm(self, name: str, at: float) -> None:
        self.topics.publish(self.topics.topic_arn("alerts"), alarm_body(name, "ALARM", "OK", at))
        self.notifier.tick(at)

    def pages(self) -> list[str]:
        """Titles of the pages alice received (her contact is the inbox)."""
        rows = self.ctx.db.all("SELECT title FROM nt_inbox WHERE recipient='alice' ORDER BY id")
        return [str(r[0]) for r in rows]


def _running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: Receiver) -> Running:
    (tmp_path / "heron.toml").write_text(TOML)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_URL", slack.url)
    (tmp_path / ".heron").mkdir()
    return Running(tmp_path / ".heron", slack)


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    r = _running(tmp_path, monkeypatch, Receiver())
    yield r
    r.notifier.close()
    r.topics.close()
    r.slack.close()


@pytest.fixture
def rejecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    r = _running(tmp_path, monkeypatch, Receiver([(400, "invalid_payload", {})]))
    yield r
    r.notifier.close()
    r.topics.close()
    r.slack.close()


def test_dlq_lists_a_rejected_card_and_replay_delivers_it(
    rejecting: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = time.time()
    rejecting.alarm("LambdaErrors", t0)
    (dead,) = rejecting.ctx.outbox.rows(DEAD)
    assert dead.channel == "team" and len(rejecting.slack.requests) == 1
    assert main(["notify", "dlq", "list"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"#{dead.id} ") and "team" in line and "LambdaErrors" in line
    assert "1 attempts" in line and "400 invalid_payload" in line

    assert main(["notify", "dlq", "replay"]) == 2  # which ones?
    assert "name delivery ids to replay, or --all" in capsys.readouterr().err
    assert main(["notify", "dlq", "replay", str(dead.id)]) == 0
    assert capsys.readouterr().out.strip() == f"#{dead.id} queued again for team"
    assert len(rejecting.slack.requests) == 1  # the command queues; the notifier sends
    rejecting.notifier.tick(time.time() + 2)  # past Slack's 1/s slot after the first try
    assert len(rejecting.slack.requests) == 2
    _, headers, card = rejecting.slack.requests[1]
    assert card["text"] == "[CRITICAL] LambdaErrors is in ALARM"
    assert (
        headers["x-heron-idempotency-key"]
        == rejecting.slack.requests[0][1]["x-heron-idempotency-key"]
    )  # the same delivery, so a receiver can tell a replay from a new alert
    assert rejecting.ctx.outbox.get(dead.id).status == DELIVERED
    assert main(["notify", "dlq", "list"]) == 0
    assert "The dead-letter queue is empty." in capsys.readouterr().out
    assert main(["notify", "dlq", "replay", str(dead.id)]) == 1
    assert "is delivered, not in the dead-letter queue" in capsys.readouterr().err
    assert main(["notify", "explain", f"#{dead.id}"]) == 0
    assert "replayed" in capsys.readouterr().out


def test_snooze_holds_the_pages_until_it_ends_then_resolve_stops_them(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = time.time()
    running.alarm("LambdaErrors", t0)
    assert running.pages() == ["[CRITICAL] LambdaErrors is in ALARM"]
    assert main(["notify", "snooze", "1", "--minutes", "30", "--by", "bob"]) == 0
    assert capsys.readouterr().out.strip() == "incident #1 LambdaErrors: snoozed"
    incident = running.ctx.incidents.get(1)
    assert incident.snoozed_until == pytest.approx(t0 + 1800, abs=30)
    running.notifier.tick(t0 + 20 * 60)  # escalation was due at 10 min; the snooze holds it
    assert len(running.pages()) == 1
    # The snooze ends and the incident is still open: alice is paged again.
    running.notifier.tick(t0 + 31 * 60)
    assert running.pages()[-1] == "[CRITICAL] LambdaErrors is still in ALARM (incident #1)"
    assert running.ctx.incidents.get(1).status == "open"

    assert main(["notify", "resolve", "1", "--by", "carol"]) == 0
    assert capsys.readouterr().out.strip() == "incident #1 LambdaErrors: resolved"
    running.notifier.tick(t0 + 3 * 3600)
    assert len(running.pages()) == 2  # no more pages
    assert main(["notify", "incidents"]) == 0
    assert "LambdaErrors" not in capsys.readouterr().out
    assert main(["notify", "incidents", "--all"]) == 0
    assert "resolved" in capsys.readouterr().out
    assert main(["notify", "resolve", "1"]) == 1
    assert "already resolved" in capsys.readouterr().err
    assert main(["notify", "snooze", "1"]) == 1
    assert "nothing to snooze" in capsys.readouterr().err
    assert main(["notify", "snooze", "7"]) == 1
    assert "no incident #7" in capsys.readouterr().err
    assert main(["notify", "explain", "LambdaErrors"]) == 0
    out = capsys.readouterr().out
    assert "by bob until" in out and "resolved by carol" in out
