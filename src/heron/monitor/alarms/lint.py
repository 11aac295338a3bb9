"""``heron alarms lint``: find alarms that can never fire on real AWS, and say what to use instead.

An alarm watches one series, named by namespace, metric name and the *complete* set of
dimensions. On AWS it fires only if AWS publishes exactly that series. ``lint_alarm`` checks
every metric an alarm reads (its own, or each MetricStat of a metric-math alarm) against what AWS
publishes in the ``AWS/Lambda``, ``AWS/ApiGateway`` and ``AWS/DynamoDB`` namespaces (the services
Heron emulates) and reports:

- ``not-published``: AWS does not publish that metric in that namespace (``5XXError`` for an HTTP
  API, Heron-local ``MemoryUsed``, ``ConnectionErrors``, ``ActiveConnections`` ...), with the
  metric, Lambda Insights metric or log metric filter to use instead;
- ``dimensions``: AWS publishes the metric, but not with that set of dimensions (an
  ``AWS/ApiGateway`` alarm without ``ApiId`` watches nothing; ``AWS/Lambda Errors`` without
  ``FunctionName`` is fine: AWS publishes the account aggregate).

Custom namespaces (``Heron``, metric-filter namespaces) are the user's own and are not checked.
The rules are pure data; nothing here talks to AWS or the monitor.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Dims = frozenset[str]
_NONE: Dims = frozenset()


def _sets(*sets: Iterable[str]) -> tuple[Dims, ...]:
    return tuple(frozenset(s) for s in sets)


_FN = _sets(
    (), ("FunctionName",), ("FunctionName", "Resource"), ("FunctionName", "ExecutedVersion")
)
_FN_ONLY = _sets(("FunctionName",), ("FunctionName", "Resource"))
_HTTP = _sets(("ApiId",), ("ApiId", "Stage"), ("ApiId", "Method", "Resource", "Stage"))
_WS = _sets(("ApiId",), ("ApiId", "Stage"), ("ApiId", "Route", "Stage"))
_REST = _sets(("ApiName",), ("ApiName", "Stage"), ("ApiName", "Method", "Resource", "Stage"))
_TABLE = _sets(("TableName",))
_TABLE_OP = _sets(("TableName", "Operation"))
_TABLE_GSI = _sets(("TableName",), ("TableName", "GlobalSecondaryIndexName"))

#: What AWS publishes: namespace -> metric -> the dimension sets it publishes the metric with
#: (AWS service documentation: Lambda "Types of metrics", API Gateway "HTTP API metrics" /
#: "WebSocket API metrics" / "REST API metrics", DynamoDB "Metrics and dimensions").
PUBLISHED: dict[str, dict[str, tuple[Dims, ...]]] = {
    "AWS/Lambda": {
        **{m: _FN for m in ("Invocations", "Errors", "Throttles", "Duration")},
        **{
            m: _FN
            for m in (
                "DeadLetterErrors",
                "DestinationDeliveryFailures",
                "IteratorAge",
                "PostRuntimeExtensionsDuration",
                "ProvisionedConcurrencyInvocations",
                "ProvisionedConcurrencySpilloverInvocations",
                "RecursiveInvocationsDropped",
                "AsyncEventsReceived",
                "AsyncEventAge",
                "AsyncEventsDropped",
            )
        },
        "ConcurrentExecutions": _FN,
        "ProvisionedConcurrentExecutions": _FN,
        "ProvisionedConcurrencyUtilization": _FN_ONLY,
        "UnreservedConcurrentExecutions": (_NONE,),
        "ClaimedAccountConcurrency": (_NONE,),
    },
    "AWS/ApiGateway": {
        # HTTP APIs (ApiId) and WebSocket APIs share the namespace; REST APIs use ApiName.
        "Count": _HTTP + _REST,
        "4xx": _HTTP,
        "5xx": _HTTP,
        "Latency": _HTTP + _REST,
        "IntegrationLatency": _HTTP + _WS + _REST,
        "DataProcessed": _HTTP,
        "4XXError": _REST,
        "5XXError": _REST,
        "CacheHitCount": _REST,
        "CacheMissCount": _REST,
        "ConnectCount": _WS,
        "MessageCount": _WS,
        "IntegrationError": _WS,
        "ClientError": _WS,
        "ExecutionError": _WS,
    },
    "AWS/DynamoDB": {
        "SuccessfulRequestLatency": _TABLE_OP,
        "ThrottledRequests": _TABLE_OP,
        "SystemErrors": _TABLE_OP,
        "ReturnedItemCount": _TABLE_OP,
        "ReturnedBytes": _TABLE_OP,
        "ConsumedReadCapacityUnits": _TABLE_GSI,
        "ConsumedWriteCapacityUnits": _TABLE_GSI,
        "ProvisionedReadCapacityUnits": _TABLE_GSI,
        "ProvisionedWriteCapacityUnits": _TABLE_GSI,
        "ReadThrottleEvents": _TABLE_GSI,
        "WriteThrottleEvents": _TABLE_GSI,
        "ConditionalCheckFailedRequests": _TABLE,
        "TransactionConflict": _TABLE,
        "TimeToLiveDeletedItemCount": _TABLE,
        "OnlineIndexPercentageProgress": _sets(("TableName", "GlobalSecondaryIndexName")),
        "UserErrors": (_NONE,),
        "AccountMaxReads": (_NONE,),
        "AccountMaxWrites": (_NONE,),
        "AccountMaxTableLevelReads": (_NONE,),
        "AccountMaxTableLevelWrites": (_NONE,),
        "AccountProvisionedReadCapacityUtilization": (_NONE,),
        "AccountProvisionedWriteCapacityUtilization": (_NONE,),
        "MaxProvisionedTableReadCapacityUtilization": (_NONE,),
        "MaxProvisionedTableWriteCapacityUtilization": (_NONE,),
    },
}

#: Metrics AWS does not publish (most are Heron-local), and what to watch instead.
INSTEAD: dict[tuple[str, str], str] = {
    ("AWS/ApiGateway", "5XXError"): (
        "5XXError is the REST API metric; HTTP APIs publish 5xx (and 4xx) with dimension ApiId:"
        " use MetricName 5xx with Dimensions ApiId=<your API id>"
    ),
    ("AWS/ApiGateway", "4XXError"): (
        "4XXError is the REST API metric; HTTP APIs publish 4xx with dimension ApiId:"
        " use MetricName 4xx with Dimensions ApiId=<your API id>"
    ),
    ("AWS/ApiGateway", "ConnectionErrors"): (
        "WebSocket APIs publish no ConnectionErrors; failed $connect requests show as"
        " ClientError, ExecutionError and IntegrationError with Dimensions ApiId, Stage,"
        " Route=$connect (sum them with metric math)"
    ),
    ("AWS/ApiGateway", "ActiveConnections"): (
        "AWS publishes no count of open WebSocket connections: publish one yourself (an EMF"
        " metric from the $connect/$disconnect handler, or the Connections table's item count)"
    ),
    ("AWS/ApiGateway", "DisconnectCount"): (
        "AWS publishes no DisconnectCount: count $disconnect invocations (AWS/Lambda Invocations"
        " of the $disconnect handler) or log them and add a metric filter"
    ),
    ("AWS/ApiGateway", "ThrottledRequests"): (
        "HTTP APIs publish no throttle metric: throttled requests are 429s counted in 4xx; watch"
        " 4xx, or the request rate (Count / PERIOD(Count)) against the stage's rate limit"
    ),
    ("AWS/Lambda", "MemoryUsed"): (
        "AWS/Lambda has no memory metric: use Lambda Insights memory_utilization (namespace"
        " LambdaInsights, dimension function_name), or a metric filter on REPORT lines"
        " extracting Max Memory Used"
    ),
    ("AWS/Lambda", "MaxMemoryUsed"): (
        "AWS/Lambda has no memory metric: use Lambda Insights used_memory_max (namespace"
        " LambdaInsights, dimension function_name), or a metric filter on REPORT lines"
    ),
    ("AWS/Lambda", "ColdStarts"): (
        "AWS publishes no cold-start count: use Lambda Insights init_duration (namespace"
        " LambdaInsights), or a metric filter counting REPORT lines with 'Init Duration'"
    ),
    ("AWS/Lambda", "InitDuration"): (
        "AWS/Lambda has no InitDuration metric: use Lambda Insights init_duration, or a metric"
        " filter on REPORT lines extracting Init Duration"
    ),
    ("AWS/Lambda", "Timeouts"): (
        'AWS publishes no timeout count: add a metric filter for "Task timed out" on the'
        " function's log group and alarm on it"
    ),
}

_REQUIRED_HINT = {
    "AWS/ApiGateway": "ApiId=<your API id> (HTTP and WebSocket APIs) or ApiName (REST APIs)",
    "AWS/DynamoDB": "TableName (and Operation for per-request metrics)",
    "AWS/Lambda": "FunctionName",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one alarm: what is wrong and what to use instead."""

    alarm: str
    kind: str  # "not-published" | "dimensions"
    metric: str  # "Namespace MetricName {dims}"
    problem: str
    advice: str

    def as_dict(self) -> dict[str, str]:
        """The finding as JSON-able members."""
        return {
            "AlarmName": self.alarm,
            "Kind": self.kind,
            "Metric": self.metric,
            "Problem": self.problem,
            "Advice": self.advice,
        }


