"""The overview page's data: graph data for a time range, and the live snapshot pushed each second."""

from __future__ import annotations

import time
from typing import Any, Protocol

from heron.dashboard.alarm_view import alarm_summary, overlay_alarms
from heron.dashboard.layout import DashboardConfig, charts
from heron.dashboard.queries import Evaluator, Query, Series, make_grid, rounded
from heron.dashboard.ranges import RANGES, Window
from heron.dashboard.status import TILE_WINDOW_S, compute_tiles, tile_specs
from heron.monitor.contracts import MetricId, MetricQueries
from heron.types import Clock

#: The live tail carries the last two one-minute periods of every graph series.
TAIL_PERIOD_S = 60
#: The tail is recomputed every this many snapshots (the tiles every one). A tail costs about
#: 2.3 ms of CPU in process and the tiles 1.4 ms (one batched store read each, 24 h of demo
#: data), about 10 ms together in a busy server: every snapshot can afford both.
TAIL_EVERY = 1
#: How often the live stream computes a snapshot: data reaches the page within one interval
#: plus the computation (under 2 s), and the loop stays near 1 % of a core
#: (bench/dashboard_cpu.py).
SNAPSHOT_INTERVAL_S = 1.5


class AlarmSource(Protocol):
    """What the overview reads from the alarm store (``heron.monitor.alarms.store.AlarmStore``)."""

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The live alarm dicts by name (read-only, not copied)."""


class UnknownMetric(LookupError):
    """The metric asked for has never been stored (or not in the last two weeks)."""


class Overview:
    """Reads the metric (and, when present, alarm) store for the overview page."""

    def __init__(
        self,
        metrics: MetricQueries,
        config: DashboardConfig,
        *,
        clock: Clock = time.time,
        alarms: AlarmSource | None = None,
    ) -> None:
        self.metrics = metrics
        self.config = config
        self.clock = clock
        self.alarms = alarms
        self.evaluator = Evaluator(metrics, clock)
        self.charts = charts(config)
        self.tiles = tile_specs(config)
        self._series = [s for c in self.charts for s in c.series]
        self._ticks = 0
        self._tail: dict[str, Any] | None = None

    def layout(self) -> dict[str, Any]:
        """The page's static structure: ranges, tiles and graphs (no data)."""
        return {
            "ranges": list(RANGES),
            "tileWindowSeconds": TILE_WINDOW_S,
            "tiles": [{"id": t.id, "kind": t.kind, "name": t.name} for t in self.tiles],
            "charts": [c.describe() for c in self.charts],
            "alarmsAvailable": self.alarms is not None,
        }

    def chart_data(self, window: Window) -> dict[str, Any]:
        """Every graph's series over ``window``, on one shared period grid."""
        now_s = int(self.clock())
        grid = make_grid(window.start_ms, window.end_ms, window.period_s, now_s)
        values = self.evaluator.evaluate(self._series, grid)
        out: dict[str, list[list[float | None]]] = {}
        i = 0
        for chart in self.charts:
            out[chart.id] = [rounded(v) for v in values[i : i + len(chart.series)]]
            i += len(chart.series)
        return {
            "start": grid.t0_s * 1000,
            "period": grid.period_s,
            "size": grid.size,
            "charts": out,
        }

    def tail(self, now_ms: int) -> dict[str, Any]:
        """The last two one-minute periods of every graph series (for live graphs)."""
        minute = now_ms // 60_000 * 60
        return self.chart_data(Window((minute - TAIL_PERIOD_S) * 1000, now_ms, TAIL_PERIOD_S))

    def snapshot(self) -> dict[str, Any]:
        """What the live stream sends: tiles, alarms and (every few seconds) the graph tail."""
        now_ms = int(self.clock() * 1000)
        if self._tail is None or self._ticks % TAIL_EVERY == 0:
            self._tail = self.tail(now_ms)
        self._ticks += 1
        snap: dict[str, Any] = {
            "t": now_ms,
            "tiles": compute_tiles(self.evaluator, self.tiles, now_ms),
            "tail": self._tail,
        }
        if self.alarms is not None:
            alarms = list(self.alarms.snapshot().values())
            overlay_alarms(snap["tiles"], alarms, self.config)
            snap["alarms"] = alarm_summary(alarms)
        return snap

    def metric_series(self, metric: MetricId, statistic: str, window: Window) -> dict[str, Any]:
        """Any one stored metric's statistic over ``window`` (UnknownMetric if never stored).

        A bad statistic raises the store's ValueError.
        """
        found = self.metrics.list_metrics(
            namespace=metric.namespace,
            name=metric.name,
            dimension_filters=list(metric.dimensions),
        )
        if metric not in found:
            raise UnknownMetric(
                f"no metric {metric.namespace} {metric.name} with dimensions "
                f"{dict(metric.dimensions) or '{}'} has data in the last two weeks"
            )
        q = Query(metric.namespace, metric.name, metric.dimensions, statistic)
        grid = make_grid(window.start_ms, window.end_ms, window.period_s, int(self.clock()))
        [values] = self.evaluator.evaluate([Series(statistic, (q,))], grid)
        return {
            "start": grid.t0_s * 1000,
            "period": grid.period_s,
            "size": grid.size,
            "values": rounded(values),
        }
