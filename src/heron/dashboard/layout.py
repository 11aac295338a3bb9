"""What the dashboard shows: the seed's twelve resources and the performance graphs.

``DashboardConfig`` names the resources (functions with their memory sizes, the two APIs, the
four tables); ``charts(config)`` builds the graphs, each with the seed's thresholds drawn on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.dashboard import thresholds as th
from heron.dashboard.queries import Chart, Query, Series, Threshold
from heron.types import Dimensions, FunctionSpec, MetricDatum

#: The seed diagram's six functions, in its order.
SEED_FUNCTIONS = (
    "createUser",
    "getUser",
    "updateUser",
    "deleteUser",
    "sendMessage",
    "connectionHandler",
)
SEED_TABLES = ("Users", "Messages", "Notifications", "Connections")

LAMBDA = "AWS/Lambda"
APIGW = "AWS/ApiGateway"
DDB = "AWS/DynamoDB"
HERON = "Heron"


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A function tile's identity: its name and allocated memory."""

    name: str
    memory_mb: int = 128


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """The resources the dashboard shows and the limits it compares them with."""

    functions: tuple[FunctionInfo, ...] = tuple(FunctionInfo(f) for f in SEED_FUNCTIONS)
    tables: tuple[str, ...] = SEED_TABLES
    http_api_id: str = "local-http"
    ws_api_id: str = "local-ws"
    account_concurrency: int = 1000
    #: Tables in provisioned mode: their capacity graphs add the provisioned line.
    provisioned: tuple[str, ...] = ()

    @staticmethod
    def from_specs(
        specs: Sequence[FunctionSpec],
        *,
        tables: Sequence[str] = SEED_TABLES,
        http_api_id: str = "local-http",
        ws_api_id: str = "local-ws",
        account_concurrency: int = 1000,
        provisioned: Sequence[str] = (),
    ) -> DashboardConfig:
        """The seed's six functions with the memory sizes that ``specs`` declare for them."""
        memory = {s.name: s.memory_mb for s in specs}
        return DashboardConfig(
            functions=tuple(FunctionInfo(f, memory.get(f, 128)) for f in SEED_FUNCTIONS),
            tables=tuple(tables),
            http_api_id=http_api_id,
            ws_api_id=ws_api_id,
            account_concurrency=account_concurrency,
            provisioned=tuple(provisioned),
        )


def fn_dims(name: str) -> Dimensions:
    """Dimensions of a function's metrics."""
    return MetricDatum.dims({"FunctionName": name})


def api_dims(api_id: str) -> Dimensions:
    """Dimensions of one API's metrics."""
    return MetricDatum.dims({"ApiId": api_id})


def table_dims(table: str) -> Dimensions:
    """Dimensions of one table's metrics."""
    return MetricDatum.dims({"TableName": table})


def lam(name: str, fn: str, stat: str) -> Query:
    """An AWS/Lambda query for one function."""
    return Query(LAMBDA, name, fn_dims(fn), stat)


def _function_charts(config: DashboardConfig) -> list[Chart]:
    fns = config.functions
    duration_line = Threshold(th.LAMBDA_DURATION_MS, "25 s timeout threshold")
    out = [
        Chart(
            f"duration-{f.name}",
            "functions",
            f"{f.name} duration",
            "ms",
            tuple(Series(p, (lam("Duration", f.name, p),)) for p in ("p50", "p95", "p99")),
            (duration_line,),
        )
        for f in fns
    ]
    rate = "error rate"
    out += [
        Chart(
            "function-error-rate",
            "functions",
            "Function error rate",
            "%",
            tuple(
                Series(
                    f.name,
                    (lam("Errors", f.name, "Sum"), lam("Invocations", f.name, "Sum")),
                    "ratio",
                )
                for f in fns
            ),
            (Threshold(th.LAMBDA_ERROR_RATE_PCT, f"1 % {rate}"),),
        ),
        Chart(
            "function-invocations",
            "functions",
            "Invocations",
            "count",
            tuple(Series(f.name, (lam("Invocations", f.name, "Sum"),)) for f in fns),
        ),
        Chart(
            "function-memory",
            "functions",
            "Memory used (% of allocated)",
            "%",
            tuple(
                Series(f"{f.name} ({f.memory_mb} MB)", (lam("MemoryUsed", f.name, "Maximum"),))
                for f in fns
            ),
            (Threshold(th.LAMBDA_MEMORY_PCT, "80 % of allocated"),),
        ),
        Chart(
            "function-concurrency",
            "functions",
            "Concurrent executions",
            "count",
            tuple(Series(f.name, (lam("ConcurrentExecutions", f.name, "Maximum"),)) for f in fns),
            (
                Threshold(
                    config.account_concurrency * th.LAMBDA_CONCURRENCY_PCT / 100,
                    f"80 % of the {config.account_concurrency} limit",
                ),
            ),
        ),
        Chart(
            "function-throttles",
            "functions",
            "Throttles",
            "count",
            tuple(Series(f.name, (lam("Throttles", f.name, "Sum"),)) for f in fns),
        ),
        Chart(
            "function-cold-starts",
            "functions",
            "Cold-start rate",
            "%",
            tuple(
                Series(
                    f.name,
                    (lam("ColdStarts", f.name, "Sum"), lam("Invocations", f.name, "Sum")),
                    "ratio",
                )
                for f in fns
            ),
            (Threshold(th.LAMBDA_COLD_START_RATE_PCT, "20 % cold starts"),),
        ),
    ]
    return out


