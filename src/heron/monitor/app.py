"""The monitor port's ASGI app: ``/health`` now; the AWS-compatible API and dashboard mount here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


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


def create_monitor_app(
    readiness: Readiness, info: Callable[[], Mapping[str, Any]] | None = None
) -> Starlette:
    """Build the monitor port's app: ``GET /health`` is 200 once everything is ready, else 503."""

    async def health(request: Request) -> JSONResponse:
        body: dict[str, Any] = {
            "status": "ok" if readiness.ready else "starting",
            "components": readiness.status(),
        }
        if info is not None:
            body.update(info())
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    return Starlette(routes=[Route("/health", health, methods=["GET"])])
