"""Fixtures for the load tests: the fake Heron service on a real uvicorn with a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fake_heron import FakeHeron, Served, build_app


@pytest.fixture(scope="module")
def _server() -> Iterator[Served]:
    fake = FakeHeron()
    config = uvicorn.Config(
        build_app(fake),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    # Its own thread and event loop, so the fake's work does not steal time from the client's.
    thread = threading.Thread(target=server.run, name="fake-heron", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(f"http://127.0.0.1:{port}", fake)
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def served(_server: Served) -> Served:
    """The module's fake server, with its state reset for this test."""
    _server.fake.reset()
    return _server
