"""The History page and its JSON endpoints, behind the dashboard's sign-in.

``HistoryPage(dashboard)`` builds a ``HistoryService`` over the dashboard's stores; its
``routes`` go into the dashboard's route list before the catch-all routes:

* ``GET /dashboard/history`` — the page;
* ``GET /dashboard/history/static/<name>`` — its script and stylesheet;
* ``GET /dashboard/api/history/metrics`` — the metrics a trend can show;
* ``GET /dashboard/api/history/trend?namespace=&name=&dimensions=K=V,..&stat=&range=&compare=``;
* ``GET /dashboard/api/history/capacity?lookback=7d&horizon=90``;
* ``GET /dashboard/api/history/cost?range=24h`` and ``.../advice?range=24h``.

Bad input answers 400 with ``{"error", "message"}`` naming the field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib import resources
from typing import Any

import jinja2
import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from heron.dashboard import web
from heron.dashboard.assets import (
    Asset,
    asset_response,
    load_assets,
    render,
    template_from_text,
)
from heron.dashboard.history.costs import Prices
from heron.dashboard.history.service import (
    FORECAST_HORIZONS_DAYS,
    FORECAST_LOOKBACKS,
    HistoryService,
    Limits,
    UnknownMetric,
)
from heron.dashboard.history.trends import OFFSETS
from heron.dashboard.ranges import RANGES, RangeError
from heron.dashboard.sessions import Session
from heron.monitor.contracts import MetricId

P = web.PREFIX
#: Statistics a trend may use.
STATISTICS = ("Average", "Sum", "Maximum", "Minimum", "SampleCount", "p50", "p90", "p95", "p99")
#: Most metrics the picker lists.
MAX_METRICS = 2000


def _load_files() -> tuple[dict[str, Asset], jinja2.Template]:
    base = resources.files("heron.dashboard.history")
    template = template_from_text(base.joinpath("history.html").read_text(encoding="utf-8"))
    return load_assets(base.joinpath("static")), template


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


async def _over_range(request: Request, compute: Callable[[str | None], Any]) -> Response:
    """``compute`` over the request's ``range`` as JSON, or a 400 naming the bad range."""
    try:
        data = await asyncio.to_thread(compute, request.query_params.get("range"))
    except RangeError as exc:
        return web.json_error(400, "BadRange", str(exc))
    return _json(data)


class HistoryPage:
    """The History page's service and routes for one ``Dashboard``."""

    def __init__(self, dashboard: Any, *, notify: Any = None) -> None:
        overview = dashboard.overview
        self.service = HistoryService(
            overview.metrics, overview.config, clock=dashboard.clock, alarms=overview.alarms
        )
        self.service.configure(notify=notify)
        self.credentials = dashboard.credentials
        self.assets, self.template = _load_files()
        page = web.guard(dashboard.sessions, dashboard.session_clock, "page")
        api = web.guard(dashboard.sessions, dashboard.session_clock, "api")
        self.routes: list[BaseRoute] = [
            Route(P + "/history", page(self.page), methods=["GET"]),
            Route(P + "/history/static/{name}", api(self.static), methods=["GET"]),
            Route(P + "/api/history/metrics", api(self.metric_list), methods=["GET"]),
            Route(P + "/api/history/trend", api(self.trend), methods=["GET"]),
            Route(P + "/api/history/capacity", api(self.capacity), methods=["GET"]),
            Route(P + "/api/history/cost", api(self.cost), methods=["GET"]),
            Route(P + "/api/history/advice", api(self.advice), methods=["GET"]),
        ]

    def configure_from_settings(self, settings: Any, tables: Any = ()) -> None:
        """Take the price table and the stage throttle from resolved settings, and which
        ``tables`` (schemas with ``name`` and ``provisioned``) have provisioned capacity."""
        provisioned = {t.name: t.provisioned for t in tables if t.provisioned}
        self.service.configure(
            prices=Prices.from_settings(settings.values),
            limits=Limits(float(settings["throttle_rate"]), provisioned),
        )

    async def page(self, request: Request, session: Session) -> Response:
        """GET /dashboard/history: trends, capacity, cost and advice."""
        body = render(self.template, csrf=session.csrf, account=self.credentials.access_key_id)
        return HTMLResponse(body)

    async def static(self, request: Request, session: Session) -> Response:
        """GET /dashboard/history/static/<name>: the page's script or stylesheet."""
        asset = self.assets.get(request.path_params["name"])
        if asset is None:
            return web.json_error(404, "NotFound", f"no asset {request.path_params['name']!r}")
        return web.secure(asset_response(asset, request), cache=True)

    async def metric_list(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/history/metrics: every stored metric (up to MAX_METRICS)."""
        found = await asyncio.to_thread(self.service.metrics.list_metrics)
        return _json(
            {
                "metrics": [
                    {"namespace": m.namespace, "name": m.name, "dimensions": dict(m.dimensions)}
                    for m in found[:MAX_METRICS]
                ],
                "truncated": len(found) > MAX_METRICS,
                "statistics": list(STATISTICS),
                "ranges": list(RANGES),
                "comparisons": list(OFFSETS),
                "lookbacks": list(FORECAST_LOOKBACKS),
                "horizons": list(FORECAST_HORIZONS_DAYS),
            }
        )

    async def trend(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/history/trend: a metric now and a day or a week earlier."""
        q = request.query_params
        namespace, name = q.get("namespace", ""), q.get("name", "")
        if not namespace or not name:
            return web.json_error(400, "MissingParameter", "namespace and name are required")
        stat = q.get("stat", "Average")
        if stat not in STATISTICS:
            return web.json_error(
                400, "BadStatistic", f"stat: {stat!r} is not one of {', '.join(STATISTICS)}"
            )
        try:
            metric = MetricId(namespace, name, web.parse_dimensions(q.get("dimensions", "")))
            data = await asyncio.to_thread(
                self.service.trend, metric, stat, q.get("range"), q.get("compare")
            )
        except RangeError as exc:
            return web.json_error(400, "BadRange", str(exc))
        except UnknownMetric as exc:
            return web.json_error(404, "UnknownMetric", str(exc))
        except ValueError as exc:
            return web.json_error(400, "BadRequest", str(exc))
        return _json(data)

    async def capacity(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/history/capacity: forecasts of every metric with a limit."""
        q = request.query_params
        try:
            horizon = web.query_int(request, "horizon", 90, 1, 365)
            data = await asyncio.to_thread(self.service.capacity, q.get("lookback"), horizon)
        except (RangeError, ValueError) as exc:
            return web.json_error(400, "BadRange", str(exc))
        return _json(data)

    async def cost(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/history/cost: cost per resource and per message, projected."""
        return await _over_range(request, self.service.cost)

    async def advice(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/history/advice: optimization advice over the range."""
        return await _over_range(request, self.service.advice)
