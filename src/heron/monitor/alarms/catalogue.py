"""Heron's alarm catalogue: a threshold alarm for every threshold the seed names, and log patterns.

``build_catalogue(target)`` turns the deployment (its functions, tables, API ids and account
concurrency limit) into PutMetricAlarm requests and the metric filters some of them watch. Each
alarm carries a severity: ``critical`` alarms notify the ``alerts`` topic, ``warning`` alarms the
``warnings`` topic (both on ALARM and on the way back to OK), and ``covers`` names the seed
threshold it implements (``SEED_THRESHOLDS``). Alarms use the metric names and dimensions AWS
publishes wherever AWS publishes one (so they work unchanged on AWS: ``heron alarms lint``
passes them), with metric math for rates; where AWS has no metric, a CloudWatch Logs metric
filter on the function's log group makes one (memory from REPORT lines, cold starts from
``Init Duration``, timeouts from ``Task timed out``, ERROR records). WebSocket connection count
is the one exception: AWS publishes none, so the alarm watches Heron's ``ActiveConnections``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from heron.types import FunctionSpec

#: Severity -> the topic placeholder its alarms notify (the store makes it concrete).
TOPICS = {
    "critical": "arn:aws:sns:region:account:alerts",
    "warning": "arn:aws:sns:region:account:warnings",
}
#: Every threshold the seed's "Monitoring Metrics" section names, by key.
SEED_THRESHOLDS: dict[str, str] = {
    "lambda.duration.p95": "Lambda duration P95 latency: 25 seconds",
    "lambda.duration.p99": "Lambda duration P99 latency: 25 seconds",
    "lambda.timeouts": "Lambda timeout occurrences",
    "lambda.memory": "Lambda memory usage: 80% of allocated",
    "lambda.concurrency": "Lambda concurrency: 80% of limit",
    "lambda.throttles": "Lambda throttled requests",
    "lambda.error_rate": "Lambda error rate: 1%",
    "lambda.cold_start_rate": "Lambda cold start rate: 20%",
    "http.error_rate": "HTTP API error rate: 5%",
    "http.throttling": "HTTP API throttling: 1000 requests/second",
    "ws.connections": "WebSocket connections: 10000",
    "ws.connection_errors": "WebSocket connection errors",
    "ws.message_latency": "WebSocket message latency: 100 ms",
    "ws.failed_deliveries": "WebSocket failed deliveries",
    "dynamodb.consumed_capacity": "DynamoDB consumed capacity: 80% of provisioned",
    "dynamodb.read_latency": "DynamoDB read latency: 100 ms",
    "dynamodb.write_latency": "DynamoDB write latency: 100 ms",
    "dynamodb.throttle_rate": "DynamoDB throttled requests: 1% error rate",
    "dynamodb.system_error_rate": "DynamoDB system errors: 1% error rate",
    "dynamodb.user_error_rate": "DynamoDB user errors: 1% error rate",
    "logs.error_records": "Log pattern: ERROR records",
    "logs.task_timed_out": "Log pattern: Task timed out",
}
#: Where the log-pattern metric filters publish.
LOG_NAMESPACE = "Heron/LogPatterns"
#: DynamoDB's default table-level throughput ceiling for on-demand tables (units per second).
ON_DEMAND_TABLE_MAX = 40_000
READ_OPERATIONS = ("GetItem", "Query", "Scan")
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
#: The handler that delivers chat messages and publishes MessageLatency / FailedDeliveries.
MESSAGE_HANDLER = "heron.functions.messages.send_message"
#: Metric filter patterns (CloudWatch Logs syntax).
ERROR_PATTERN = '{ $.level = "ERROR" }'
TIMEOUT_PATTERN = '"Task timed out"'
COLD_START_PATTERN = '"REPORT" "Init Duration"'
REPORT_PATTERN = (
    '[report="REPORT", rid_label, request_id, d_label, duration, d_unit, b1, b2, billed, b_unit,'
    ' m1, m2, memory_size, m_unit, mm1="Max", mm2="Memory", mm3="Used:", max_memory_used,'
    " mm_unit, ...]"
)
_MAX_METRIC_STATS = 10

#: Fewest invocations in a period for which an error *rate* alarm judges the function.
MIN_INVOCATIONS_FOR_RATE = 20


@dataclass(frozen=True, slots=True)
class TableTarget:
    """A DynamoDB table the catalogue watches: its name and provisioned (read, write) units."""

    name: str
    provisioned: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What the catalogue is built for."""

    functions: tuple[FunctionSpec, ...]
    tables: tuple[TableTarget, ...] = ()
    http_api_id: str = "local-http"
    ws_api_id: str = "local-ws"
    ws_stage: str = "local"
    account_concurrency: int = 1000


