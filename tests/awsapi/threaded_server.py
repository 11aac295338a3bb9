"""Serve an ASGI app on a free port from a background thread, for tests that call it with
blocking clients (boto3, the ``aws`` CLI)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from heron.gateway.server import ServerHandle, serve


@contextmanager
def serving_in_thread(app: Any, name: str) -> Iterator[ServerHandle]:
    """The running server's handle; stopped (and its thread joined) on exit."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, ServerHandle] = {}
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            try:
                holder["handle"] = await serve(app, "127.0.0.1", 0)
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            await holder["handle"].wait()

        loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        assert started.wait(10), "server did not start"
        if failure:
            raise failure[0]
        yield holder["handle"]
    finally:
        if "handle" in holder:
            asyncio.run_coroutine_threadsafe(holder["handle"].stop(), loop).result(10)
        thread.join(10)
