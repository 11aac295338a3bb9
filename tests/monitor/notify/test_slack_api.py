"""Slack with a bot token: chat.postMessage against a real local server that behaves like Slack's
Web API (ok/false bodies, ratelimited 429 + Retry-After), threading an incident's follow-ups."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.errors import ConfigError
from heron.monitor.notify.outbox import COALESCED, DEAD, DELIVERED

from .support import FakeClock, Harness, LocalServer, QuietHandler, at, config

TOKEN = "xoxb-123-456-s3cr3tb0t"


class SlackApi(LocalServer):
    """chat.postMessage: checks the bearer token, answers ``{"ok": true, "ts": ...}`` or a
    scripted answer; records every request."""

    def __init__(self, script: list[tuple[int, dict[str, Any], dict[str, str]]] | None = None):
        self.script = list(script or [])
        self.posts: list[dict[str, Any]] = []
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                body = json.loads(raw)
                if self.path != "/api/chat.postMessage":
                    status, answer, headers = 404, {"ok": False, "error": "unknown_method"}, {}
                elif self.headers.get("authorization") != f"Bearer {TOKEN}":
                    status, answer, headers = 200, {"ok": False, "error": "invalid_auth"}, {}
                elif outer.script:
                    status, answer, headers = outer.script.pop(0)
                else:
                    ts = f"1772766000.{len(outer.posts):06d}"
                    status, answer, headers = (
                        200,
                        {"ok": True, "channel": body["channel"], "ts": ts},
                        {},
                    )
                outer.posts.append({**body, "_status": status, "_answer": answer})
                data = json.dumps(answer).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.serve(Handler)
        self.url = self.address("/api")


BOT = """
[notify.channels.team]
protocol = "slack"
token = "${{SLACK_BOT_TOKEN}}"
channel = "C0TEAM"
api_url = "{url}"
retry = {{ num_retries = 2, num_no_delay_retries = 0, num_min_delay_retries = 2, num_max_delay_retries = 0, min_delay_s = 5, max_delay_s = 5 }}
[notify.oncall.primary]
[[notify.oncall.primary.layers]]
users = ["alice"]
rotation = "weekly"
start = 2026-03-02
[notify.people.alice]
contacts = ["team"]
[notify.escalation]
levels = ["primary"]
after_min = 10
[notify.routes.alerts]
channels = ["team"]
escalate = true
"""


def _harness(tmp_path: Path, api: SlackApi) -> Harness:
    cfg = config(BOT.format(url=api.url), {"SLACK_BOT_TOKEN": TOKEN})
    return Harness(tmp_path, cfg, FakeClock(at("2026-03-06 03:00")))


@pytest.fixture
def api() -> Iterator[SlackApi]:
    server = SlackApi()
    yield server
    server.close()


def test_an_incident_is_one_thread(
    tmp_path: Path, api: SlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = _harness(tmp_path, api)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    first = api.posts[0]
    assert first["channel"] == "C0TEAM" and "thread_ts" not in first
    assert first["text"] == "[CRITICAL] LambdaErrors is in ALARM"
    root = first["_answer"]["ts"]

    h.clock.advance(600)  # unacknowledged: the escalation page goes into the thread
    h.tick()
    page = api.posts[1]
    assert page["thread_ts"] == root and "still in ALARM" in page["text"]

    h.clock.advance(60)
    h.publish("LambdaErrors", "OK", "ALARM")
    h.tick()
    resolution = api.posts[2]
    assert resolution["thread_ts"] == root and resolution["reply_broadcast"] is True
    assert "RESOLVED" in resolution["text"]

    h.clock.advance(60)  # a new incident of the same alarm starts a new thread
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    assert "thread_ts" not in api.posts[3]
    statuses = {r.status for r in h.ctx.outbox.for_alarm("LambdaErrors")}
    assert statuses == {DELIVERED, COALESCED}  # the paged person's copy merged into one post
    assert len(api.posts) == 4
    entries = str([e.line() for e in h.ctx.ledger.entries("LambdaErrors")])
    assert TOKEN not in caplog.text and TOKEN not in entries
    h.close()


def test_ok_false_errors_ratelimits_and_retries(tmp_path: Path) -> None:
    api = SlackApi(
        [
            (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}),
            (200, {"ok": False, "error": "internal_error"}, {}),
            (200, {"ok": False, "error": "channel_not_found"}, {}),
        ]
    )
    h = _harness(tmp_path, api)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    h.clock.advance(29)
    h.tick()
    assert len(api.posts) == 1  # Retry-After honoured
    h.clock.advance(1)
    h.tick()  # internal_error: retried after min_delay_s
    assert len(api.posts) == 2
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert row.status == "queued" and row.retries == 1 and row.last_error
    h.clock.advance(5)
    h.tick()  # channel_not_found needs a person: dead-lettered, not retried
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert row.status == DEAD and "channel_not_found" in str(row.last_error)
    assert len(api.posts) == 3
    h.close()
    api.close()


def test_a_wrong_token_is_a_permanent_failure(tmp_path: Path, api: SlackApi) -> None:
    cfg = config(BOT.format(url=api.url), {"SLACK_BOT_TOKEN": "xoxb-wrong-token"})
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 03:00")))
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    assert row.status == DEAD and row.last_error == "200 invalid_auth"
    h.close()


def test_bot_settings_are_checked() -> None:
    base = '[notify.channels.team]\nprotocol = "slack"\ntoken = "xoxb-1"\n'
    with pytest.raises(ConfigError, match=r"notify.channels.team.channel: a bot token needs"):
        config(base)
    with pytest.raises(ConfigError, match=r"notify.channels.team.api_url"):
        config(base + 'channel = "C1"\napi_url = "ftp://x"\n')
    with pytest.raises(ConfigError, match=r"notify.channels.team.token: environment variable"):
        config('[notify.channels.team]\nprotocol = "slack"\ntoken = "${NOPE}"\nchannel = "C1"\n')
    assert config(base + 'channel = "C1"\n').channels["team"].api_url == "https://slack.com/api"