@dataclass(frozen=True, slots=True)
class CatalogueAlarm:
    """One catalogue alarm: its PutMetricAlarm request, severity and the seed threshold it covers."""

    request: dict[str, Any]
    severity: str
    covers: str

    @property
    def name(self) -> str:
        """The alarm's name."""
        return str(self.request["AlarmName"])


@dataclass(frozen=True, slots=True)
class MetricFilterSpec:
    """A metric filter to install: log group, filter name, pattern and its one transformation."""

    group: str
    name: str
    pattern: str
    transformation: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The PutMetricFilter request shape."""
        return {
            "logGroupName": self.group,
            "filterName": self.name,
            "filterPattern": self.pattern,
            "metricTransformations": [self.transformation],
        }


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The catalogue's alarms and metric filters."""

    alarms: tuple[CatalogueAlarm, ...]
    filters: tuple[MetricFilterSpec, ...] = field(default=())

    def document(self) -> dict[str, Any]:
        """The JSON document shipped as ``alarms/catalogue/catalogue.json``."""
        return {
            "MetricFilters": [f.as_dict() for f in self.filters],
            "MetricAlarms": [a.request for a in self.alarms],
        }


# -- request builders ------------------------------------------------------------------------


def _dims(**pairs: str) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in pairs.items()]


def _stat(
    ident: str, namespace: str, metric: str, dims: list[dict[str, str]], stat: str, period: int
) -> dict[str, Any]:
    return {
        "Id": ident,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": False,
    }


def _alarm(
    name: str,
    severity: str,
    covers: str,
    description: str,
    *,
    threshold: float,
    operator: str = "GreaterThanThreshold",
    evaluation_periods: int = 1,
    datapoints: int | None = None,
    missing: str = "notBreaching",
    **metric: Any,
) -> CatalogueAlarm:
    topic = TOPICS[severity]
    request: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": f"{description} [{severity}; seed: {SEED_THRESHOLDS[covers]}]",
        "ActionsEnabled": True,
        "OKActions": [topic],
        "AlarmActions": [topic],
        **metric,
        "EvaluationPeriods": evaluation_periods,
        "Threshold": threshold,
        "ComparisonOperator": operator,
        "TreatMissingData": missing,
        "Tags": [
            {"Key": "severity", "Value": severity},
            {"Key": "heron:catalogue", "Value": covers},
        ],
    }
    if datapoints is not None:
        request["DatapointsToAlarm"] = datapoints
    return CatalogueAlarm(request, severity, covers)


def _math(expression: str, label: str, *stats: dict[str, Any]) -> dict[str, Any]:
    if len(stats) > _MAX_METRIC_STATS:
        raise ValueError(f"{label}: {len(stats)} metrics, CloudWatch allows {_MAX_METRIC_STATS}")
    return {
        "Metrics": [
            *stats,
            {"Id": "result", "Expression": expression, "Label": label, "ReturnData": True},
        ]
    }


# -- the catalogue, by service ---------------------------------------------------------------


