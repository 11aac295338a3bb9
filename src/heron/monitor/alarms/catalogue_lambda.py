"""The catalogue's Lambda alarms and the log-group metric filters some of them watch."""

from __future__ import annotations

from typing import Any

from heron.monitor.alarms.catalogue import (
    COLD_START_PATTERN,
    ERROR_PATTERN,
    LOG_NAMESPACE,
    REPORT_PATTERN,
    TIMEOUT_PATTERN,
    CatalogueAlarm,
    MetricFilterSpec,
)
from heron.monitor.alarms.catalogue_requests import alarm, dims, metric_math, metric_stat
from heron.types import FunctionSpec

#: Fewest invocations in a period for which an error *rate* alarm judges the function.
MIN_INVOCATIONS_FOR_RATE = 20


def lambda_alarms(fn: FunctionSpec) -> list[CatalogueAlarm]:
    """One function's alarms: duration, error rate, throttles, cold starts, memory, timeouts, ERRORs."""
    name, by_fn = fn.name, dims(FunctionName=fn.name)
    out = [
        alarm(
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
        alarm(
            f"{name}-ErrorRate",
            "critical",
            "lambda.error_rate",
            f"{name}: more than 1% of invocations failed over 5 minutes (Errors / Invocations;"
            f" judged from {MIN_INVOCATIONS_FOR_RATE} invocations up, below that LambdaErrors"
            " and Errors alarms speak)",
            threshold=1.0,
            **metric_math(
                # A rarely-invoked function would flap between 0 % and 100 % on single errors.
                f"IF(invocations >= {MIN_INVOCATIONS_FOR_RATE},"
                " 100 * FILL(errors, 0) / invocations, 0)",
                "Error rate (%)",
                metric_stat("errors", "AWS/Lambda", "Errors", by_fn, "Sum", 300),
                metric_stat("invocations", "AWS/Lambda", "Invocations", by_fn, "Sum", 300),
            ),
        )
    )
    out.append(
        alarm(
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
        alarm(
            f"{name}-ColdStartRate",
            "warning",
            "lambda.cold_start_rate",
            f"{name}: more than 20% of invocations were cold starts, 15 minutes running "
            "(REPORT lines with Init Duration / Invocations)",
            threshold=20.0,
            evaluation_periods=3,
            **metric_math(
                "100 * FILL(coldstarts, 0) / invocations",
                "Cold start rate (%)",
                metric_stat("coldstarts", LOG_NAMESPACE, f"{name}ColdStarts", [], "Sum", 300),
                metric_stat("invocations", "AWS/Lambda", "Invocations", by_fn, "Sum", 300),
            ),
        )
    )
    out.append(
        alarm(
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
        out.append(concurrency_alarm(f"{name}-Concurrency", by_fn, fn.reserved_concurrency))
    out.append(
        alarm(
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
        alarm(
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


def concurrency_alarm(name: str, dimensions: list[dict[str, str]], limit: int) -> CatalogueAlarm:
    """An alarm on concurrent executions (of ``dimensions``, or the account) above 80% of ``limit``."""
    return alarm(
        name,
        "warning",
        "lambda.concurrency",
        f"Concurrent executions above 80% of the limit of {limit}, 3 of 5 minutes",
        threshold=80.0,
        evaluation_periods=5,
        datapoints=3,
        **metric_math(
            f"100 * concurrent / {limit}",
            "Concurrency (% of limit)",
            metric_stat(
                "concurrent", "AWS/Lambda", "ConcurrentExecutions", dimensions, "Maximum", 60
            ),
        ),
    )


def log_filters(fn: FunctionSpec) -> list[MetricFilterSpec]:
    """The metric filters on one function's log group that make the metrics AWS does not publish."""
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
