"""The gateway's uvicorn server ticks once a second yet stops at once and keeps its Date header."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from heron.gateway.server import QuietServer, serve


async def _hello(_request: object) -> PlainTextResponse:
    return PlainTextResponse("hi")


async def test_stop_is_prompt_and_the_date_header_is_fresh() -> None:
    app = Starlette(routes=[Route("/", _hello)])
    handle = await serve(app, port=0)
    assert isinstance(handle.server, QuietServer)
    async with httpx.AsyncClient(base_url=handle.url) as client:
        first = await client.get("/")
        assert first.text == "hi"
        sent = parsedate_to_datetime(first.headers["date"]).timestamp()
        assert abs(sent - time.time()) < 2.5  # refreshed every tick (one second)
    began = time.perf_counter()
    await handle.stop()
    assert time.perf_counter() - began < 0.9  # not a full one-second tick: the exit wakes it
