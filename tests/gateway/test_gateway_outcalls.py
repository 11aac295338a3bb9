"""@connections from Heron's own environments: the gateway answers over the runtime's pipe.

A real LambdaRuntime (child processes) behind a real uvicorn gateway, driven by real WebSocket
clients; the handler uses the same ``connections_from_env`` client sendMessage uses.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gateway_support import RecordingSink, eventually, make_config
from websockets.asyncio.client import ClientConnection, connect

from heron.gateway.app import Gateway, create_app
from heron.gateway.server import ServerHandle, serve
from heron.runtime.runtime import LambdaRuntime
from heron.types import FunctionSpec

HANDLERS_ROOT = Path(__file__).resolve().parents[1] / "runtime"
STAGE = {"ApiId": "local-ws", "Stage": "local"}


class Live:
    """The running gateway, its runtime and its sink."""

    def __init__(self, handle: ServerHandle, gateway: Gateway, sink: RecordingSink) -> None:
        self.handle = handle
        self.gateway = gateway
        self.sink = sink

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.handle.port}/ws"


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    paths = [str(HANDLERS_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]
    # No HERON_CONNECTIONS_ENDPOINT: the pipe is the only way the handler can reach a socket.
    env = {"PYTHONPATH": ":".join(paths), "HERON_DATA_DIR": "/tmp/heron-test-data"}
    spec = FunctionSpec(
        "push", "handlers.outcalls.ws_push", ws_routes=("push",), authorized=False, timeout_s=10
    )
    sink = RecordingSink()
    runtime = LambdaRuntime([spec], sink, env=env)
    app = create_app([spec], runtime, sink, make_config())
    handle = await serve(app, "127.0.0.1", 0)
    try:
        yield Live(handle, app.state.gateway, sink)
    finally:
        await handle.stop()
        await runtime.close()


async def push(
    ws: ClientConnection, text: str, to: str | None = None, repeat: int = 1
) -> dict[str, Any]:
    """Ask the push function to send ``text``; the route response (frames pushed to ``ws``
    itself on the way are returned under ``"pushed"``)."""
    frame = {"action": "push", "text": text, "repeat": repeat, **({"to": to} if to else {})}
    await ws.send(json.dumps(frame))
    pushed: list[str] = []
    while True:
        frame = str(await ws.recv())
        if frame.startswith("{") and '"client"' in frame:
            return {**json.loads(frame), "pushed": pushed}
        pushed.append(frame)


async def test_handlers_push_over_the_pipe_and_gone_sockets_answer_410(live: Live) -> None:
    async with connect(live.ws_url, compression=None) as a:
        own = await push(a, "to myself")
        assert own["client"] == "PipeConnectionsClient"
        assert (own["results"], own["pushed"]) == (["ok"], ["to myself"])
        async with connect(live.ws_url, compression=None) as b:
            sent = await push(b, "hello a", to=own["me"])
            assert sent["results"] == ["ok"]
            assert await a.recv() == "hello a"
            b_id = sent["me"]
        await eventually(lambda: len(live.gateway.registry) == 1)
        gone = await push(a, "anyone there?", to=b_id)
        assert gone["results"] == [f"gone:{b_id}"]
    live.gateway.flush_telemetry()
    # Each push counts as a message, exactly as a POST to /@connections does: 3 frames in,
    # 3 route responses, 2 pushes delivered (the one to the gone socket is not counted).
    assert sum(live.sink.values("MessageCount", **STAGE)) == 8.0


async def test_oversized_pushes_are_refused_like_the_http_api(live: Live) -> None:
    async with connect(live.ws_url, compression=None, max_size=None) as a:
        big = await push(a, "x", repeat=128 * 1024 + 1)
        assert big["results"] == ["413:PayloadTooLargeException"]
        assert big["pushed"] == []
        # The limit is in bytes: 65,537 two-byte characters are too many.
        wide = await push(a, "é", repeat=65_537)
        assert wide["results"] == ["413:PayloadTooLargeException"]
        fits = await push(a, "é", repeat=1000)
        assert fits["pushed"] == ["é" * 1000]
