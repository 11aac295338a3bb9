"""The catalogue's API Gateway alarms: HTTP errors and rate, WebSocket connections and messages."""

from __future__ import annotations

from collections.abc import Sequence

from heron.monitor.alarms.catalogue import CatalogueAlarm, Target
from heron.monitor.alarms.catalogue_requests import alarm, dims, metric_math, metric_stat
from heron.types import FunctionSpec

#: The handler that delivers chat messages and publishes MessageLatency / FailedDeliveries.
MESSAGE_HANDLER = "heron.functions.messages.send_message"


def api_alarms(target: Target) -> list[CatalogueAlarm]:
    """The HTTP API's 5xx-rate and request-rate alarms and the WebSocket API's connection alarms."""
    http = dims(ApiId=target.http_api_id)
    ws = dims(ApiId=target.ws_api_id)
    connect = dims(ApiId=target.ws_api_id, Route="$connect", Stage=target.ws_stage)
    return [
        alarm(
            "HttpApi-5xxRate",
            "critical",
            "http.error_rate",
            "HTTP API: more than 5% of requests answered 5xx over 5 minutes (5xx / Count)",
            threshold=5.0,
            **metric_math(
                "100 * FILL(errors, 0) / requests",
                "5xx rate (%)",
                metric_stat("errors", "AWS/ApiGateway", "5xx", http, "Sum", 300),
                metric_stat("requests", "AWS/ApiGateway", "Count", http, "Sum", 300),
            ),
        ),
        alarm(
            "HttpApi-RequestRate",
            "warning",
            "http.throttling",
            "HTTP API: above 1000 requests/second, the stage's throttling rate",
            threshold=1000.0,
            **metric_math(
                "requests / PERIOD(requests)",
                "Requests per second",
                metric_stat("requests", "AWS/ApiGateway", "Count", http, "Sum", 60),
            ),
        ),
        alarm(
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
        alarm(
            "WebSocket-ConnectErrors",
            "critical",
            "ws.connection_errors",
            "WebSocket API: more than 10 failed $connect requests in 5 minutes",
            threshold=10.0,
            **metric_math(
                "FILL(client, 0) + FILL(execution, 0) + FILL(integration, 0)",
                "Failed connects",
                metric_stat("client", "AWS/ApiGateway", "ClientError", connect, "Sum", 300),
                metric_stat("execution", "AWS/ApiGateway", "ExecutionError", connect, "Sum", 300),
                metric_stat(
                    "integration", "AWS/ApiGateway", "IntegrationError", connect, "Sum", 300
                ),
            ),
        ),
    ]


def message_alarms(functions: Sequence[FunctionSpec]) -> list[CatalogueAlarm]:
    """Message latency and failed-delivery alarms for each function that delivers chat messages."""
    out = []
    for fn in functions:
        if fn.handler != MESSAGE_HANDLER:
            continue
        by_fn = dims(FunctionName=fn.name)
        out.append(
            alarm(
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
            alarm(
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
