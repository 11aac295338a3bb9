"""The coalescing HTTP protocol: writes are paired, nothing is reordered or held past one loop
iteration, and the server still answers keep-alive, pipelined and malformed requests like uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gateway_support import FakeInvoker, RecordingSink, make_config

from heron.gateway.app import create_app
from heron.gateway.http_protocol import CoalescingHttpProtocol, CoalescingWrites
from heron.gateway.server import ServerHandle, serve
from heron.types import FunctionSpec


class Transport:
    """Records what reaches the socket (pure-logic test of the coalescer)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def test_writes_go_out_in_pairs_and_a_lone_write_within_the_iteration() -> None:
    transport = Transport()
    writes = CoalescingWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(b"head ")
    assert transport.writes == []
    writes.write(b"body")
    assert transport.writes == [b"head body"]
    writes.write(b"more")
    await asyncio.sleep(0)  # one loop iteration later the held write is out
    assert transport.writes == [b"head body", b"more"]
    writes.write(b"last")
    writes.close()
    assert transport.writes[-1] == b"last" and transport.closed and writes.is_closing()
    assert writes.get_extra_info("peername") == "info:peername"


@pytest.fixture(params=["coalescing", "httptools"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[ServerHandle]:
    """The gateway on the coalescing protocol, and on uvicorn's own for comparison."""

    def echo(event: Any) -> Any:
        return {"statusCode": 200, "body": event["rawPath"]}

    spec = FunctionSpec("echo", "x.echo", http_routes=("GET /echo/{n}",), authorized=False)
    app = create_app([spec], FakeInvoker({"echo": echo}), RecordingSink(), make_config())
    http = CoalescingHttpProtocol if request.param == "coalescing" else "httptools"
    handle = await serve(app, "127.0.0.1", 0, http=http)
    yield handle
    await handle.stop()


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response with a content-length: (status line, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return status, await reader.readexactly(length)


async def test_keep_alive_and_pipelined_requests_are_answered_in_order(
    server: ServerHandle,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        for n in range(3):
            writer.write(f"GET /echo/{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert await read_response(reader) == (b"HTTP/1.1 200 OK", f"/echo/{n}".encode())
        writer.write(
            b"".join(f"GET /echo/p{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in range(5))
        )
        answers = [await read_response(reader) for _ in range(5)]
        assert [body for _, body in answers] == [f"/echo/p{n}".encode() for n in range(5)]
    finally:
        writer.close()


async def test_a_malformed_request_in_a_pipeline_is_answered_as_uvicorn_does(
    server: ServerHandle,
) -> None:
    # uvicorn parses the whole segment before the first request's task runs, so the 400 comes
    # first and the connection closes; the coalescer must not change that order.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /echo/ok HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\x00\r\n\r\n")
        status, _ = await read_response(reader)
        assert status == b"HTTP/1.1 400 Bad Request"
        assert await reader.read() == b""
    finally:
        writer.close()


async def test_a_body_is_read_and_answered_in_one_piece(server: ServerHandle) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        status, body = await read_response(reader)
        assert (status, body) == (b"HTTP/1.1 404 Not Found", b'{"message":"Not Found"}')
    finally:
        writer.close()
