"""Email delivery against a real SMTP server (aiosmtpd, in-process, ephemeral port)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from heron.monitor.notify.outbox import DEAD, DELIVERED, QUEUED

from .support import FakeClock, Harness, at, config


class Mailbox:
    """Accepts mail, except to addresses scripted to be refused."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _harness(tmp_path: Path, port: int, start: str = "2026-03-06 10:00") -> Harness:
    cfg = config(
        f"""
[notify.channels.team-email]
protocol = "email"
host = "127.0.0.1"
port = {port}
from = "heron@example.com"
to = ["team@example.com"]
retry = {{ num_retries = 2, num_no_delay_retries = 0, num_min_delay_retries = 2, num_max_delay_retries = 0, min_delay_s = 10, max_delay_s = 10 }}
[notify.routes.warnings]
channels = ["team-email"]
window = "business"
"""
    )
    return Harness(tmp_path, cfg, FakeClock(at(start, "UTC")))


def test_warning_email_has_text_html_subject_and_the_resolution_threads(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    h = _harness(tmp_path, port)
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.tick()
    h.clock.advance(600)
    h.publish("HighLatency", "OK", "ALARM", topic="warnings")
    h.tick()
    first, second = box.messages
    assert first["Subject"] == "[WARNING] HighLatency is in ALARM"
    assert first.get_body(("plain",)).get_content().count("Threshold Crossed") == 1
    assert "<table>" in first.get_body(("html",)).get_content()
    assert second["Subject"] == "[WARNING] RESOLVED: HighLatency resolved"
    assert second["In-Reply-To"] == first["Message-ID"] == second["References"]
    # A warning is normal (medium) priority, in the headers and in both bodies.
    assert (first["Importance"], first["X-Priority"], first["Priority"]) == (
        "Normal", "3 (Normal)", "normal",
    )  # fmt: skip
    assert "Priority: Medium" in first.get_body(("plain",)).get_content()
    assert "Priority: <b>Medium</b>" in first.get_body(("html",)).get_content()
    h.close()


def test_critical_mail_is_high_priority_and_no_data_low(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    cfg = config(
        f"""
[notify.channels.m]
protocol = "email"
host = "127.0.0.1"
port = {port}
from = "heron@example.com"
to = ["oncall@example.com"]
[notify.routes.alerts]
channels = ["m"]
"""
    )
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 10:00")))  # Friday, in business hours
    h.publish("LambdaErrors", "ALARM", "OK")
    h.publish("QueueDepth", "INSUFFICIENT_DATA", "OK")
    h.tick()
    by_subject = {m["Subject"]: m for m in box.messages}
    critical = by_subject["[CRITICAL] LambdaErrors is in ALARM"]
    assert (critical["Importance"], critical["X-Priority"], critical["Priority"]) == (
        "High", "1 (Highest)", "urgent",
    )  # fmt: skip
    assert "Priority: High" in critical.get_body(("plain",)).get_content()
    no_data = by_subject["[INFO] QueueDepth has insufficient data"]
    assert (no_data["Importance"], no_data["X-Priority"], no_data["Priority"]) == (
        "Low", "5 (Lowest)", "non-urgent",
    )  # fmt: skip
    assert len(box.messages) == 2
    h.close()


def test_a_550_rejection_is_dead_lettered_and_a_451_retried(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    h = _harness(tmp_path, port)
    box.refuse["team@example.com"] = "451 4.3.0 try again later"
    h.publish("HighLatency", "ALARM", "OK", topic="warnings")
    h.tick()
    (row,) = h.ctx.outbox.for_alarm("HighLatency")
    assert row.status == QUEUED and row.retries == 1 and "451" in (row.last_error or "")
    del box.refuse["team@example.com"]
    h.clock.advance(10)
    h.tick()
    assert h.ctx.outbox.get(row.id).status == DELIVERED and len(box.messages) == 1
    box.refuse["team@example.com"] = "550 5.1.1 no such user"
    h.publish("DiskWarning", "ALARM", "OK", topic="warnings")
    h.tick()
    (dead,) = h.ctx.outbox.for_alarm("DiskWarning")
    assert dead.status == DEAD and "550" in (dead.last_error or "")
    h.close()
