"""The dashboard's alerting endpoints: the active-alerts panel and its actions, silences, graph
annotations, the alarm page, and the notify inbox and explain views.

``AlertViews`` reads the alarm store (``heron.monitor.alarms.store.AlarmStore``) and the running
notifier's context; either may be absent (then its endpoints answer 404 "not configured").
Every write goes through ``heron.monitor.notify.operations``, so the ledger records who did it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import jinja2
import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from heron.awsapi.errors import AwsError
from heron.dashboard import alarm_detail as ad
from heron.dashboard import web
from heron.dashboard.alarm_view import tile_for_alarm
from heron.dashboard.alerts import (
    MAX_INCIDENTS,
    SNOOZE_MAX_S,
    SNOOZE_MIN_S,
    FieldError,
    incident_row,
    panel,
    parse_duration,
    parse_incident_id,
    parse_silence,
    silence_row,
)
from heron.dashboard.assets import render
from heron.dashboard.layout import DashboardConfig
from heron.dashboard.notify_view import MAX_INBOX, MAX_WHAT, explain, inbox
from heron.dashboard.queries import Chart
from heron.dashboard.ranges import RangeError, Window, resolve_window
from heron.dashboard.sessions import Session
from heron.monitor.alarms.store import HistoryQuery
from heron.monitor.contracts import MetricQueries
from heron.monitor.metrics.metric_data import run_queries
from heron.monitor.metrics.metric_queries import plan_queries
from heron.monitor.metrics.store_fetch import store_fetch, store_fetch_many
from heron.monitor.notify import operations
from heron.monitor.notify.incidents import Incident, IncidentError
from heron.monitor.notify.pipeline import Context
from heron.types import Clock

P = web.PREFIX
ALARM_TYPES = frozenset({"MetricAlarm", "CompositeAlarm"})
#: Most state changes one annotations request reads.
MAX_ANNOTATIONS = 2000
#: Who the ledger names for actions taken on the page.
ACTOR = "dashboard"

Guard = Callable[[Callable[[Request, Session], Any]], Any]


class AlarmReader(Protocol):
    """What the alarm views read from the alarm store."""

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The live alarm dicts by name (read-only)."""

    def get(self, name: str) -> dict[str, Any] | None:
        """A copy of one alarm, or None."""

    def history(self, query: HistoryQuery) -> list[tuple[int, dict[str, Any]]]:
        """History items with their ids."""


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


