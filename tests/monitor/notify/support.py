"""Shared helpers for the notifier tests: a settable clock, alarm messages, a notifier factory."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from heron.monitor.notify.config import NotifyConfig, load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore

ACCOUNT = "123456789012"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def at(text: str, zone: str = "UTC") -> float:
    """Epoch seconds of a local wall time like ``2026-03-06 22:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def alarm_body(
    name: str, state: str, old: str, when: float, reason: str = "Threshold Crossed"
) -> str:
    """The CloudWatch alarm message JSON SNS carries."""
    stamp = datetime.fromtimestamp(when, ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return json.dumps(
        {
            "AlarmName": name,
            "AlarmDescription": f"{name} description",
            "AWSAccountId": ACCOUNT,
            "NewStateValue": state,
            "NewStateReason": reason,
            "StateChangeTime": stamp,
            "Region": "US East (N. Virginia)",
            "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}",
            "OldStateValue": old,
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "Statistic": "SUM",
                "Dimensions": [{"name": "FunctionName", "value": "sendMessage"}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 5.0,
            },
        }
    )


def config(text: str, env: Mapping[str, str] | None = None) -> NotifyConfig:
    """A NotifyConfig from TOML text holding the body of ``[notify]`` (tables prefixed notify.)."""
    raw: dict[str, Any] = tomllib.loads(text)
    return load_notify_config(raw.get("notify", {}), env or {})


class Harness:
    """A topic store, a notifier over it, and a clock."""

    def __init__(self, tmp: Path, cfg: NotifyConfig, clock: FakeClock) -> None:
        self.clock = clock
        self.topics = TopicStore(tmp / "notify.db", account_id=ACCOUNT, clock=clock)
        self.notifier = Notifier(self.topics, cfg, tmp / "notify.db", clock=clock)
        self.ctx = self.notifier.ctx

    def publish(self, name: str, state: str, old: str, topic: str = "alerts") -> str:
        arn = self.topics.topic_arn(topic)
        return self.topics.publish(
            arn, alarm_body(name, state, old, self.clock.now), subject=f"{state}: {name}"
        )

    def tick(self) -> None:
        self.notifier.tick(self.clock.now)

    def inbox(self) -> list[tuple[str, str]]:
        """(recipient, title) of every inbox item, oldest first."""
        items = self.notifier.deliverer.senders["inbox"]
        rows = self.ctx.db.all("SELECT recipient, title FROM nt_inbox ORDER BY id")
        assert items is not None
        return [(r[0], r[1]) for r in rows]

    def close(self) -> None:
        self.notifier.close()
        self.topics.close()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that writes no access log (keeps test output to what matters)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    block_on_close = False  # keep-alive clients must not hold up close()
    daemon_threads = True


class LocalServer:
    """A real threaded HTTP server on an ephemeral 127.0.0.1 port; subclasses call ``serve``."""

    server: http.server.ThreadingHTTPServer

    def serve(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        """Answer every request with ``handler`` on a background thread until ``close``."""
        self.server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def address(self, path: str) -> str:
        """The URL of ``path`` (starting with ``/``) on this server."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver(LocalServer):
    """A real HTTP server on an ephemeral port that answers like Slack's webhook (scriptable).

    ``script`` holds (status, body, headers) answers used in order; after it runs out every
    request gets ``200 ok``. Every request is recorded with its headers and JSON body;
    ``before_answer`` sees each body before the answer goes out.
    """

    def __init__(
        self,
        script: list[tuple[int, str, dict[str, str]]] | None = None,
        delay: float = 0.0,
        before_answer: Callable[[Any], None] | None = None,
    ) -> None:
        self.script = list(script or [])
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.delay = delay
        self.before_answer = before_answer
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                import time as _time

                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode()
                outer.requests.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if outer.delay:
                    _time.sleep(outer.delay)
                if outer.before_answer is not None:
                    outer.before_answer(body)
                status, text, headers = outer.script.pop(0) if outer.script else (200, "ok", {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(text)))
                self.end_headers()
                # The client may have been killed mid-request (the kill -9 test).
                with contextlib.suppress(OSError):
                    self.wfile.write(text.encode())

        self.serve(Handler)

    @property
    def url(self) -> str:
        return self.address("/services/T0/B0/s3cr3tT0ken")