def _metric_label(namespace: str, name: str, dims: Iterable[str]) -> str:
    names = sorted(dims)
    return f"{namespace} {name}" + (f" [{', '.join(names)}]" if names else " [no dimensions]")


def _check(alarm: str, namespace: str, name: str, dims: Dims) -> Finding | None:
    published = PUBLISHED.get(namespace)
    if published is None:
        return None  # a custom namespace: the user publishes it
    label = _metric_label(namespace, name, dims)
    sets = published.get(name)
    if sets is None:
        advice = INSTEAD.get((namespace, name))
        if advice is None:
            close = difflib.get_close_matches(name, list(published), n=1)
            advice = (
                f"did you mean {close[0]}?" if close else f"see the {namespace} metric list"
            ) + " (or publish it yourself under a custom namespace)"
        return Finding(
            alarm,
            "not-published",
            label,
            f"AWS does not publish {name} in {namespace}; on AWS this alarm never has data",
            advice,
        )
    if dims in sets:
        return None
    wanted = " or ".join(
        "no dimensions" if not s else "{" + ", ".join(sorted(s)) + "}" for s in sets[:3]
    )
    if not dims:
        problem = (
            f"AWS publishes {name} only per {_REQUIRED_HINT.get(namespace, 'resource')}, never"
            f" without dimensions: this alarm watches a series that does not exist on AWS"
        )
    else:
        problem = f"AWS does not publish {name} with dimensions {{{', '.join(sorted(dims))}}}"
    advice = INSTEAD.get((namespace, name)) or (
        f"add the dimension {_REQUIRED_HINT[namespace]}"
        if not dims and namespace in _REQUIRED_HINT
        else f"use dimensions {wanted}"
    )
    return Finding(alarm, "dimensions", label, problem, advice)