def _lambda_alarms(fn: FunctionSpec) -> list[CatalogueAlarm]:
    name, by_fn = fn.name, _dims(FunctionName=fn.name)
    out = [
        _alarm(
            f"{name}-DurationP{p}",
            "warning",
            f"lambda.duration.p{p}",
            f"{name}: p{p} duration above 25 s over 5 minutes",
            threshold=25_000.0,
            Namespace="AWS/Lambda",
            MetricName="Duration",
            Dimensions=by_fn,
            ExtendedStatistic=f"p{p}",
            Period=300,
        )
        for p in (95, 99)
    ]
    out.append(
        _alarm(
            f"{name}-ErrorRate",
            "critical",
            "lambda.error_rate",
            f"{name}: more than 1% of invocations failed over 5 minutes (Errors / Invocations;"
            f" judged from {MIN_INVOCATIONS_FOR_RATE} invocations up, below that LambdaErrors"
            " and Errors alarms speak)",
            threshold=1.0,
            **_math(
                # A rarely-invoked function would flap between 0 % and 100 % on single errors.
                f"IF(invocations >= {MIN_INVOCATIONS_FOR_RATE},"
                " 100 * FILL(errors, 0) / invocations, 0)",
                "Error rate (%)",
                _stat("errors", "AWS/Lambda", "Errors", by_fn, "Sum", 300),
                _stat("invocations", "AWS/Lambda", "Invocations", by_fn, "Sum", 300),
            ),
        )
    )
    out.append(
        _alarm(
            f"{name}-Throttles",
            "warning",
            "lambda.throttles",
            f"{name}: invocations throttled (concurrency limit reached)",
            threshold=0.0,
            Namespace="AWS/Lambda",
            MetricName="Throttles",
            Dimensions=by_fn,
            Statistic="Sum",
            Period=300,
        )
    )
    out.append(
        _alarm(
            f"{name}-ColdStartRate",
            "warning",
            "lambda.cold_start_rate",
            f"{name}: more than 20% of invocations were cold starts, 15 minutes running "
            "(REPORT lines with Init Duration / Invocations)",
            threshold=20.0,
            evaluation_periods=3,
            **_math(
                "100 * FILL(coldstarts, 0) / invocations",
                "Cold start rate (%)",
                _stat("coldstarts", LOG_NAMESPACE, f"{name}ColdStarts", [], "Sum", 300),
                _stat("invocations", "AWS/Lambda", "Invocations", by_fn, "Sum", 300),
            ),
        )
    )
    out.append(
        _alarm(
            f"{name}-MemoryUtilization",
            "warning",
            "lambda.memory",
            f"{name}: Max Memory Used above 80% of its {fn.memory_mb} MB (REPORT lines)",
            threshold=round(0.8 * fn.memory_mb, 1),
            Namespace=LOG_NAMESPACE,
            MetricName=f"{name}MaxMemoryUsed",
            Statistic="Maximum",
            Period=300,
        )
    )
    if fn.reserved_concurrency:
        out.append(_concurrency(f"{name}-Concurrency", by_fn, fn.reserved_concurrency))
    out.append(
        _alarm(
            f"{name}-TaskTimedOut",
            "critical",
            "lambda.timeouts",
            f"{name}: an invocation ran past its {fn.timeout_s:g} s timeout ('Task timed out')",
            threshold=0.0,
            Namespace=LOG_NAMESPACE,
            MetricName=f"{name}TaskTimeouts",
            Statistic="Sum",
            Period=300,
        )
    )
    out.append(
        _alarm(
            f"{name}-ErrorRecords",
            "warning",
            "logs.error_records",
            f"{name}: the handler logged ERROR records",
            threshold=0.0,
            Namespace=LOG_NAMESPACE,
            MetricName=f"{name}ErrorRecords",
            Statistic="Sum",
            Period=300,
        )
    )
    return out


def _concurrency(name: str, dims: list[dict[str, str]], limit: int) -> CatalogueAlarm:
    return _alarm(
        name,
        "warning",
        "lambda.concurrency",
        f"Concurrent executions above 80% of the limit of {limit}, 3 of 5 minutes",
        threshold=80.0,
        evaluation_periods=5,
        datapoints=3,
        **_math(
            f"100 * concurrent / {limit}",
            "Concurrency (% of limit)",
            _stat("concurrent", "AWS/Lambda", "ConcurrentExecutions", dims, "Maximum", 60),
        ),
    )


def _log_filters(fn: FunctionSpec) -> list[MetricFilterSpec]:
    group = f"/aws/lambda/{fn.name}"

    def metric(name: str, value: str, unit: str | None = None) -> dict[str, Any]:
        out = {"metricName": f"{fn.name}{name}", "metricNamespace": LOG_NAMESPACE}
        out["metricValue"] = value
        if unit:
            out["unit"] = unit
        return out

    return [
        MetricFilterSpec(group, "ErrorRecords", ERROR_PATTERN, metric("ErrorRecords", "1")),
        MetricFilterSpec(group, "TaskTimeouts", TIMEOUT_PATTERN, metric("TaskTimeouts", "1")),
        MetricFilterSpec(group, "ColdStarts", COLD_START_PATTERN, metric("ColdStarts", "1")),
        MetricFilterSpec(
            group,
            "MaxMemoryUsed",
            REPORT_PATTERN,
            metric("MaxMemoryUsed", "$max_memory_used", "Megabytes"),
        ),
    ]


