"""Demo traffic: it chats against a live service, survives one that is not ready, and stops."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from fake_heron import Served

from heron.load.demo import run_demo


async def _run_for(url: str, seconds: float, **kwargs: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_demo(url, stop, seed=5, **kwargs))  # type: ignore[arg-type]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, timeout=3)  # stops promptly once asked


async def test_demo_users_chat_until_stopped(served: Served) -> None:
    await _run_for(served.url, 1.5, rate=20)
    fake = served.fake
    assert len(fake.users) >= 4
    assert all(u["displayName"].endswith("(demo)") for u in list(fake.users.values())[:4])
    assert fake.messages  # over HTTP and WebSocket
    assert fake.ws_frames_received > 0
    await asyncio.sleep(0.2)
    assert not any(fake.sockets.values())  # every demo socket was closed on stop


async def test_demo_waits_with_backoff_while_the_server_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="heron.load.demo"):
        await _run_for(f"http://127.0.0.1:{port}", 1.2)
    warnings = [r.getMessage() for r in caplog.records if "demo traffic paused" in r.getMessage()]
    # Backoff 0.5 s then 1 s: two attempts in 1.2 s, not a tight retry loop.
    assert 1 <= len(warnings) <= 3, warnings
    assert "retrying in 0.5 s" in warnings[0]


async def test_demo_starts_once_the_server_becomes_ready(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    served.fake.signup_status = 503
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="heron.load.demo"):
        task = asyncio.create_task(run_demo(served.url, stop, rate=20, seed=2))
        await asyncio.sleep(0.3)
        assert not served.fake.messages
        served.fake.signup_status = None
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.wait_for(task, timeout=3)
    assert any("http_503" in r.getMessage() for r in caplog.records)
    assert served.fake.messages


async def test_demo_rejects_nonsense_parameters() -> None:
    with pytest.raises(ValueError, match="rate"):
        await run_demo("http://127.0.0.1:1", asyncio.Event(), rate=0)
