"""The History page's data: reads the metric, alarm and incident stores and runs the analyses.

Everything here is I/O around the pure modules (``trends``, ``forecast``, ``costs``,
``advice``): it picks the metrics, reads them on the store's roll-ups for the chosen range and
hands plain numbers over. ``HistoryService.configure`` adds what only ``heron up`` knows (the
price table, the stage throttle, provisioned tables, the notify incidents).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from heron.dashboard import thresholds as th
from heron.dashboard.history import costs, forecast, trends
from heron.dashboard.layout import APIGW, DDB, HERON, LAMBDA, DashboardConfig, api_dims, fn_dims
from heron.dashboard.queries import Evaluator, Grid, Query, Series, make_grid, rounded
from heron.dashboard.ranges import DAY, RANGES, RangeError, Window, period_step, resolve_window
from heron.monitor.contracts import MetricId, MetricQueries
from heron.monitor.metrics import retention
from heron.types import Clock, MetricDatum

#: DynamoDB's default per-table on-demand maximum (read and write units per second).
ON_DEMAND_TABLE_MAX = 40_000.0
#: Lookbacks the capacity forecast may fit (hourly maxima; at most 720 points).
FORECAST_LOOKBACKS = ("24h", "7d", "30d")
FORECAST_HORIZONS_DAYS = (7, 30, 90, 365)


class UnknownMetric(LookupError):
    """The metric asked for has never been stored."""


class HistorySource(Protocol):
    """The alarm store's history reader (``heron.monitor.alarms.store.AlarmStore``)."""

    def history(self, query: Any) -> list[tuple[int, dict[str, Any]]]:
        """DescribeAlarmHistory items with their ids."""


@dataclass
class Limits:
    """The limits forecasts are held against that the dashboard config does not carry."""

    throttle_rate: float = 1000.0
    #: Provisioned (RCU, WCU) per table; tables missing here are on demand.
    provisioned: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def _dims(**pairs: str) -> tuple[tuple[str, str], ...]:
    return MetricDatum.dims(pairs)


def whole_window(window: Window, now_s: int) -> Grid:
    """A one-slot grid covering ``window``: its start rounded as the store rounds it."""
    t0 = retention.round_start(window.start_ms, 60, now_s)
    step = period_step(now_s - t0)
    t0 = t0 // step * step
    length = max(1, retention.end_second(window.end_ms) - t0)
    return Grid(t0, math.ceil(length / step) * step, 1)


