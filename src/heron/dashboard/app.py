"""The dashboard on the monitor port: sign-in, the overview and logs pages, their JSON and SSE;
the alerting views (active alerts, silences, annotations, alarm pages, notify inbox and explain)
come from ``alert_routes``.

``Dashboard(...)`` holds the session table, the overview reader and the snapshot broadcaster;
``dashboard.routes`` are Starlette routes under ``/dashboard`` for the monitor port's app, and
``await dashboard.close()`` ends open streams on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Route

from heron.awsapi.credentials import Credentials
from heron.dashboard import web
from heron.dashboard.alert_routes import AlarmReader, AlertViews
from heron.dashboard.assets import (
    PUBLIC_ASSETS,
    asset_response,
    load_assets,
    load_templates,
    render,
)
from heron.dashboard.explore import MEDIA_TYPE as EXPLORE_MEDIA_TYPE
from heron.dashboard.explore import SelectionError, explore, parse_selection
from heron.dashboard.history.routes import HistoryPage
from heron.dashboard.layout import DashboardConfig
from heron.dashboard.live import SSE_HEADERS, Broadcaster
from heron.dashboard.log_routes import LogViews
from heron.dashboard.overview import (
    SNAPSHOT_INTERVAL_S,
    AlarmSource,
    Overview,
    UnknownMetric,
)
from heron.dashboard.ranges import RangeError, resolve_window
from heron.dashboard.sessions import (
    FailureThrottle,
    Session,
    SessionStore,
    credentials_match,
    tokens_match,
)
from heron.monitor.contracts import MetricId, MetricQueries
from heron.monitor.logs.store import LogStore
from heron.monitor.notify.pipeline import Context
from heron.types import Clock

log = logging.getLogger(__name__)

P = web.PREFIX
MESSAGES = {
    "expired": "Your session has expired. Please sign in again.",
    "signedout": "You have signed out.",
}


class Dashboard:
    """The dashboard's state and its routes (see the module docstring)."""

    def __init__(
        self,
        *,
        metrics: MetricQueries,
        logs: LogStore,
        credentials: Credentials,
        config: DashboardConfig | None = None,
        alarms: AlarmSource | None = None,
        notify: Context | None = None,
        clock: Clock = time.time,
        session_clock: Clock = time.time,
        idle_timeout_s: float | None = None,
    ) -> None:
        # ``clock`` is the stores' (Heron) time; sessions expire in real time.
        self.clock = clock
        self.session_clock = session_clock
        self.logs = logs
        self.credentials = credentials
        self.sessions = (
            SessionStore()
            if idle_timeout_s is None
            else SessionStore(idle_timeout_s=idle_timeout_s)
        )
        self.throttle = FailureThrottle()
        self.overview = Overview(metrics, config or DashboardConfig(), clock=clock, alarms=alarms)
        self.assets = load_assets()
        self.templates = load_templates()
        # The alarm page and annotations need the full store (``history``), not just snapshots.
        reader = alarms if callable(getattr(alarms, "history", None)) else None
        self.alerts = AlertViews(
            metrics=metrics,
            charts=self.overview.charts,
            config=self.overview.config,
            templates=self.templates,
            alarms=cast("AlarmReader | None", reader),
            notify=notify,
            account=credentials.access_key_id,
            clock=clock,
        )
        self.broadcaster = Broadcaster(self.snapshot, interval_s=SNAPSHOT_INTERVAL_S)
        self._closed = asyncio.Event()
        self.log_views = LogViews(logs, clock, self._closed)
        self.history = HistoryPage(self, notify=notify)
        page = web.guard(self.sessions, session_clock, "page")
        api = web.guard(self.sessions, session_clock, "api")
        self.routes: list[BaseRoute] = [
            Route(P, page(self.overview_page), methods=["GET"]),
            Route(P + "/", page(self.overview_page), methods=["GET"]),
            Route(P + "/logs", page(self.logs_page), methods=["GET"]),
            Route(P + "/explore", page(self.explore_page), methods=["GET"]),
            Route(P + "/login", self.login_page, methods=["GET"]),
            Route(P + "/login", self.login, methods=["POST"]),
            Route(P + "/logout", page(self.logout), methods=["POST"]),
            Route(P + "/static/{name}", self.static, methods=["GET"]),
            Route(P + "/events", api(self.events), methods=["GET"]),
            Route(P + "/api/session", api(self.session_info), methods=["GET"]),
            Route(P + "/api/layout", api(self.layout), methods=["GET"]),
            Route(P + "/api/charts", api(self.charts), methods=["GET"]),
            Route(P + "/api/metric", api(self.metric), methods=["GET"]),
            Route(P + "/api/stats", api(self.stats), methods=["GET"]),
            Route(P + "/api/explore", api(self.explore), methods=["GET"]),
            *self.log_views.routes(api),
            *self.alerts.routes(page, api),
            *self.history.routes,
            Route(P + "/api/{rest:path}", api(self.api_not_found)),
            Route(P + "/{rest:path}", page(self.page_not_found)),
        ]

    def snapshot(self) -> dict[str, Any]:
        """The live snapshot: the overview's, plus the active-alerts panel when notify runs."""
        snap = self.overview.snapshot()
        alerts = self.alerts.panel()
        if alerts is not None:
            snap["alerts"] = alerts
        return snap

    async def close(self) -> None:
        """End every open stream (before the server stops)."""
        self._closed.set()
        await self.broadcaster.close()

    # --- sign-in ------------------------------------------------------------------------

    def _login_response(self, request: Request, message: str, status: int = 200) -> Response:
        token = secrets.token_urlsafe(32)
        body = render(self.templates["login.html"], csrf=token, message=message)
        body = body.replace('class="message"', 'class="message hidden"') if not message else body
        response = HTMLResponse(body, status_code=status)
        web.set_cookie(response, request, web.LOGIN_CSRF_COOKIE, token, 3600)
        return web.secure(response)

    async def login_page(self, request: Request) -> Response:
        """GET /dashboard/login: the sign-in form (or the overview when already signed in)."""
        _, session = self.sessions.lookup(
            request.cookies.get(web.SESSION_COOKIE), self.session_clock()
        )
        if session is not None:
            return web.secure(RedirectResponse(P, status_code=303))
        key = next((k for k in MESSAGES if k in request.query_params), None)
        return self._login_response(request, MESSAGES[key] if key else "")

    async def login(self, request: Request) -> Response:
        """POST /dashboard/login: check the form's CSRF token and the key pair; start a session."""
        now = float(self.session_clock())
        form = await web.read_form(request)
        if form is None:
            return self._login_response(request, "The sign-in form could not be read.", 400)
        cookie_token = request.cookies.get(web.LOGIN_CSRF_COOKIE)
        if not tokens_match(cookie_token, form.get(web.CSRF_FIELD)):
            log.warning("dashboard: sign-in refused: bad CSRF token")
            return self._login_response(request, "The sign-in form expired. Please try again.", 403)
        wait = self.throttle.blocked(now)
        if wait > 0:
            return self._login_response(
                request, f"Too many failed sign-ins. Try again in {int(wait) + 1} s.", 429
            )
        ok = credentials_match(
            form.get("username", ""),
            form.get("password", ""),
            access_key_id=self.credentials.access_key_id,
            secret_access_key=self.credentials.secret_access_key,
        )
        if not ok:
            self.throttle.failed(now)
            log.warning("dashboard: failed sign-in")  # never the submitted values
            return self._login_response(request, "Wrong access key ID or secret access key.", 401)
        session = self.sessions.create(now)
        response = RedirectResponse(P, status_code=303)
        web.session_cookie(response, request, session)
        web.clear_cookie(response, request, web.LOGIN_CSRF_COOKIE)
        log.info("dashboard: signed in")
        return web.secure(response)

    async def logout(self, request: Request, session: Session) -> Response:
        """POST /dashboard/logout: end the session."""
        self.sessions.delete(session.id)
        response = RedirectResponse(P + "/login?signedout=1", status_code=303)
        web.clear_cookie(response, request, web.SESSION_COOKIE)
        return response

    async def session_info(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/session: when the session ends if unused (epoch ms)."""
        return JSONResponse({"expiresAt": int(session.deadline() * 1000)})

    # --- pages and assets ---------------------------------------------------------------

    def _page(self, name: str, session: Session) -> Response:
        body = render(
            self.templates[name],
            csrf=session.csrf,
            account=self.credentials.access_key_id,
        )
        return HTMLResponse(body)

    async def overview_page(self, request: Request, session: Session) -> Response:
        """GET /dashboard: the overview (status tiles, alarms, performance graphs)."""
        return self._page("overview.html", session)

    async def logs_page(self, request: Request, session: Session) -> Response:
        """GET /dashboard/logs: log search and live tail."""
        return self._page("logs.html", session)

    async def explore_page(self, request: Request, session: Session) -> Response:
        """GET /dashboard/explore: the metric explorer (graph a metric over many dimensions)."""
        return self._page("explore.html", session)

    async def page_not_found(self, request: Request, session: Session) -> Response:
        """Any other path under /dashboard: a 404 page (JSON for a client that wants JSON)."""
        message = f"no dashboard page at {request.url.path}"
        if "text/html" not in request.headers.get("accept", ""):
            return web.json_error(404, "NotFound", message)
        return self.alerts.not_found_page(
            session, f"There is no dashboard page at {request.url.path}."
        )

    async def static(self, request: Request) -> Response:
        """GET /dashboard/static/<name>: an asset (only the sign-in stylesheet without a session)."""
        name = request.path_params["name"]
        if name not in PUBLIC_ASSETS:
            _, session = self.sessions.lookup(
                request.cookies.get(web.SESSION_COOKIE), self.session_clock()
            )
            if session is None:
                return web.secure(web.json_error(401, "NotSignedIn", "sign in first"))
        asset = self.assets.get(name)
        if asset is None:
            return web.secure(web.json_error(404, "NotFound", f"no asset {name!r}"))
        return web.secure(asset_response(asset, request), cache=True)

    # --- overview data ------------------------------------------------------------------

    async def layout(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/layout: ranges, tiles and graphs (structure only)."""
        return JSONResponse(self.overview.layout())

    async def charts(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/charts?range=1h: every graph's data for the range."""
        try:
            window = resolve_window(request.query_params.get("range"), web.now_ms(self.clock))
        except RangeError as exc:
            return web.json_error(400, "BadRange", str(exc))
        data = await asyncio.to_thread(self.overview.chart_data, window)
        return Response(_dumps(data), media_type="application/json")

    async def metric(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/metric?namespace=&name=&dimensions=K=V,..&stat=&range=&period=."""
        q = request.query_params
        namespace, name = q.get("namespace", ""), q.get("name", "")
        if not namespace or not name:
            return web.json_error(400, "MissingParameter", "namespace and name are required")
        try:
            dims = web.parse_dimensions(q.get("dimensions", ""))
            period = web.query_int(request, "period", 0, 0, 455 * 86400) or None
            window = resolve_window(q.get("range"), web.now_ms(self.clock), period)
        except (RangeError, ValueError) as exc:
            return web.json_error(400, "BadRequest", str(exc))
        metric = MetricId(namespace, name, dims)
        try:
            data = await asyncio.to_thread(
                self.overview.metric_series, metric, q.get("stat", "Average"), window
            )
        except UnknownMetric as exc:
            return web.json_error(404, "UnknownMetric", str(exc))
        except ValueError as exc:  # the store's StatisticError
            return web.json_error(400, "BadStatistic", str(exc))
        return Response(_dumps(data), media_type="application/json")

    async def explore(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/explore?namespace=&name=&dimensions=K=V,K=*&stat=&range=&limit=.

        Every matching metric (at most ``limit``, 1,000) as one binary frame (``explore``).
        """
        q = request.query_params
        try:
            selection = parse_selection(
                q.get("namespace", ""),
                q.get("name", ""),
                q.get("dimensions", ""),
                q.get("stat", ""),
                q.get("limit"),
            )
        except SelectionError as exc:
            return web.json_error(400, "BadRequest", str(exc), field=exc.field)
        try:
            period = web.query_int(request, "period", 0, 0, 455 * 86400) or None
            window = resolve_window(q.get("range"), web.now_ms(self.clock), period)
        except (RangeError, ValueError) as exc:
            return web.json_error(400, "BadRange", str(exc), field="range")
        try:
            answer = await asyncio.to_thread(
                explore, self.overview.metrics, selection, window, int(self.clock())
            )
        except ValueError as exc:  # the store's StatisticError
            return web.json_error(400, "BadStatistic", str(exc), field="stat")
        if answer is None:
            return web.json_error(
                404, "UnknownMetric", "no stored metric matches this selection", field="name"
            )
        return Response(answer[1], media_type=EXPLORE_MEDIA_TYPE)

    async def stats(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/stats: what the live snapshot loop has cost so far."""
        return JSONResponse(self.broadcaster.stats())

    async def events(self, request: Request, session: Session) -> Response:
        """GET /dashboard/events: the overview's live snapshots (SSE, about one a second)."""
        return StreamingResponse(
            self._until_closed(self.broadcaster.stream()),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    async def _until_closed(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in stream:
            if self._closed.is_set():
                return
            yield chunk

    async def api_not_found(self, request: Request, session: Session) -> Response:
        """Any other /dashboard/api path."""
        return web.json_error(404, "NotFound", f"no dashboard API at {request.url.path}")


def _dumps(data: Any) -> bytes:
    return orjson.dumps(data)
