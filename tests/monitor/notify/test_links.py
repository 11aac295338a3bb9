"""Signed ack / resolve / snooze links: signing rules (pure), the key file, and the pages served
by a real HTTP server on the monitor app, reached through links taken from real Slack and email
messages."""

from __future__ import annotations

import asyncio
import logging
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from heron.gateway.server import ServerHandle, serve
from heron.monitor.notify.api import notify_routes
from heron.monitor.notify.channels.email import build
from heron.monitor.notify.links import (
    KEY_FILE,
    Linker,
    LinkRequest,
    check,
    load_or_create_key,
    message_links,
    sign,
)
from heron.monitor.notify.model import Kind

from .support import FakeClock, Harness, Receiver, at, config

KEY = b"k" * 32
NOW = 1_780_000_000.0


def test_a_signature_covers_every_field_and_expires() -> None:
    good = LinkRequest(7, "ack", int(NOW + 60), "alice", 0)
    sig = sign(KEY, good)
    assert check(KEY, good, sig, NOW) is None
    for altered in (
        LinkRequest(8, "ack", good.expires, "alice"),
        LinkRequest(7, "resolve", good.expires, "alice"),
        LinkRequest(7, "ack", good.expires + 3600, "alice"),
        LinkRequest(7, "ack", good.expires, "mallory"),
        LinkRequest(7, "ack", good.expires, "alice", 5),
    ):
        assert "signature does not match" in str(check(KEY, altered, sig, NOW))
    assert "signature does not match" in str(check(b"x" * 32, good, sig, NOW))
    assert "expired" in str(check(KEY, good, sig, NOW + 60))
    assert "unknown action" in str(check(KEY, LinkRequest(7, "delete", 1, ""), sig, NOW))


def test_the_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_key(tmp_path)
    assert len(first) == 32
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path) == first
    assert first.hex() not in repr(Linker(first, "http://x"))


class Served:
    """The notifier's HTTP routes on a real server (what ``heron up`` mounts on the monitor)."""

    def __init__(self, h: Harness) -> None:
        app = Starlette(routes=notify_routes(h.ctx, h.clock))
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.handle: ServerHandle | None = None

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            async def main() -> None:
                self.handle = await serve(app, "127.0.0.1", 0)
                ready.set()
                await self.handle.wait()

            self.loop.run_until_complete(main())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def local(self, link: str) -> str:
        """The link, aimed at this server (the links name the configured public URL)."""
        parts = urlsplit(link)
        assert self.handle is not None
        return f"{self.handle.url}{parts.path}?{parts.query}"

    def close(self) -> None:
        assert self.handle is not None
        asyncio.run_coroutine_threadsafe(self.handle.stop(), self.loop).result(10)
        self.thread.join(10)


SLACK = """
[notify]
public_url = "https://heron.example.com"
link_expiry_min = 60
snooze_min = 45
[notify.channels.team]
protocol = "slack"
url = "${SLACK_URL}"
[notify.routes.alerts]
channels = ["team"]
"""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Harness, Receiver, Served]]:
    receiver = Receiver()
    cfg = config(SLACK, {"SLACK_URL": receiver.url})
    h = Harness(tmp_path, cfg, FakeClock(at("2026-03-06 03:00")))
    served = Served(h)
    yield h, receiver, served
    served.close()
    h.close()
    receiver.close()


def _slack_links(body: dict[str, Any]) -> dict[str, str]:
    (actions,) = [b for b in body["blocks"] if b["type"] == "actions"]
    return {e["text"]["text"]: e["url"] for e in actions["elements"]}


def test_slack_buttons_ask_on_get_and_act_on_post(
    setup: tuple[Harness, Receiver, Served], caplog: pytest.LogCaptureFixture
) -> None:
    h, receiver, served = setup
    caplog.set_level(logging.DEBUG)
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    links = _slack_links(receiver.requests[0][2])
    assert set(links) == {"Acknowledge", "Snooze 45 min", "Resolve"}
    assert all(u.startswith("https://heron.example.com/notify/link/1/") for u in links.values())

    page = httpx.get(served.local(links["Acknowledge"]), timeout=10)
    assert page.status_code == 200 and "<form method='post'" in page.text
    assert "LambdaErrors" in page.text and page.headers["cache-control"] == "no-store"
    assert h.ctx.incidents.get(1).status == "open"  # GET (an unfurler, a prefetch) changes nothing

    done = httpx.post(served.local(links["Acknowledge"]), timeout=10)
    assert done.status_code == 200 and "acknowledged" in done.text
    incident = h.ctx.incidents.get(1)
    assert incident.status == "acknowledged"
    assert incident.acked_by == "team (signed link from 127.0.0.1)"
    ledger = [e for e in h.ctx.ledger.entries("LambdaErrors") if e.stage == "link"]
    assert len(ledger) == 1 and "acknowledge incident #1 by team" in ledger[0].detail
    key = (Path(h.ctx.db.path).parent / KEY_FILE).read_text().strip()
    assert key not in caplog.text and key not in str(h.ctx.ledger.entries("LambdaErrors"))

    snoozed = httpx.post(served.local(links["Snooze 45 min"]), timeout=10)
    assert snoozed.status_code == 200
    assert h.ctx.incidents.get(1).snoozed_until == h.clock.now + 45 * 60
    assert httpx.post(served.local(links["Resolve"]), timeout=10).status_code == 200
    again = httpx.post(served.local(links["Resolve"]), timeout=10)
    assert again.status_code == 409 and "already resolved" in again.text


def test_forged_altered_and_expired_links_get_403_and_change_nothing(
    setup: tuple[Harness, Receiver, Served],
) -> None:
    h, receiver, served = setup
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    ack = served.local(_slack_links(receiver.requests[0][2])["Acknowledge"])
    forged = ack.replace("sig=", "sig=0")
    other = ack.replace("/link/1/ack", "/link/1/resolve")
    unsigned = ack.split("&sig=")[0]
    for url in (forged, other, unsigned, ack.replace("e=", "e=x")):
        for method in ("GET", "POST"):
            answer = httpx.request(method, url, timeout=10)
            assert answer.status_code == 403, (method, url)
            assert "Nothing was changed" in answer.text
    h.clock.advance(3600)  # link_expiry_min = 60
    expired = httpx.post(ack, timeout=10)
    assert expired.status_code == 403 and "expired" in expired.text
    assert h.ctx.incidents.get(1).status == "open"
    assert not [e for e in h.ctx.ledger.entries("LambdaErrors") if e.stage == "link"]


def test_email_carries_the_links_and_resolutions_do_not(tmp_path: Path) -> None:
    cfg = config(
        """
[notify.channels.mail]
protocol = "email"
host = "127.0.0.1"
from = "heron@example.com"
to = ["ops@example.com"]
"""
    )
    linker = Linker(KEY, "http://127.0.0.1:4566", 600, 30)
    h = Harness(tmp_path, cfg, FakeClock(NOW))
    h.publish("LambdaErrors", "ALARM", "OK")
    h.tick()
    (row,) = h.ctx.outbox.for_alarm("LambdaErrors")
    links = message_links(linker, row.notice, "mail", NOW)
    msg = build(cfg.channels["mail"], row.notice, row.key, NOW, links)
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    rich = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Acknowledge: http://127.0.0.1:4566/notify/link/1/ack?" in plain
    assert "Snooze 30 min" in rich and "/notify/link/1/resolve?" in rich
    resolved = replace(row.notice, kind=Kind.RESOLUTION)
    assert message_links(linker, resolved, "mail", NOW) == ()
    h.close()