class HistoryService:
    """Trend, capacity, cost and advice reports over the stores."""

    def __init__(
        self,
        metrics: MetricQueries,
        config: DashboardConfig,
        *,
        clock: Clock = time.time,
        alarms: Any = None,
    ) -> None:
        self.metrics = metrics
        self.config = config
        self.clock = clock
        self.evaluator = Evaluator(metrics, clock)
        self.alarms: HistorySource | None = (
            alarms if callable(getattr(alarms, "history", None)) else None
        )
        self.prices = costs.Prices()
        self.limits = Limits()
        self.notify: Any = None

    def configure(
        self,
        *,
        prices: costs.Prices | None = None,
        limits: Limits | None = None,
        notify: Any = None,
    ) -> None:
        """Set the price table, limits and the notify context (``Notifier.ctx``, read only)."""
        if prices is not None:
            self.prices = prices
        if limits is not None:
            self.limits = limits
        if notify is not None:
            self.notify = notify

    def now_ms(self) -> int:
        """The clock in epoch milliseconds."""
        return int(float(self.clock()) * 1000)

    # --- reading ----------------------------------------------------------------------

    def totals(self, queries: list[Query], window: Window) -> dict[Query, float | None]:
        """Each query's one value over the whole window."""
        grid = whole_window(window, self.now_ms() // 1000)
        values = self.evaluator.fetch(queries, grid)
        out: dict[Query, float | None] = {}
        for q, col in values.items():
            present = [v for v in col if v is not None]
            if not present:
                out[q] = None
            elif q.stat in ("Sum", "SampleCount"):
                out[q] = sum(present)
            else:
                out[q] = max(present) if q.stat == "Maximum" else present[0]
        return out

    # --- trends -----------------------------------------------------------------------

    def trend(
        self, metric: MetricId, statistic: str, range_name: str | None, compare: str | None
    ) -> dict[str, Any]:
        """A metric over the range and over the same range a day or a week earlier."""
        offset = trends.parse_offset(compare)
        now_ms = self.now_ms()
        current, earlier = trends.aligned_windows(
            resolve_window(range_name, now_ms), offset, now_ms
        )
        if metric not in self.metrics.list_metrics(
            namespace=metric.namespace, name=metric.name, dimension_filters=list(metric.dimensions)
        ):
            raise UnknownMetric(
                f"no metric {metric.namespace} {metric.name} with dimensions "
                f"{dict(metric.dimensions) or '{}'} has data"
            )
        series = [
            Series(statistic, (Query(metric.namespace, metric.name, metric.dimensions, statistic),))
        ]
        now_s = now_ms // 1000
        grid_now = make_grid(current.start_ms, current.end_ms, current.period_s, now_s)
        grid_before = make_grid(earlier.start_ms, earlier.end_ms, earlier.period_s, now_s)
        [now_values] = self.evaluator.evaluate(series, grid_now)
        [before_values] = self.evaluator.evaluate(series, grid_before)
        size = min(len(now_values), len(before_values))
        t = trends.compare(now_values[:size], before_values[:size], statistic)
        return {
            "start": grid_now.t0_s * 1000,
            "earlierStart": grid_before.t0_s * 1000,
            "period": grid_now.period_s,
            "size": size,
            "offsetSeconds": offset,
            "current": rounded(t.current),
            "earlier": rounded(t.earlier),
            "change": rounded(t.change),
            "currentTotal": t.current_total,
            "earlierTotal": t.earlier_total,
            "totalChange": t.total_change,
        }

    # --- capacity ---------------------------------------------------------------------

    def _targets(self) -> list[tuple[str, str, str, Query, float, str]]:
        """(id, title, kind, query, limit, limit label); kind ``gauge`` or ``rate``."""
        cfg = self.config
        out: list[tuple[str, str, str, Query, float, str]] = [
            (
                "ws-connections",
                "WebSocket active connections",
                "gauge",
                Query(APIGW, "ActiveConnections", api_dims(cfg.ws_api_id), "Maximum"),
                th.WS_CONNECTIONS,
                "10,000 connections (the seed's limit)",
            ),
            (
                "concurrency",
                "Lambda concurrent executions (account)",
                "gauge",
                Query(LAMBDA, "ConcurrentExecutions", (), "Maximum"),
                float(cfg.account_concurrency),
                f"account limit {cfg.account_concurrency}",
            ),
            (
                "http-rate",
                "HTTP API requests per second",
                "rate",
                Query(APIGW, "Count", api_dims(cfg.http_api_id), "Sum"),
                self.limits.throttle_rate,
                f"stage throttle {self.limits.throttle_rate:g}/s",
            ),
        ]
        for table in cfg.tables:
            prov = self.limits.provisioned.get(table)
            for i, (short, metric) in enumerate(
                (("RCU", "ConsumedReadCapacityUnits"), ("WCU", "ConsumedWriteCapacityUnits"))
            ):
                limit = float(prov[i]) if prov else ON_DEMAND_TABLE_MAX
                label = (
                    f"provisioned {prov[i]} {short}"
                    if prov
                    else f"on-demand table maximum {ON_DEMAND_TABLE_MAX:,.0f}/s"
                )
                out.append(
                    (
                        f"table-{table}-{short.lower()}",
                        f"{table} consumed {short}/s",
                        "rate",
                        Query(DDB, metric, _dims(TableName=table), "Sum"),
                        limit,
                        label,
                    )
                )
        return out

    def capacity(self, lookback: str | None, horizon_days: int) -> dict[str, Any]:
        """Every limited metric's hourly peaks, trend and expected crossing date."""
        lookback = lookback or "7d"
        if lookback not in FORECAST_LOOKBACKS:
            raise RangeError(f"lookback must be one of {', '.join(FORECAST_LOOKBACKS)}")
        if horizon_days not in FORECAST_HORIZONS_DAYS:
            raise RangeError(f"horizon must be one of {FORECAST_HORIZONS_DAYS} days")
        now_ms = self.now_ms()
        now_s = now_ms // 1000
        length = RANGES[lookback]
        start_ms = (now_s - length) // 3600 * 3600 * 1000
        fine = period_step(length) if length <= 7 * DAY else 300
        results = []
        for ident, title, kind, query, limit, label in self._targets():
            period = 3600 if kind == "gauge" else fine
            grid = make_grid(start_ms, now_ms, period, now_s)
            [values] = self.evaluator.evaluate([Series(title, (query,))], grid)
            if kind == "rate":
                values = [None if v is None else v / period for v in values]
            hourly = forecast.hourly_maxima(grid.t0_s, grid.period_s, values)
            f = forecast.forecast(hourly, limit, float(now_s), horizon_days * DAY)
            results.append(
                {
                    "id": ident,
                    "title": title,
                    "limit": limit,
                    "limitLabel": label,
                    "hourly": [[t * 1000, v] for t, v in hourly],
                    **f.as_json(),
                }
            )
        return {
            "lookback": lookback,
            "horizonDays": horizon_days,
            "now": now_ms,
            "method": forecast.__doc__,
            "forecasts": results,
        }

    # --- cost -------------------------------------------------------------------------

    def cost(self, range_name: str | None) -> dict[str, Any]:
        """Usage over the range priced with the price table, with monthly projections."""
        now_ms = self.now_ms()
        window = resolve_window(range_name or "24h", now_ms)
        cfg = self.config
        qs: list[Query] = []
        for f in cfg.functions:
            d = fn_dims(f.name)
            qs += [Query(LAMBDA, n, d, "Sum") for n in ("Invocations", "Duration", "InitDuration")]
        http, ws = api_dims(cfg.http_api_id), api_dims(cfg.ws_api_id)
        api_qs = [
            Query(APIGW, "Count", http, "Sum"),
            Query(APIGW, "MessageCount", ws, "Sum"),
            Query(HERON, "MessagesSent", fn_dims("sendMessage"), "Sum"),
        ]
        table_qs = [
            Query(DDB, n, _dims(TableName=t), "Sum")
            for t in cfg.tables
            for n in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
        ]
        tot = self.totals(qs + api_qs + table_qs, window)

        def v(q: Query) -> float:
            return tot.get(q) or 0.0

        fns = [
            costs.FunctionUsage(
                f.name,
                f.memory_mb,
                v(Query(LAMBDA, "Invocations", fn_dims(f.name), "Sum")),
                v(Query(LAMBDA, "Duration", fn_dims(f.name), "Sum")),
                v(Query(LAMBDA, "InitDuration", fn_dims(f.name), "Sum")),
            )
            for f in cfg.functions
        ]
        # Connection-minutes: the average open connections of each period times its minutes.
        grid = make_grid(window.start_ms, window.end_ms, window.period_s, now_ms // 1000)
        [active] = self.evaluator.evaluate(
            [Series("active", (Query(APIGW, "ActiveConnections", ws, "Average"),))], grid
        )
        minutes = sum(a for a in active if a is not None) * grid.period_s / 60
        api = costs.ApiUsage(v(api_qs[0]), v(api_qs[1]), v(api_qs[2]), minutes)
        tables = [
            costs.TableUsage(
                t,
                v(Query(DDB, "ConsumedReadCapacityUnits", _dims(TableName=t), "Sum")),
                v(Query(DDB, "ConsumedWriteCapacityUnits", _dims(TableName=t), "Sum")),
                self.limits.provisioned.get(t),
            )
            for t in cfg.tables
        ]
        messages = v(Query(LAMBDA, "Invocations", fn_dims("sendMessage"), "Sum"))
        window_s = (window.end_ms - window.start_ms) / 1000
        report = costs.cost_report(fns, api, tables, messages, self.prices, window_s)
        return {
            "range": range_name or "24h",
            "method": costs.__doc__,
            **report.as_json(self.prices),
        }

    # --- advice -----------------------------------------------------------------------

    def advice(self, range_name: str | None) -> dict[str, Any]:
        """Slowest functions and routes, cold-start hot spots, memory sizes, noisiest alarms."""
        from heron.dashboard.history.advice_reader import advice_report

        return advice_report(self, range_name)