def _api_charts(config: DashboardConfig) -> list[Chart]:
    http = api_dims(config.http_api_id)
    ws = api_dims(config.ws_api_id)

    def h(name: str, stat: str) -> Query:
        return Query(APIGW, name, http, stat)

    def w(name: str, stat: str) -> Query:
        return Query(APIGW, name, ws, stat)

    send = fn_dims("sendMessage")
    return [
        Chart(
            "http-requests",
            "http",
            "HTTP API requests",
            "count",
            (
                Series("requests", (h("Count", "Sum"),)),
                Series("4xx", (h("4xx", "Sum"),)),
                Series("5xx", (h("5xx", "Sum"),)),
            ),
        ),
        Chart(
            "http-error-rate",
            "http",
            "HTTP API error rate",
            "%",
            (
                Series("4xx", (h("4xx", "Sum"), h("Count", "Sum")), "ratio"),
                Series("5xx", (h("5xx", "Sum"), h("Count", "Sum")), "ratio"),
            ),
            (Threshold(th.API_ERROR_RATE_PCT, "5 % error rate"),),
        ),
        Chart(
            "http-latency",
            "http",
            "HTTP API latency",
            "ms",
            (
                Series("average", (h("Latency", "Average"),)),
                Series("p99", (h("Latency", "p99"),)),
            ),
            (Threshold(th.API_LATENCY_MS, "1,000 ms"),),
        ),
        Chart(
            "ws-connections",
            "websocket",
            "WebSocket active connections",
            "count",
            (Series("active", (w("ActiveConnections", "Maximum"),)),),
            (Threshold(th.WS_CONNECTIONS, "10,000 connections"),),
        ),
        Chart(
            "ws-messages",
            "websocket",
            "WebSocket messages",
            "count",
            (
                Series("messages in", (w("MessageCount", "Sum"),)),
                Series("messages sent", (Query(HERON, "MessagesSent", send, "Sum"),)),
                Series("connects", (w("ConnectCount", "Sum"),)),
            ),
        ),
        Chart(
            "ws-latency",
            "websocket",
            "Message latency",
            "ms",
            (
                Series("p50", (Query(HERON, "MessageLatency", send, "p50"),)),
                Series("p99", (Query(HERON, "MessageLatency", send, "p99"),)),
            ),
            (Threshold(th.WS_MESSAGE_LATENCY_MS, "100 ms"),),
        ),
        Chart(
            "ws-failures",
            "websocket",
            "Failed deliveries and connection errors",
            "count",
            (
                Series("failed deliveries", (Query(HERON, "FailedDeliveries", send, "Sum"),)),
                Series("connection errors", (w("ConnectionErrors", "Sum"),)),
            ),
            (Threshold(th.WS_CONNECTION_ERRORS_5MIN, "10 errors (per 5 min alarm)"),),
        ),
    ]


def table_query(name: str, table: str, stat: str) -> Query:
    """A table metric summed or maxed over the table's operations."""
    return Query(DDB, name, table_dims(table), stat, expand="Operation")


def _capacity_series(config: DashboardConfig, kind: str) -> tuple[Series, ...]:
    """Each table's consumed units per second, then its provisioned units (a dashed line) when
    the table is in provisioned mode (on-demand tables have no provisioned metric, as on AWS)."""
    out: list[Series] = []
    for t in config.tables:
        consumed = Query(DDB, f"Consumed{kind}CapacityUnits", table_dims(t), "Sum")
        out.append(Series(t, (consumed,), "per_second"))
    for t in config.tables:
        if t in config.provisioned:
            limit = Query(DDB, f"Provisioned{kind}CapacityUnits", table_dims(t), "Maximum")
            out.append(Series(f"{t} provisioned", (limit,), limit_of=t))
    return tuple(out)


def _table_charts(config: DashboardConfig) -> list[Chart]:
    tables = config.tables
    return [
        Chart(
            "table-rcu",
            "tables",
            "Read capacity: consumed vs provisioned (RCU/s)",
            "units/s",
            _capacity_series(config, "Read"),
        ),
        Chart(
            "table-wcu",
            "tables",
            "Write capacity: consumed vs provisioned (WCU/s)",
            "units/s",
            _capacity_series(config, "Write"),
        ),
        Chart(
            "table-latency",
            "tables",
            "Request latency (slowest operation, average)",
            "ms",
            tuple(
                Series(t, (table_query("SuccessfulRequestLatency", t, "Average"),)) for t in tables
            ),
            (Threshold(th.TABLE_LATENCY_MS, "100 ms"),),
        ),
        Chart(
            "table-error-rate",
            "tables",
            "Table error rate (throttled + system errors)",
            "%",
            tuple(
                Series(
                    t,
                    (
                        table_query("ThrottledRequests", t, "Sum"),
                        table_query("SystemErrors", t, "Sum"),
                        table_query("SuccessfulRequestLatency", t, "SampleCount"),
                    ),
                    "ratio",
                )
                for t in tables
            ),
            (Threshold(th.TABLE_ERROR_RATE_PCT, "1 % error rate"),),
        ),
        Chart(
            "table-errors",
            "tables",
            "Throttled requests and system errors",
            "count",
            tuple(
                s
                for t in tables
                for s in (
                    Series(f"{t} throttled", (table_query("ThrottledRequests", t, "Sum"),)),
                    Series(f"{t} system errors", (table_query("SystemErrors", t, "Sum"),)),
                )
            ),
        ),
    ]


def charts(config: DashboardConfig) -> list[Chart]:
    """Every performance graph of the overview, in page order."""
    return [*_function_charts(config), *_api_charts(config), *_table_charts(config)]