def _api_alarms(target: Target) -> list[CatalogueAlarm]:
    http = _dims(ApiId=target.http_api_id)
    ws = _dims(ApiId=target.ws_api_id)
    connect = _dims(ApiId=target.ws_api_id, Route="$connect", Stage=target.ws_stage)
    return [
        _alarm(
            "HttpApi-5xxRate",
            "critical",
            "http.error_rate",
            "HTTP API: more than 5% of requests answered 5xx over 5 minutes (5xx / Count)",
            threshold=5.0,
            **_math(
                "100 * FILL(errors, 0) / requests",
                "5xx rate (%)",
                _stat("errors", "AWS/ApiGateway", "5xx", http, "Sum", 300),
                _stat("requests", "AWS/ApiGateway", "Count", http, "Sum", 300),
            ),
        ),
        _alarm(
            "HttpApi-RequestRate",
            "warning",
            "http.throttling",
            "HTTP API: above 1000 requests/second, the stage's throttling rate",
            threshold=1000.0,
            **_math(
                "requests / PERIOD(requests)",
                "Requests per second",
                _stat("requests", "AWS/ApiGateway", "Count", http, "Sum", 60),
            ),
        ),
        _alarm(
            "WebSocket-Connections",
            "warning",
            "ws.connections",
            "WebSocket API: more than 10000 open connections (Heron's ActiveConnections gauge;"
            " AWS publishes no connection count)",
            threshold=10_000.0,
            Namespace="AWS/ApiGateway",
            MetricName="ActiveConnections",
            Dimensions=ws,
            Statistic="Maximum",
            Period=60,
        ),
        _alarm(
            "WebSocket-ConnectErrors",
            "critical",
            "ws.connection_errors",
            "WebSocket API: more than 10 failed $connect requests in 5 minutes",
            threshold=10.0,
            **_math(
                "FILL(client, 0) + FILL(execution, 0) + FILL(integration, 0)",
                "Failed connects",
                _stat("client", "AWS/ApiGateway", "ClientError", connect, "Sum", 300),
                _stat("execution", "AWS/ApiGateway", "ExecutionError", connect, "Sum", 300),
                _stat("integration", "AWS/ApiGateway", "IntegrationError", connect, "Sum", 300),
            ),
        ),
    ]


def _message_alarms(functions: Sequence[FunctionSpec]) -> list[CatalogueAlarm]:
    out = []
    for fn in functions:
        if fn.handler != MESSAGE_HANDLER:
            continue
        by_fn = _dims(FunctionName=fn.name)
        out.append(
            _alarm(
                f"{fn.name}-MessageLatencyP95",
                "warning",
                "ws.message_latency",
                f"{fn.name}: p95 message delivery latency above 100 ms over 5 minutes",
                threshold=100.0,
                Namespace="Heron",
                MetricName="MessageLatency",
                Dimensions=by_fn,
                ExtendedStatistic="p95",
                Period=300,
            )
        )
        out.append(
            _alarm(
                f"{fn.name}-FailedDeliveries",
                "warning",
                "ws.failed_deliveries",
                f"{fn.name}: more than 10 deliveries to stale connections failed in 5 minutes",
                threshold=10.0,
                Namespace="Heron",
                MetricName="FailedDeliveries",
                Dimensions=by_fn,
                Statistic="Sum",
                Period=300,
            )
        )
    return out


