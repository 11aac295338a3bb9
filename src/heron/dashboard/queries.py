"""Graph series as metric-store queries, evaluated onto a dense period grid.

A ``Series`` is one line of a graph: one store query, a percentage of two (error and cold-start
rates), a per-second rate, or a query ``expand``-ed over every metric that adds one dimension
(a table's operations) and summed or maxed. Queries that share a metric are batched into one
``statistics`` call, so a graph of p50/p95/p99 costs one store read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heron.monitor.contracts import MetricId, MetricQueries
from heron.monitor.metrics import retention
from heron.types import Dimensions

#: Statistics the store answers without reading sketches.
BASIC = frozenset(("SampleCount", "Sum", "Average", "Minimum", "Maximum"))
#: How long the expansion of a query over a dimension (e.g. a table's operations) is cached.
EXPANSION_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Query:
    """One statistic of one metric; with ``expand``, of every metric that adds that dimension."""

    namespace: str
    name: str
    dims: Dimensions
    stat: str
    expand: str | None = None

    @property
    def combine(self) -> str:
        """How expanded metrics merge: counts add up, everything else takes the largest."""
        return "sum" if self.stat in ("Sum", "SampleCount") else "max"


@dataclass(frozen=True, slots=True)
class Series:
    """A graph line: ``op`` is ``value``, ``sum`` (of its queries), ``per_second`` or ``ratio``.

    A ``ratio`` is 100 x (sum of every query but the last) / (the last query), a percentage.
    """

    label: str
    queries: tuple[Query, ...]
    op: str = "value"
    #: Drawn dashed in the colour of the series with this label (a limit beside its usage).
    limit_of: str | None = None


@dataclass(frozen=True, slots=True)
class Threshold:
    """A horizontal threshold line drawn on a graph."""

    value: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """One graph: its series, unit and the seed's thresholds drawn on it."""

    id: str
    section: str
    title: str
    unit: str
    series: tuple[Series, ...]
    thresholds: tuple[Threshold, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The graph's static description for the page (no data)."""
        labels = [s.label for s in self.series]
        return {
            "id": self.id,
            "section": self.section,
            "title": self.title,
            "unit": self.unit,
            "series": [s.label for s in self.series],
            # Limit lines (e.g. provisioned capacity): index -> index of the series they bound.
            "limits": {
                str(i): labels.index(s.limit_of)
                for i, s in enumerate(self.series)
                if s.limit_of is not None and s.limit_of in labels
            },
            "thresholds": [{"value": t.value, "label": t.label} for t in self.thresholds],
        }


@dataclass(frozen=True, slots=True)
class Grid:
    """A dense period grid: slot ``i`` is the period starting at ``t0_s + i * period_s``."""

    t0_s: int
    period_s: int
    size: int

    def index(self, ts_ms: int) -> int | None:
        """The slot of a datapoint stamped ``ts_ms``, or None when outside the grid."""
        i = (ts_ms // 1000 - self.t0_s) // self.period_s
        return i if 0 <= i < self.size else None


def make_grid(start_ms: int, end_ms: int, period_s: int, now_s: int) -> Grid:
    """The grid the store will answer on: start rounded down as CloudWatch rounds it."""
    t0 = retention.round_start(start_ms, period_s, now_s)
    t1 = retention.end_second(end_ms)
    return Grid(t0, period_s, max(0, math.ceil((t1 - t0) / period_s)))


Values = list[float | None]


@dataclass
class Evaluator:
    """Evaluates series against a metric store; caches dimension expansions for a minute."""

    store: MetricQueries
    clock: Any = time.time
    _expansions: dict[Query, tuple[float, list[MetricId]]] = field(default_factory=dict)

    def expand(self, q: Query) -> list[MetricId]:
        """The metrics a query reads: itself, or each metric adding exactly ``q.expand``."""
        if q.expand is None:
            return [MetricId(q.namespace, q.name, q.dims)]
        now = float(self.clock())
        cached = self._expansions.get(q)
        if cached is not None and now - cached[0] < EXPANSION_TTL_S:
            return cached[1]
        wanted = {k for k, _ in q.dims} | {q.expand}
        found = [
            m
            for m in self.store.list_metrics(
                namespace=q.namespace, name=q.name, dimension_filters=[(k, v) for k, v in q.dims]
            )
            if {k for k, _ in m.dimensions} == wanted
        ]
        self._expansions[q] = (now, found)
        return found

    def fetch(self, queries: Sequence[Query], grid: Grid) -> dict[Query, Values]:
        """Every query's values on ``grid``, read from the store in one batch."""
        wanted: dict[MetricId, set[str]] = {}
        plan: dict[Query, list[MetricId]] = {}
        for q in queries:
            metrics = self.expand(q)
            plan[q] = metrics
            for m in metrics:
                wanted.setdefault(m, set()).add(q.stat)
        raw = self._read(wanted, grid)
        out: dict[Query, Values] = {}
        for q, metrics in plan.items():
            out[q] = merge([raw[(m, q.stat)] for m in metrics], q.combine, grid.size)
        return out

    def _read(
        self, wanted: dict[MetricId, set[str]], grid: Grid
    ) -> dict[tuple[MetricId, str], Values]:
        """Each (metric, statistic) on ``grid``: one batched store read when the store has one."""
        start_ms = grid.t0_s * 1000
        end_ms = (grid.t0_s + grid.size * grid.period_s) * 1000
        pairs = [(m, s) for m, stats in wanted.items() for s in sorted(stats)]
        if not grid.size or not pairs:
            return {pair: [None] * grid.size for pair in pairs}
        many = getattr(self.store, "series_many", None)
        if many is None:
            return self._read_each(wanted, grid, start_ms, end_ms)
        # One SQLite query and one vectorized pass for the whole graph set, instead of a
        # ``statistics`` call (and its per-point dicts) per metric: the overview's 24 h load.
        # Percentiles need each cell's sketch, the basic statistics do not: one batch per kind
        # keeps the sketch blobs out of the basic statistics' read.
        raw: dict[tuple[MetricId, str], Values] = {}
        for part in (
            [p for p in pairs if p[1] in BASIC],
            [p for p in pairs if p[1] not in BASIC],
        ):
            if not part:
                continue
            answers = many([(m, start_ms, end_ms, grid.period_s, s, None) for m, s in part])
            for pair, (stamps, values) in zip(part, answers, strict=True):
                raw[pair] = place(grid, stamps, values)
        return raw

    def _read_each(
        self, wanted: dict[MetricId, set[str]], grid: Grid, start_ms: int, end_ms: int
    ) -> dict[tuple[MetricId, str], Values]:
        raw: dict[tuple[MetricId, str], Values] = {}
        for metric, stats in wanted.items():
            columns: dict[str, Values] = {s: [None] * grid.size for s in stats}
            points = self.store.statistics(
                metric,
                start_ms=start_ms,
                end_ms=end_ms,
                period_s=grid.period_s,
                statistics=sorted(stats),
            )
            for p in points:
                i = grid.index(int(p["Timestamp"]))
                if i is None:
                    continue
                extended = p.get("ExtendedStatistics", {})
                for s in stats:
                    v = p.get(s, extended.get(s))
                    if v is not None and columns[s][i] is None:
                        columns[s][i] = float(v)
            for s, col in columns.items():
                raw[(metric, s)] = col
        return raw

    def evaluate(self, series: Sequence[Series], grid: Grid) -> list[Values]:
        """Each series' values on ``grid`` (None where there is no data)."""
        values = self.fetch([q for s in series for q in s.queries], grid)
        return [apply_op(s, [values[q] for q in s.queries], grid.period_s) for s in series]


def place(grid: Grid, stamps: Sequence[int], values: Sequence[float]) -> Values:
    """Datapoints (period-start ms, value) as a dense column on ``grid`` (None where missing)."""
    out: Values = [None] * grid.size
    t0, period, size = grid.t0_s, grid.period_s, grid.size
    for ts, v in zip(stamps, values, strict=True):
        i = (ts // 1000 - t0) // period
        if 0 <= i < size:
            out[i] = v
    return out


def merge(columns: Sequence[Values], how: str, size: int) -> Values:
    """Combine aligned columns slot by slot: ``sum`` or ``max``, skipping missing values."""
    if len(columns) == 1:
        return list(columns[0])
    out: Values = [None] * size
    for col in columns:
        for i, v in enumerate(col):
            if v is None:
                continue
            cur = out[i]
            if cur is None:
                out[i] = v
            else:
                out[i] = cur + v if how == "sum" else max(cur, v)
    return out


def apply_op(series: Series, columns: Sequence[Values], period_s: int) -> Values:
    """A series' values from its queries' columns (see ``Series.op``)."""
    if series.op == "ratio":
        *parts, den = columns
        num = merge(parts, "sum", len(den))
        return [
            None if d is None or d <= 0 else 100.0 * (n or 0.0) / d
            for n, d in zip(num, den, strict=True)
        ]
    if series.op == "sum":
        return merge(columns, "sum", len(columns[0]))
    if series.op == "per_second":
        return [None if v is None else v / period_s for v in columns[0]]
    return list(columns[0])


def rounded(values: Values, digits: int = 4) -> Values:
    """Values rounded to ``digits`` significant digits, to keep the page's JSON small."""
    if not values:
        return []
    arr = np.array(values, dtype=np.float64)  # None becomes NaN
    out = arr.copy()
    ok = np.isfinite(arr) & (arr != 0)
    if ok.any():
        v = arr[ok]
        # Whole digits are kept: only the fraction is cut (e.g. 12023.18 -> 12023.0).
        shift = np.maximum(0, digits - 1 - np.floor(np.log10(np.abs(v)))).astype(np.int64)
        # Dividing by an exact power of ten gives the double nearest the decimal, as round() does.
        scale = 10.0**shift
        r = np.round(v * scale) / scale
        out[ok] = r
    out[arr == 0] = 0.0
    result: Values = list(out.tolist())
    for i in np.flatnonzero(~np.isfinite(out)).tolist():
        result[i] = None
    return result
