"""The trimmed WebSocket protocol: its queue and flag stand-ins, and what it drops after accept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gateway_support import chat_functions, eventually
from websockets.asyncio.client import connect

from heron.gateway.server import serve
from heron.gateway.ws_protocol import Flag, Inbox, LeanWebSocketProtocol


async def test_inbox_is_fifo_and_wakes_its_reader() -> None:
    inbox = Inbox()
    assert inbox.empty()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert (inbox.qsize(), await inbox.get(), await inbox.get()) == (2, 1, 2)
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait("late")
    assert await reader == "late"
    assert inbox.empty()


async def test_a_cancelled_reader_loses_nothing() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    inbox.put_nowait("kept")
    assert await inbox.get() == "kept"


async def test_flag_blocks_waiters_until_set() -> None:
    flag = Flag(True)
    await flag.wait()  # set: returns at once
    flag.clear()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters) and not flag.is_set()
    flag.set()
    await asyncio.gather(*waiters)
    assert flag.is_set()


async def test_a_cancelled_flag_waiter_is_forgotten() -> None:
    flag = Flag(False)
    waiter = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    flag.set()  # must not touch the cancelled future
    assert flag.is_set()


async def test_accepted_sockets_keep_no_handshake_and_still_work() -> None:
    from gateway_support import FakeInvoker, RecordingSink, make_config

    from heron.gateway.app import create_app

    log: dict[str, Any] = {}
    specs, fns = chat_functions(log)
    app = create_app(specs, FakeInvoker(fns), RecordingSink(), make_config())
    handle = await serve(app, "127.0.0.1", 0)
    try:
        url = f"ws://127.0.0.1:{handle.port}/ws"
        async with connect(url, compression=None, user_agent_header="probe/2") as ws:
            await eventually(lambda: bool(log.get("connected")))
            protocols = [
                p
                for p in handle.server.server_state.connections
                if isinstance(p, LeanWebSocketProtocol)
            ]
            assert len(protocols) == 1
            lean = protocols[0]
            assert lean.request is None and lean.response is None
            assert lean.scope["headers"] == []
            await ws.send('{"action": "echo"}')
            assert await ws.recv() == 'echo:{"action": "echo"}'
            # Backpressure still works: a paused transport holds sends until it resumes.
            lean.pause_writing()
            await ws.send('{"action": "echo", "n": 2}')
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.2)
            lean.resume_writing()
            assert await ws.recv() == 'echo:{"action": "echo", "n": 2}'
    finally:
        await handle.stop()
