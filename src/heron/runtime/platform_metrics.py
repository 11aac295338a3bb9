"""The ``AWS/Lambda`` datums the runtime publishes per invocation, as pure functions.

Each metric AWS publishes per function is emitted twice, as AWS does: once with the dimension
``FunctionName`` and once with no dimensions (the account-wide aggregate).
``UnreservedConcurrentExecutions`` exists only as the aggregate.

Heron also emits a few metrics AWS does **not** publish (marked *Heron-local* below) so the
seed's alarms and dashboards work: ``MemoryUsed`` (percent of configured memory, watched by the
seed's HighMemoryUsage alarm), ``MaxMemoryUsed``, ``ColdStarts``, ``InitDuration`` and
``Timeouts``. On AWS the same facts come from REPORT lines or Lambda Insights.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.types import MetricDatum

NAMESPACE = "AWS/Lambda"
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConcurrencySnapshot:
    """In-flight counts right after an invocation was admitted."""

    function: int
    account: int
    unreserved: int
    #: Busy and configured provisioned environments, for the function and the whole account.
    provisioned_busy_function: int = 0
    provisioned_configured_function: int = 0
    provisioned_busy_account: int = 0
    provisioned_configured_account: int = 0


@dataclass(frozen=True, slots=True)
class InvocationFacts:
    """What happened in one invocation, as far as metrics care."""

    function_name: str
    timestamp_ms: int
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    error: bool = False
    timeout: bool = False
    cold_start: bool = False
    init_ms: float | None = None
    #: True when a provisioned-concurrency environment served the invocation.
    provisioned: bool = False


def _both(
    name: str, value: float, unit: str, function_name: str, timestamp_ms: int
) -> list[MetricDatum]:
    """The per-function datum and its dimensionless aggregate twin."""
    return [
        MetricDatum(
            namespace=NAMESPACE,
            name=name,
            value=value,
            unit=unit,
            dimensions=(("FunctionName", function_name),),
            timestamp_ms=timestamp_ms,
        ),
        MetricDatum(
            namespace=NAMESPACE, name=name, value=value, unit=unit, timestamp_ms=timestamp_ms
        ),
    ]


def concurrency_datums(
    function_name: str, snapshot: ConcurrencySnapshot, timestamp_ms: int
) -> list[MetricDatum]:
    """ConcurrentExecutions (function and account), UnreservedConcurrentExecutions, provisioned use.

    Read these with the Maximum statistic, as AWS recommends.
    """
    datums = [
        MetricDatum(
            NAMESPACE,
            "ConcurrentExecutions",
            float(snapshot.function),
            "Count",
            (("FunctionName", function_name),),
            timestamp_ms,
        ),
        MetricDatum(
            NAMESPACE, "ConcurrentExecutions", float(snapshot.account), "Count", (), timestamp_ms
        ),
        MetricDatum(
            NAMESPACE,
            "UnreservedConcurrentExecutions",
            float(snapshot.unreserved),
            "Count",
            (),
            timestamp_ms,
        ),
    ]
    if snapshot.provisioned_configured_function:
        fn_dims = (("FunctionName", function_name),)
        datums += [
            MetricDatum(
                NAMESPACE,
                "ProvisionedConcurrentExecutions",
                float(snapshot.provisioned_busy_function),
                "Count",
                fn_dims,
                timestamp_ms,
            ),
            MetricDatum(
                NAMESPACE,
                "ProvisionedConcurrentExecutions",
                float(snapshot.provisioned_busy_account),
                "Count",
                (),
                timestamp_ms,
            ),
            MetricDatum(
                NAMESPACE,
                "ProvisionedConcurrencyUtilization",
                snapshot.provisioned_busy_function / snapshot.provisioned_configured_function,
                "None",
                fn_dims,
                timestamp_ms,
            ),
            MetricDatum(
                NAMESPACE,
                "ProvisionedConcurrencyUtilization",
                snapshot.provisioned_busy_account / max(1, snapshot.provisioned_configured_account),
                "None",
                (),
                timestamp_ms,
            ),
        ]
    return datums


def invocation_datums(
    facts: InvocationFacts, *, provisioned_configured: bool = False
) -> list[MetricDatum]:
    """Invocations, Errors, Duration, provisioned routing and the Heron-local metrics."""
    name, ts = facts.function_name, facts.timestamp_ms
    datums = [
        *_both("Invocations", 1.0, "Count", name, ts),
        *_both("Errors", 1.0 if facts.error else 0.0, "Count", name, ts),
        *_both("Duration", facts.duration_ms, "Milliseconds", name, ts),
    ]
    if provisioned_configured:
        datums += _both(
            "ProvisionedConcurrencyInvocations",
            1.0 if facts.provisioned else 0.0,
            "Count",
            name,
            ts,
        )
        datums += _both(
            "ProvisionedConcurrencySpilloverInvocations",
            0.0 if facts.provisioned else 1.0,
            "Count",
            name,
            ts,
        )
    percent = 100.0 * facts.max_memory_used_mb / facts.memory_mb
    datums += _both("MemoryUsed", percent, "Percent", name, ts)  # Heron-local
    datums += _both("MaxMemoryUsed", float(facts.max_memory_used_mb), "Megabytes", name, ts)
    datums += _both("ColdStarts", 1.0 if facts.cold_start else 0.0, "Count", name, ts)
    datums += _both("Timeouts", 1.0 if facts.timeout else 0.0, "Count", name, ts)
    if facts.init_ms is not None:
        datums += _both("InitDuration", facts.init_ms, "Milliseconds", name, ts)
    return datums


def throttle_datums(function_name: str, timestamp_ms: int) -> list[MetricDatum]:
    """Throttles for one rejected invocation (not counted in Invocations or Errors)."""
    return _both("Throttles", 1.0, "Count", function_name, timestamp_ms)


def table_datums(table_ops: Sequence[Mapping[str, Any]], timestamp_ms: int) -> list[MetricDatum]:
    """``AWS/DynamoDB`` datums for the table operations a handler performed.

    Uses ``heron.tables.metrics`` (``TableOperation.from_dict`` and ``operation_datums``) when it
    is installed; without it, or if the records do not parse, no table datums are produced (a
    warning is logged for the latter) rather than failing the invocation.
    """
    if not table_ops:
        return []
    try:
        metrics = importlib.import_module("heron.tables.metrics")
    except ImportError:
        return []
    try:
        operations = [metrics.TableOperation.from_dict(dict(op)) for op in table_ops]
        return list(metrics.operation_datums(operations, timestamp_ms))
    except Exception:
        _log.warning("dropped %d table operation records", len(table_ops), exc_info=True)
        return []
