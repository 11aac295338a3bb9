"""The logs view's endpoints: log groups, the newest events matching a filter pattern, and a
live tail of a group over SSE (the search and tail logic is in ``logs_view``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from heron.dashboard import web
from heron.dashboard.live import SSE_HEADERS, sse_event
from heron.dashboard.logs_view import (
    MAX_EVENTS,
    PatternError,
    TailCursor,
    event_json,
    parse_pattern,
    search_latest,
)
from heron.dashboard.ranges import RangeError, resolve_window
from heron.dashboard.sessions import Session
from heron.monitor.logs.store import LogStore, NotFound
from heron.types import Clock

P = web.PREFIX
#: How often the log tail looks for new events.
TAIL_INTERVAL_S = 1.0

Guard = Callable[[Callable[[Request, Session], Any]], Any]


def _dumps(data: Any) -> bytes:
    return orjson.dumps(data)


class LogViews:
    """The log endpoints over a log store; ``closed`` ends open tails on shutdown."""

    def __init__(
        self, logs: LogStore, clock: Clock = time.time, closed: asyncio.Event | None = None
    ) -> None:
        self.logs = logs
        self.clock = clock
        self.closed = closed or asyncio.Event()

    def routes(self, api: Guard) -> list[BaseRoute]:
        """The routes (all behind the session guard)."""
        return [
            Route(P + "/logs/tail", api(self.tail), methods=["GET"]),
            Route(P + "/api/log-groups", api(self.log_groups), methods=["GET"]),
            Route(P + "/api/logs", api(self.search_logs), methods=["GET"]),
        ]

    async def log_groups(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/log-groups: every log group's name and stored bytes."""
        groups = await asyncio.to_thread(self.logs.groups)
        return JSONResponse(
            {"groups": [{"name": g.name, "storedBytes": g.stored_bytes} for g in groups]}
        )

    async def search_logs(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/logs?group=&pattern=&range=&limit=: the newest matching events."""
        q = request.query_params
        group = q.get("group", "")
        if not group:
            return web.json_error(400, "MissingParameter", "choose a log group")
        try:
            limit = web.query_int(request, "limit", 100, 1, MAX_EVENTS)
            window = resolve_window(q.get("range"), web.now_ms(self.clock))
            pattern = parse_pattern(q.get("pattern"))
        except PatternError as exc:  # before ValueError: it is one
            return web.json_error(400, "BadPattern", f"{exc}: {q.get('pattern')!r}")
        except (RangeError, ValueError) as exc:
            return web.json_error(400, "BadRequest", str(exc))
        try:
            result = await asyncio.to_thread(
                search_latest, self.logs, group, pattern, window.start_ms, window.end_ms, limit
            )
        except NotFound:
            return web.json_error(404, "UnknownLogGroup", f"no log group {group!r}")
        return Response(_dumps(result.as_json()), media_type="application/json")

    async def tail(self, request: Request, session: Session) -> Response:
        """GET /dashboard/logs/tail?group=&pattern=: new events of a group as they arrive (SSE)."""
        q = request.query_params
        try:
            pattern = parse_pattern(q.get("pattern"))
            cursor = TailCursor(self.logs, q.get("group", ""), pattern, web.now_ms(self.clock))
        except PatternError as exc:
            return web.json_error(400, "BadPattern", str(exc))
        except NotFound:
            return web.json_error(404, "UnknownLogGroup", f"no log group {q.get('group')!r}")
        return StreamingResponse(
            self._tail_stream(cursor), media_type="text/event-stream", headers=SSE_HEADERS
        )

    async def _tail_stream(self, cursor: TailCursor) -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        backlog = await asyncio.to_thread(cursor.backlog, web.now_ms(self.clock))
        yield sse_event("events", {"events": [event_json(e) for e in backlog], "skipped": 0})
        while not self.closed.is_set():
            try:
                await asyncio.wait_for(self.closed.wait(), timeout=TAIL_INTERVAL_S)
                return
            except TimeoutError:
                pass
            try:
                events, skipped = await asyncio.to_thread(cursor.poll, web.now_ms(self.clock))
            except NotFound:
                yield sse_event("problem", {"message": "the log group was deleted"})
                return
            if events or skipped:
                payload = {"events": [event_json(e) for e in events], "skipped": skipped}
                yield sse_event("events", payload)
            else:
                yield b": idle\n\n"
