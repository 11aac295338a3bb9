"""The optimization advice's data: function and route latency, cold starts, memory, alarms.

Reads the metric store (whole-window statistics per function and per route), the alarm store's
StateUpdate history and, read only, the notify incidents and ledger; ``advice`` decides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from heron.dashboard.history import advice, costs
from heron.dashboard.layout import APIGW, LAMBDA, fn_dims
from heron.dashboard.queries import Query
from heron.dashboard.ranges import Window, resolve_window

if TYPE_CHECKING:
    from heron.dashboard.history.service import HistoryService


def advice_report(service: HistoryService, range_name: str | None) -> dict[str, Any]:
    """Slowest functions and routes, cold-start hot spots, memory sizes, noisiest alarms."""
    now_ms = service.now_ms()
    window = resolve_window(range_name or "24h", now_ms)
    cfg = service.config
    stats = (
        "Invocations:Sum",
        "Duration:p99",
        "Duration:Average",
        "Duration:Sum",
        "ColdStarts:Sum",
        "InitDuration:Sum",
        "MaxMemoryUsed:Maximum",
    )

    def q(fn: str, spec: str) -> Query:
        name, stat = spec.split(":")
        return Query(LAMBDA, name, fn_dims(fn), stat)

    fn_qs = [q(f.name, s) for f in cfg.functions for s in stats]
    route_qs = _route_queries(service)
    tot = service.totals(fn_qs + [r for _, rq in route_qs for r in rq], window)

    def g(fn: str, spec: str) -> float | None:
        return tot.get(q(fn, spec))

    functions = [
        advice.Latency(
            f.name,
            g(f.name, "Duration:p99"),
            g(f.name, "Duration:Average"),
            g(f.name, "Invocations:Sum") or 0.0,
        )
        for f in cfg.functions
    ]
    routes = [
        advice.Latency(name, tot.get(rq[0]), tot.get(rq[1]), tot.get(rq[2]) or 0.0)
        for name, rq in route_qs
    ]
    cold = [
        advice.ColdStarts(
            f.name,
            g(f.name, "Invocations:Sum") or 0.0,
            g(f.name, "ColdStarts:Sum") or 0.0,
            g(f.name, "InitDuration:Sum") or 0.0,
            g(f.name, "Duration:Sum") or 0.0,
        )
        for f in cfg.functions
    ]
    window_s = (window.end_ms - window.start_ms) / 1000
    scale = costs.MONTH_S / window_s
    memory = [
        advice.right_size(
            advice.MemoryUse(
                f.name,
                f.memory_mb,
                g(f.name, "MaxMemoryUsed:Maximum"),
                (g(f.name, "Duration:Sum") or 0.0) + (g(f.name, "InitDuration:Sum") or 0.0),
            ),
            service.prices.lambda_gb_second,
            scale,
        )
        for f in cfg.functions
    ]
    return {
        "range": range_name or "24h",
        "slowestFunctions": advice.slowest(functions),
        "slowestRoutes": advice.slowest(routes),
        "routesAvailable": bool(route_qs),
        "coldStarts": advice.cold_start_hotspots(cold),
        "memory": [m for m in memory if m is not None],
        "alarms": _noisy_alarms(service, window),
        "alarmsAvailable": service.alarms is not None,
        "incidentsAvailable": service.notify is not None,
        "method": advice.__doc__,
    }


def _route_queries(service: HistoryService) -> list[tuple[str, list[Query]]]:
    """Per-route latency (p99, average, count) for every route with detailed metrics."""
    out: list[tuple[str, list[Query]]] = []
    cfg = service.config
    for metric in service.metrics.list_metrics(
        namespace=APIGW,
        name="Latency",
        dimension_filters=[("ApiId", cfg.http_api_id), ("Resource", None)],
    ):
        d = dict(metric.dimensions)
        dims = metric.dimensions
        out.append(
            (
                f"{d.get('Method', '')} {d.get('Resource', '')}".strip(),
                [
                    Query(APIGW, "Latency", dims, "p99"),
                    Query(APIGW, "Latency", dims, "Average"),
                    Query(APIGW, "Count", dims, "Sum"),
                ],
            )
        )
    for metric in service.metrics.list_metrics(
        namespace=APIGW,
        name="IntegrationLatency",
        dimension_filters=[("ApiId", cfg.ws_api_id), ("Route", None)],
    ):
        dims = metric.dimensions
        out.append(
            (
                f"WebSocket {dict(dims).get('Route', '')}",
                [
                    Query(APIGW, "IntegrationLatency", dims, "p99"),
                    Query(APIGW, "IntegrationLatency", dims, "Average"),
                    Query(APIGW, "IntegrationLatency", dims, "SampleCount"),
                ],
            )
        )
    return out


def _noisy_alarms(service: HistoryService, window: Window) -> list[dict[str, Any]]:
    start, end = window.start_ms / 1000, window.end_ms / 1000
    changes: list[advice.StateChange] = []
    if service.alarms is not None:
        from heron.monitor.alarms.store import HistoryQuery

        query = HistoryQuery(
            types=frozenset({"MetricAlarm", "CompositeAlarm"}),
            kind="StateUpdate",
            start=start,
            end=end,
            limit=10_000,
        )
        for _, item in service.alarms.history(query):
            changes.append(
                advice.StateChange(item["AlarmName"], float(item["Timestamp"]), _new_state(item))
            )
    return advice.noisiest_alarms(changes, incident_times(service.notify, start, end))


def _new_state(item: Mapping[str, Any]) -> str:
    try:
        return str(json.loads(item["HistoryData"])["newState"]["stateValue"])
    except (KeyError, TypeError, ValueError):
        return ""


def incident_times(ctx: Any, start: float, end: float) -> list[advice.IncidentTimes]:
    """Incidents opened in [start, end] with when each was acknowledged and resolved (read only).

    The acknowledgement time is the ledger's first ``acknowledged`` note for the incident's
    alert (it survives resolution, unlike the incident row's ``updated``).
    """
    if ctx is None:
        return []
    acked = dict(
        ctx.db.all(
            "SELECT alert_id, MIN(at) FROM nt_ledger WHERE reason=? AND stage='incident'"
            " GROUP BY alert_id",
            ("acknowledged",),
        )
    )
    out = []
    for inc in ctx.incidents.all(limit=1000):
        if not start <= inc.opened <= end:
            continue
        ack = acked.get(inc.alert.id)
        if ack is None and inc.acked_by is not None and inc.status == "acknowledged":
            ack = inc.updated
        out.append(advice.IncidentTimes(inc.alarm, inc.opened, ack, inc.resolved))
    return out