def _table_alarms(table: TableTarget) -> list[CatalogueAlarm]:
    t = table.name
    by_table = _dims(TableName=t)

    def per_op(metric: str, prefix: str, ops: Sequence[str], stat: str) -> list[dict[str, Any]]:
        return [
            _stat(
                f"{prefix}{op.lower()}",
                "AWS/DynamoDB",
                metric,
                _dims(Operation=op, TableName=t),
                stat,
                300,
            )
            for op in ops
        ]

    requests = [
        _stat("reads", "AWS/DynamoDB", "ConsumedReadCapacityUnits", by_table, "SampleCount", 300),
        _stat("writes", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", by_table, "SampleCount", 300),
    ]
    out = []
    for direction, index in (("Read", 0), ("Write", 1)):
        limit = table.provisioned[index] if table.provisioned else ON_DEMAND_TABLE_MAX
        kind = "provisioned" if table.provisioned else "on-demand table maximum"
        out.append(
            _alarm(
                f"DynamoDB-{t}-Consumed{direction}Capacity",
                "warning",
                "dynamodb.consumed_capacity",
                f"{t}: consumed {direction.lower()} capacity above 80% of {limit} units/s ({kind})",
                threshold=80.0,
                **_math(
                    f"100 * (consumed / PERIOD(consumed)) / {limit}",
                    f"Consumed {direction.lower()} capacity (%)",
                    _stat(
                        "consumed",
                        "AWS/DynamoDB",
                        f"Consumed{direction}CapacityUnits",
                        by_table,
                        "Sum",
                        300,
                    ),
                ),
            )
        )
    for direction, ops in (("Read", READ_OPERATIONS), ("Write", WRITE_OPERATIONS)):
        stats = per_op("SuccessfulRequestLatency", "latency", ops, "Average")
        ids = ", ".join(s["Id"] for s in stats)
        out.append(
            _alarm(
                f"DynamoDB-{t}-{direction}Latency",
                "warning",
                f"dynamodb.{direction.lower()}_latency",
                f"{t}: average {direction.lower()} latency above 100 ms ({', '.join(ops)})",
                threshold=100.0,
                **_math(f"MAX([{ids}])", f"{direction} latency (ms)", *stats),
            )
        )
    out.append(
        _alarm(
            f"DynamoDB-{t}-ThrottleRate",
            "warning",
            "dynamodb.throttle_rate",
            f"{t}: more than 1% of requests throttled over 5 minutes",
            threshold=1.0,
            **_math(
                "100 * (FILL(rt, 0) + FILL(wt, 0)) / "
                "(FILL(reads, 0) + FILL(writes, 0) + FILL(rt, 0) + FILL(wt, 0))",
                "Throttled requests (%)",
                _stat("rt", "AWS/DynamoDB", "ReadThrottleEvents", by_table, "Sum", 300),
                _stat("wt", "AWS/DynamoDB", "WriteThrottleEvents", by_table, "Sum", 300),
                *requests,
            ),
        )
    )
    errors = per_op("SystemErrors", "se", READ_OPERATIONS + WRITE_OPERATIONS, "Sum")
    ids = ", ".join(s["Id"] for s in errors)
    out.append(
        _alarm(
            f"DynamoDB-{t}-SystemErrorRate",
            "critical",
            "dynamodb.system_error_rate",
            f"{t}: more than 1% of requests failed with a DynamoDB system error (HTTP 500)",
            threshold=1.0,
            **_math(
                f"100 * SUM(FILL([{ids}], 0)) / (FILL(reads, 0) + FILL(writes, 0))",
                "System errors (%)",
                *errors,
                *requests,
            ),
        )
    )
    return out


def _user_error_alarm(tables: Sequence[TableTarget]) -> CatalogueAlarm:
    # UserErrors is account-wide; the denominator adds up the tables' requests (four tables fit
    # the ten-metric limit with the numerator: the catalogue watches the first four).
    watched = tables[:4]
    stats = [
        _stat("usererrors", "AWS/DynamoDB", "UserErrors", [], "Sum", 300),
    ]
    terms = []
    for i, table in enumerate(watched):
        for kind, metric in (
            ("r", "ConsumedReadCapacityUnits"),
            ("w", "ConsumedWriteCapacityUnits"),
        ):
            ident = f"{kind}{i}"
            stats.append(
                _stat(
                    ident, "AWS/DynamoDB", metric, _dims(TableName=table.name), "SampleCount", 300
                )
            )
            terms.append(f"FILL({ident}, 0)")
    names = ", ".join(t.name for t in watched)
    return _alarm(
        "DynamoDB-UserErrorRate",
        "warning",
        "dynamodb.user_error_rate",
        f"DynamoDB: more than 1% of requests rejected as invalid (HTTP 400) over 5 minutes"
        f" (requests of {names})",
        threshold=1.0,
        **_math(
            f"100 * FILL(usererrors, 0) / ({' + '.join(terms)})",
            "User errors (%)",
            *stats,
        ),
    )


def build_catalogue(target: Target) -> Catalogue:
    """Every catalogue alarm and metric filter for ``target``, in a stable order."""
    alarms: list[CatalogueAlarm] = []
    filters: list[MetricFilterSpec] = []
    alarms.append(
        _concurrency("Lambda-AccountConcurrency", [], target.account_concurrency),
    )
    for fn in target.functions:
        alarms.extend(_lambda_alarms(fn))
        filters.extend(_log_filters(fn))
    alarms.extend(_api_alarms(target))
    alarms.extend(_message_alarms(target.functions))
    for table in target.tables:
        alarms.extend(_table_alarms(table))
    if target.tables:
        alarms.append(_user_error_alarm(target.tables))
    names = [a.name for a in alarms]
    if len(set(names)) != len(names):
        raise ValueError("catalogue alarm names collide; rename a function or table")
    return Catalogue(tuple(alarms), tuple(filters))
