"""The overview's graphs as a CloudWatch dashboard body (PutDashboard's ``DashboardBody``), pure.

``dashboard_body(config, region=...)`` turns every graph of ``heron.dashboard.layout`` into a
``metric`` widget — its series as ``properties.metrics`` rows (metric math for rates and
ratios, ``SEARCH`` for per-operation table metrics), the seed's thresholds as
``annotations.horizontal`` — under a ``text`` heading per section, on CloudWatch's 24-column
grid. Heron-local metrics with an AWS equivalent are swapped for it (memory → Lambda Insights,
cold starts → the catalogue's log metric filter); the rest are kept and named in a note. The
result is a plain dict, so a deploy step can embed it in a CloudFormation template as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.dashboard.layout import DashboardConfig, charts
from heron.dashboard.queries import Chart, Query, Series

GRID_COLUMNS = 24
CHART_WIDTH, CHART_HEIGHT = 8, 6
HEADING_HEIGHT = 1
#: The default period of every graph (CloudWatch's standard resolution).
PERIOD_S = 300
THRESHOLD_COLOR = "#d62728"
SECTION_TITLES = {
    "functions": "Lambda functions",
    "http": "HTTP API",
    "websocket": "WebSocket API",
    "tables": "DynamoDB tables",
}
#: Metrics only Heron publishes that AWS has no direct equivalent for.
HERON_LOCAL = {
    ("AWS/ApiGateway", "ActiveConnections"),
    ("AWS/ApiGateway", "ConnectionErrors"),
    ("AWS/ApiGateway", "DisconnectCount"),
}


def _aws_equivalent(q: Query) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The metric to graph on AWS for a Heron query: (namespace, name, dimensions)."""
    dims = dict(q.dims)
    if q.namespace == "AWS/Lambda" and q.name == "MemoryUsed":
        return "LambdaInsights", "memory_utilization", (("function_name", dims["FunctionName"]),)
    if q.namespace == "AWS/Lambda" and q.name == "ColdStarts":
        return "Heron/LogPatterns", f"{dims['FunctionName']}ColdStarts", ()
    return q.namespace, q.name, tuple(q.dims)


def _search(q: Query) -> str:
    """A SEARCH expression over every metric that adds ``q.expand`` to ``q``'s dimensions."""
    keys = sorted({k for k, _ in q.dims} | {q.expand or ""})
    filters = " ".join(f'{k}="{v}"' for k, v in q.dims)
    schema = ",".join([q.namespace, *keys])
    return f"SEARCH('{{{schema}}} MetricName=\"{q.name}\" {filters}', '{q.stat}', {PERIOD_S})"


class _Rows:
    """Builds one widget's ``metrics`` rows, numbering ids ``m1``, ``e1``... as it goes."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self._m = 0
        self._e = 0

    def metric(self, q: Query, *, label: str | None, visible: bool) -> str:
        """Add a metric (or, for an expanded query, its SEARCH aggregate); return its id."""
        if q.expand is not None:
            fn = "SUM" if q.combine == "sum" else "MAX"
            return self.expression(f"{fn}({_search(q)})", label=label, visible=visible)
        self._m += 1
        ident = f"m{self._m}"
        namespace, name, dims = _aws_equivalent(q)
        options: dict[str, Any] = {"id": ident, "stat": q.stat}
        if label is not None:
            options["label"] = label
        if not visible:
            options["visible"] = False
        row: list[Any] = [namespace, name]
        for k, v in dims:
            row += [k, v]
        self.rows.append([*row, options])
        return ident

    def expression(self, expr: str, *, label: str | None, visible: bool) -> str:
        """Add a metric-math expression; return its id."""
        self._e += 1
        ident = f"e{self._e}"
        options: dict[str, Any] = {"expression": expr, "id": ident}
        if label is not None:
            options["label"] = label
        if not visible:
            options["visible"] = False
        self.rows.append([options])
        return ident

    def series(self, s: Series) -> None:
        """Add one graph line (see ``Series.op``)."""
        if s.op == "value":
            self.metric(s.queries[0], label=s.label, visible=True)
            return
        ids = [self.metric(q, label=None, visible=False) for q in s.queries]
        if s.op == "ratio":
            *parts, den = ids
            expr = f"100*({'+'.join(parts)})/{den}"
        elif s.op == "per_second":
            expr = f"{ids[0]}/PERIOD({ids[0]})"
        else:
            expr = "+".join(ids)
        self.expression(expr, label=s.label, visible=True)


def chart_widget(chart: Chart, region: str, x: int, y: int) -> dict[str, Any]:
    """One ``metric`` widget for a graph, at grid position (x, y)."""
    rows = _Rows()
    for s in chart.series:
        rows.series(s)
    stats = {q.stat for s in chart.series for q in s.queries}
    properties: dict[str, Any] = {
        "title": f"{chart.title} ({chart.unit})",
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "stat": stats.pop() if len(stats) == 1 else "Average",
        "period": PERIOD_S,
        "metrics": rows.rows,
        "yAxis": {"left": {"min": 0, "showUnits": False}},
    }
    if chart.thresholds:
        properties["annotations"] = {
            "horizontal": [
                {"value": t.value, "label": t.label, "color": THRESHOLD_COLOR}
                for t in chart.thresholds
            ]
        }
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "properties": properties,
    }


def text_widget(markdown: str, y: int, height: int = HEADING_HEIGHT) -> dict[str, Any]:
    """A full-width ``text`` widget."""
    return {
        "type": "text",
        "x": 0,
        "y": y,
        "width": GRID_COLUMNS,
        "height": height,
        "properties": {"markdown": markdown},
    }


def _local_note(all_charts: Sequence[Chart]) -> str | None:
    names = sorted(
        {
            f"{q.namespace} {q.name}"
            for c in all_charts
            for s in c.series
            for q in s.queries
            if (q.namespace, q.name) in HERON_LOCAL
        }
    )
    if not names:
        return None
    return (
        "Heron-local metrics (AWS does not publish them; publish them yourself or drop the "
        "graphs): " + ", ".join(names)
    )


def dashboard_body(config: DashboardConfig, *, region: str) -> dict[str, Any]:
    """The CloudWatch dashboard body for the overview's graphs (see the module docstring)."""
    all_charts = charts(config)
    widgets: list[dict[str, Any]] = [
        text_widget(
            "# Heron\nThe Heron dashboard's graphs; red lines are the seed's thresholds.", 0, 2
        )
    ]
    y = 2
    note = _local_note(all_charts)
    if note:
        widgets.append(text_widget(note, y, 2))
        y += 2
    section = None
    x = 0
    for chart in all_charts:
        if chart.section != section:
            if x:
                y += CHART_HEIGHT
            section, x = chart.section, 0
            widgets.append(text_widget(f"## {SECTION_TITLES.get(section, section)}", y))
            y += HEADING_HEIGHT
        widgets.append(chart_widget(chart, region, x, y))
        x += CHART_WIDTH
        if x + CHART_WIDTH > GRID_COLUMNS:
            x, y = 0, y + CHART_HEIGHT
    return {"widgets": widgets}
