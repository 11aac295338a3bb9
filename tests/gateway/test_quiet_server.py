"""The gateway's uvicorn server ticks once a second (once every ``IDLE_WAKE_S`` with no connection
open) yet stops at once and keeps its Date header fresh."""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from heron.gateway import server as server_module
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


def _date_age_s(response: httpx.Response) -> float:
    return time.time() - parsedate_to_datetime(response.headers["date"]).timestamp()


async def test_the_tick_sleeps_while_no_connection_is_open_and_dates_stay_fresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server_module, "IDLE_WAKE_S", 3600.0)  # no idle tick during the test
    app = Starlette(routes=[Route("/", _hello)])
    handle = await serve(app, port=0)
    server = handle.server
    ticks: list[float] = []
    on_tick = server.on_tick

    async def counted(counter: int) -> bool:
        ticks.append(time.monotonic())
        return await on_tick(counter)

    server.on_tick = counted  # type: ignore[method-assign]
    try:
        await asyncio.sleep(3.2)  # no connection: no tick
        assert ticks == []
        async with httpx.AsyncClient(base_url=handle.url) as client:
            # The tick slept through the last seconds; the connection refreshed the Date.
            assert _date_age_s(await client.get("/")) < 2.5  # a whole second, and a tick's wait
            ticks.clear()
            await asyncio.sleep(2.5)  # a connection is open: a tick every second
            assert len(ticks) >= 2
            assert _date_age_s(await client.get("/")) < 2.5
    finally:
        await handle.stop()


def test_the_first_connection_refreshes_the_date_before_its_request_is_read() -> None:
    # The tick it wakes may run only after the request's headers were taken, in the same pass
    # of the event loop; the Date must already be fresh then.
    config = uvicorn.Config(Starlette(), date_header=True)
    config.load()
    server = QuietServer(config)
    server.server_state.default_headers = [(b"date", b"Thu, 01 Jan 1970 00:00:00 GMT")]
    first, second = object(), object()
    server.server_state.connections.add(first)
    (name, value), *rest = server.server_state.default_headers
    assert (
        name == b"date" and abs(time.time() - parsedate_to_datetime(value.decode()).timestamp()) < 2
    )
    assert rest == config.encoded_headers
    server.server_state.default_headers = []
    server.server_state.connections.add(second)  # not the first: nothing to do
    assert server.server_state.default_headers == []
