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
This module holds the catalogue's vocabulary; the alarm families are ``catalogue_lambda``,
``catalogue_api`` and ``catalogue_dynamodb``, written with ``catalogue_requests``' builders.
"""

from __future__ import annotations

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
#: Metric filter patterns (CloudWatch Logs syntax).
ERROR_PATTERN = '{ $.level = "ERROR" }'
TIMEOUT_PATTERN = '"Task timed out"'
COLD_START_PATTERN = '"REPORT" "Init Duration"'
REPORT_PATTERN = (
    '[report="REPORT", rid_label, request_id, d_label, duration, d_unit, b1, b2, billed, b_unit,'
    ' m1, m2, memory_size, m_unit, mm1="Max", mm2="Memory", mm3="Used:", max_memory_used,'
    " mm_unit, ...]"
)


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


def build_catalogue(target: Target) -> Catalogue:
    """Every catalogue alarm and metric filter for ``target``, in a stable order."""
    # The alarm families build on this module's types, so they are imported when first used.
    from heron.monitor.alarms.catalogue_api import api_alarms, message_alarms
    from heron.monitor.alarms.catalogue_dynamodb import table_alarms, user_error_alarm
    from heron.monitor.alarms.catalogue_lambda import concurrency_alarm, lambda_alarms, log_filters

    alarms: list[CatalogueAlarm] = []
    filters: list[MetricFilterSpec] = []
    alarms.append(
        concurrency_alarm("Lambda-AccountConcurrency", [], target.account_concurrency),
    )
    for fn in target.functions:
        alarms.extend(lambda_alarms(fn))
        filters.extend(log_filters(fn))
    alarms.extend(api_alarms(target))
    alarms.extend(message_alarms(target.functions))
    for table in target.tables:
        alarms.extend(table_alarms(table))
    if target.tables:
        alarms.append(user_error_alarm(target.tables))
    names = [a.name for a in alarms]
    if len(set(names)) != len(names):
        raise ValueError("catalogue alarm names collide; rename a function or table")
    return Catalogue(tuple(alarms), tuple(filters))