class AlertViews:
    """The alerting endpoints (see the module docstring)."""

    def __init__(
        self,
        *,
        metrics: MetricQueries,
        charts: Sequence[Chart],
        config: DashboardConfig,
        templates: dict[str, jinja2.Template],
        alarms: AlarmReader | None,
        notify: Context | None,
        account: str = "",
        clock: Clock = time.time,
    ) -> None:
        self.account = account
        self.metrics = metrics
        self.charts = list(charts)
        self.config = config
        self.templates = templates
        self.alarms = alarms
        self.notify = notify
        self.clock = clock

    def routes(self, page: Guard, api: Guard) -> list[BaseRoute]:
        """The routes, to go before the dashboard's catch-all routes."""
        return [
            Route(P + "/alarms/{name:path}", page(self.alarm_page), methods=["GET"]),
            Route(P + "/notify", page(self.notify_page), methods=["GET"]),
            Route(P + "/api/alerts", api(self.alerts), methods=["GET"]),
            Route(P + "/api/incidents/{id}/{action}", api(self.incident_action), methods=["POST"]),
            Route(P + "/api/silences", api(self.create_silence), methods=["POST"]),
            Route(P + "/api/silences/{id}/expire", api(self.expire_silence), methods=["POST"]),
            Route(P + "/api/annotations", api(self.annotations), methods=["GET"]),
            Route(P + "/api/alarms/{name:path}", api(self.alarm), methods=["GET"]),
            Route(P + "/api/inbox", api(self.inbox), methods=["GET"]),
            Route(P + "/api/explain", api(self.explain), methods=["GET"]),
        ]

    # --- the panel ----------------------------------------------------------------------

    def _tiles(self) -> dict[str, str]:
        if self.alarms is None:
            return {}
        out = {}
        for name, alarm in self.alarms.snapshot().items():
            tile = tile_for_alarm(alarm, self.config)
            if tile is not None:
                out[name] = tile
        return out

    def panel(self) -> dict[str, Any] | None:
        """The active-alerts panel (None without a notifier); the live snapshot carries it."""
        if self.notify is None:
            return None
        now = float(self.clock())
        incidents = self.notify.incidents.all(active_only=True, limit=MAX_INCIDENTS)
        silences = self.notify.silences.current(now)
        return panel(incidents, silences, self.notify.config, now, self._tiles())

    def _need_notify(self) -> Response | None:
        if self.notify is None:
            return web.json_error(404, "NotConfigured", "notifications are not running here")
        return None

    async def alerts(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/alerts: open incidents and silences."""
        missing = self._need_notify()
        if missing is not None:
            return missing
        return _json(await asyncio.to_thread(self.panel))

    async def incident_action(self, request: Request, session: Session) -> Response:
        """POST /dashboard/api/incidents/<id>/(ack|snooze|resolve); snooze takes ``duration``."""
        missing = self._need_notify()
        if missing is not None:
            return missing
        assert self.notify is not None
        ctx = self.notify
        action = request.path_params["action"]
        form: dict[str, str] = request.state.form
        try:
            ident = parse_incident_id(request.path_params["id"])
            if action not in ("ack", "snooze", "resolve"):
                return web.json_error(404, "NotFound", f"no incident action {action!r}")
            snooze_s = (
                parse_duration(form.get("duration"), "duration", SNOOZE_MIN_S, SNOOZE_MAX_S)
                if action == "snooze"
                else 0.0
            )
        except FieldError as exc:
            return _field_error(exc)
        now = float(self.clock())

        def act() -> Incident:
            if action == "ack":
                return operations.acknowledge(ctx, ident, ACTOR, now)
            if action == "resolve":
                return operations.resolve(ctx, ident, ACTOR, now)
            return operations.snooze(ctx, ident, ACTOR, now + snooze_s, now)

        try:
            ctx.incidents.get(ident)
        except IncidentError as exc:
            return web.json_error(404, "UnknownIncident", str(exc))
        try:
            incident = await asyncio.to_thread(act)
        except IncidentError as exc:
            return web.json_error(409, "IncidentClosed", str(exc))
        tile = self._tiles().get(incident.alarm)
        return _json(incident_row(incident, ctx.config, now, tile))

    async def create_silence(self, request: Request, session: Session) -> Response:
        """POST /dashboard/api/silences: ``pattern``, ``duration``, ``comment``; starts now."""
        missing = self._need_notify()
        if missing is not None:
            return missing
        assert self.notify is not None
        try:
            req = parse_silence(request.state.form)
        except FieldError as exc:
            return _field_error(exc)
        now = float(self.clock())
        silence = await asyncio.to_thread(
            operations.silence,
            self.notify,
            req.pattern,
            now,
            now + req.duration_s,
            req.comment,
            ACTOR,
            now,
        )
        return _json(silence_row(silence, now), 201)

    async def expire_silence(self, request: Request, session: Session) -> Response:
        """POST /dashboard/api/silences/<id>/expire: end a silence now."""
        missing = self._need_notify()
        if missing is not None:
            return missing
        assert self.notify is not None
        raw = request.path_params["id"]
        if not raw.isdigit() or len(raw) > 12:
            return _field_error(FieldError("id", f"silence id must be a whole number, got {raw!r}"))
        now = float(self.clock())
        if not await asyncio.to_thread(self.notify.silences.expire, int(raw), now):
            return web.json_error(404, "UnknownSilence", f"no silence #{raw} is active or pending")
        return _json({"id": int(raw), "status": "expired", "ends": int(now * 1000)})

    # --- annotations and the alarm page ---------------------------------------------------

    def _window(self, request: Request) -> Window:
        return resolve_window(request.query_params.get("range"), web.now_ms(self.clock))

    def chart_annotations(self, window: Window) -> dict[str, list[dict[str, Any]]]:
        """Every overview graph's alarm state changes within ``window``."""
        if self.alarms is None:
            return {}
        watchers = ad.chart_watchers(self.charts, self.alarms.snapshot().values())
        query = HistoryQuery(
            types=ALARM_TYPES,
            kind="StateUpdate",
            start=window.start_ms / 1000,
            end=window.end_ms / 1000,
            limit=MAX_ANNOTATIONS,
        )
        items = [item for _, item in self.alarms.history(query)]
        return ad.markers_by_chart(items, watchers, alarm_only=True)

    async def annotations(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/annotations?range=1h: alarm state changes per graph."""
        try:
            window = self._window(request)
        except RangeError as exc:
            return web.json_error(400, "BadRange", str(exc))
        data = await asyncio.to_thread(self.chart_annotations, window)
        return _json({"annotations": data})

    async def alarm_page(self, request: Request, session: Session) -> Response:
        """GET /dashboard/alarms/<name>: one alarm's definition, graph and history."""
        name = request.path_params["name"]
        if self.alarms is None or self.alarms.get(name) is None:
            return self.not_found_page(session, f"There is no alarm named \u201c{name}\u201d.")
        body = render(
            self.templates["alarm.html"],
            csrf=session.csrf,
            account=self.account,
            alarm=name,
        )
        return HTMLResponse(body)

    def not_found_page(self, session: Session, message: str) -> Response:
        """A 404 page in the dashboard's frame, saying what was not found."""
        body = render(
            self.templates["notfound.html"],
            csrf=session.csrf,
            account=self.account,
            message=message,
        )
        return HTMLResponse(body, status_code=404)

    def alarm_detail(self, alarm: dict[str, Any], window: Window) -> dict[str, Any]:
        """The alarm page's data: definition, state, graph over ``window``, history, incident."""
        assert self.alarms is not None
        name = str(alarm["AlarmName"])
        items = [
            item
            for _, item in self.alarms.history(
                HistoryQuery(name=name, types=ALARM_TYPES, limit=ad.MAX_HISTORY)
            )
        ]
        in_window = [
            i for i in items if window.start_ms <= float(i["Timestamp"]) * 1000 <= window.end_ms
        ]
        out: dict[str, Any] = {
            "name": name,
            "state": alarm.get("StateValue"),
            "reason": alarm.get("StateReason", ""),
            "since": _ms(alarm.get("StateTransitionedTimestamp")),
            "condition": ad.condition(alarm),
            "definition": ad.definition(alarm),
            "tile": tile_for_alarm(alarm, self.config),
            "thresholds": ad.thresholds(alarm),
            "graph": self._graph(alarm, window),
            "annotations": ad.markers_by_chart(in_window, {"alarm": {name}}).get("alarm", []),
            "history": [ad.history_row(i) for i in items],
            "incident": None,
        }
        if self.notify is not None:
            incident = self.notify.incidents.active_for(name)
            if incident is not None:
                now = float(self.clock())
                out["incident"] = incident_row(incident, self.notify.config, now)
        return out

    def _graph(self, alarm: dict[str, Any], window: Window) -> dict[str, Any] | None:
        if alarm.get("AlarmRule"):
            return None  # a composite alarm reads other alarms, not metrics
        span_s = max(1, (window.end_ms - window.start_ms) // 1000)
        period = ad.graph_period(ad.alarm_period(alarm), span_s)
        start_ms = window.start_ms // (period * 1000) * period * 1000
        size = max(1, -(-(window.end_ms - start_ms) // (period * 1000)))
        try:
            plan = plan_queries(ad.graph_queries(alarm, period))
            results = run_queries(
                plan,
                store_fetch(self.metrics),
                start_ms,
                window.end_ms,
                web.now_ms(self.clock),
                fetch_many=store_fetch_many(self.metrics),
            )
        except (AwsError, ValueError, KeyError) as exc:
            return {"error": f"the graph cannot be drawn: {exc}"}
        columns = [
            (r.label, r.series.timestamps.tolist(), r.series.values.tolist()) for r in results
        ]
        return ad.align(columns, start_ms, period, size)

    async def alarm(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/alarms/<name>?range=1h: the alarm page's data."""
        name = request.path_params["name"]
        if self.alarms is None:
            return web.json_error(404, "NotConfigured", "alarms are not running here")
        alarm = self.alarms.get(name)
        if alarm is None:
            return web.json_error(404, "UnknownAlarm", f"no alarm named {name!r}")
        try:
            window = self._window(request)
        except RangeError as exc:
            return web.json_error(400, "BadRange", str(exc))
        return _json(await asyncio.to_thread(self.alarm_detail, alarm, window))

    # --- notify views -------------------------------------------------------------------

    async def notify_page(self, request: Request, session: Session) -> Response:
        """GET /dashboard/notify: the local inbox and the delivery ledger's explain."""
        body = render(self.templates["notify.html"], csrf=session.csrf, account=self.account)
        return HTMLResponse(body)

    async def inbox(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/inbox?limit=50: the newest notifications in the local inbox."""
        missing = self._need_notify()
        if missing is not None:
            return missing
        assert self.notify is not None
        try:
            limit = web.query_int(request, "limit", 50, 1, MAX_INBOX)
        except ValueError as exc:
            return web.json_error(400, "BadRequest", str(exc))
        return _json({"items": await asyncio.to_thread(inbox, self.notify, limit)})

    async def explain(self, request: Request, session: Session) -> Response:
        """GET /dashboard/api/explain?what=ALARM|ALERT_ID|#DELIVERY: the route it took."""
        missing = self._need_notify()
        if missing is not None:
            return missing
        assert self.notify is not None
        what = request.query_params.get("what", "").strip()
        if not what:
            return _field_error(FieldError("what", "name an alarm, a message id or a #delivery"))
        if len(what) > MAX_WHAT:
            return _field_error(FieldError("what", f"at most {MAX_WHAT} characters"))
        alerts = await asyncio.to_thread(explain, self.notify, what)
        if not alerts:
            return web.json_error(404, "NothingRecorded", f"nothing recorded for {what!r}")
        return _json({"what": what, "alerts": alerts})


def _ms(value: Any) -> int | None:
    return None if value is None else int(float(value) * 1000)


def _field_error(exc: FieldError) -> Response:
    return JSONResponse(
        {"error": "BadRequest", "field": exc.field, "message": str(exc)}, status_code=400
    )
