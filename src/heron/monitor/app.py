"""The monitor port's ASGI app: ``/health``, and the AWS-compatible API on ``POST /``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from heron.awsapi.app import is_aws_request


class Readiness:
    """Tracks which components have started; ``/health`` answers 200 only when all have."""

    def __init__(self, components: tuple[str, ...]) -> None:
        self._pending = set(components)
        self._components = components

    def mark_ready(self, component: str) -> None:
        """Record that ``component`` is up."""
        self._pending.discard(component)

    @property
    def ready(self) -> bool:
        """True once every component has reported ready."""
        return not self._pending

    def status(self) -> dict[str, str]:
        """Each component's state, for the health body."""
        return {c: ("starting" if c in self._pending else "ready") for c in self._components}


class MonitorPortApp:
    """Sends AWS API calls (signed ``POST /`` and ``/service/...``) to the AWS app, the rest to ``pages``."""

    def __init__(self, pages: ASGIApp, aws: Any | None) -> None:
        self.pages = pages
        self.aws = aws

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.aws is not None and is_aws_request(dict(scope)):
            # The AWS app types scopes as plain dicts; ASGI hands it the same mapping.
            await self.aws(scope, receive, send)
        else:
            await self.pages(scope, receive, send)


def create_monitor_app(
    readiness: Readiness,
    info: Callable[[], Mapping[str, Any]] | None = None,
    aws: Any | None = None,
    routes: Sequence[BaseRoute] = (),
) -> MonitorPortApp:
    """The monitor port's app: ``GET /health`` (200 once everything is ready, else 503) and ``aws``.

    ``routes`` are further pages on the port (the dashboard's, under ``/dashboard``).
    """

    async def health(request: Request) -> JSONResponse:
        body: dict[str, Any] = {
            "status": "ok" if readiness.ready else "starting",
            "components": readiness.status(),
        }
        if info is not None:
            body.update(info())
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    pages = Starlette(routes=[Route("/health", health, methods=["GET"]), *routes])
    return MonitorPortApp(pages, aws)