def _metrics_of(alarm: Mapping[str, Any]) -> list[tuple[str, str, Dims]]:
    """(namespace, name, dimension names) of every metric the alarm reads."""
    out: list[tuple[str, str, Dims]] = []
    if alarm.get("MetricName") and alarm.get("Namespace"):
        dims = frozenset(str(d["Name"]) for d in alarm.get("Dimensions") or [])
        out.append((str(alarm["Namespace"]), str(alarm["MetricName"]), dims))
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric")
        if metric and metric.get("Namespace") and metric.get("MetricName"):
            dims = frozenset(str(d["Name"]) for d in metric.get("Dimensions") or [])
            out.append((str(metric["Namespace"]), str(metric["MetricName"]), dims))
    return out


def lint_alarm(alarm: Mapping[str, Any]) -> list[Finding]:
    """Every problem of one alarm (a PutMetricAlarm request or a DescribeAlarms MetricAlarm)."""
    if "AlarmRule" in alarm:
        return []  # composite alarms read other alarms, not metrics
    name = str(alarm.get("AlarmName", "?"))
    findings = []
    for namespace, metric, dims in _metrics_of(alarm):
        finding = _check(name, namespace, metric, dims)
        if finding is not None and finding not in findings:
            findings.append(finding)
    return findings


def lint_alarms(alarms: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """The findings of every alarm, in the alarms' order."""
    return [f for alarm in alarms for f in lint_alarm(alarm)]
