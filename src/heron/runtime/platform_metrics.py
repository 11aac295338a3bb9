"""The ``AWS/Lambda`` metrics the runtime publishes per invocation, as rows of an aggregator.

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
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.telemetry.aggregator import MetricAggregator, Row, SeriesKey

NAMESPACE = "AWS/Lambda"
_TABLES_METRICS = "heron.tables.metrics"
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


def _both(name: str, unit: str, function_name: str) -> tuple[SeriesKey, SeriesKey]:
    """The per-function series and its dimensionless aggregate twin."""
    return (
        (NAMESPACE, name, (("FunctionName", function_name),), unit, 60),
        (NAMESPACE, name, (), unit, 60),
    )


def _one(name: str, unit: str, function_name: str | None) -> tuple[SeriesKey]:
    """One series: per function, or the aggregate when ``function_name`` is None."""
    dims = () if function_name is None else (("FunctionName", function_name),)
    return ((NAMESPACE, name, dims, unit, 60),)


def invocation_columns(
    function_name: str, *, provisioned_configured: bool = False
) -> list[tuple[SeriesKey, ...]]:
    """Where each entry of ``invocation_row`` goes: per column, the series that receive it."""
    fn = function_name
    columns: list[tuple[SeriesKey, ...]] = [
        _both("Invocations", "Count", fn),
        _both("Errors", "Count", fn),
        _both("Duration", "Milliseconds", fn),
        _both("MemoryUsed", "Percent", fn),  # Heron-local
        _both("MaxMemoryUsed", "Megabytes", fn),  # Heron-local
        _both("ColdStarts", "Count", fn),  # Heron-local
        _both("Timeouts", "Count", fn),  # Heron-local
        _both("InitDuration", "Milliseconds", fn),  # Heron-local; None when warm
        _one("ConcurrentExecutions", "Count", fn),
        _one("ConcurrentExecutions", "Count", None),
        _one("UnreservedConcurrentExecutions", "Count", None),
    ]
    if provisioned_configured:
        columns += [
            _both("ProvisionedConcurrencyInvocations", "Count", fn),
            _both("ProvisionedConcurrencySpilloverInvocations", "Count", fn),
            _one("ProvisionedConcurrentExecutions", "Count", fn),
            _one("ProvisionedConcurrentExecutions", "Count", None),
            _one("ProvisionedConcurrencyUtilization", "None", fn),
            _one("ProvisionedConcurrencyUtilization", "None", None),
        ]
    return columns


def invocation_row(
    facts: InvocationFacts,
    snapshot: ConcurrencySnapshot,
    *,
    provisioned_configured: bool = False,
) -> Row:
    """One invocation's values in ``invocation_columns`` order.

    Read the concurrency metrics with the Maximum statistic, as AWS recommends.
    """
    row: Row = (
        1.0,
        1.0 if facts.error else 0.0,
        facts.duration_ms,
        100.0 * facts.max_memory_used_mb / facts.memory_mb,
        float(facts.max_memory_used_mb),
        1.0 if facts.cold_start else 0.0,
        1.0 if facts.timeout else 0.0,
        facts.init_ms,
        float(snapshot.function),
        float(snapshot.account),
        float(snapshot.unreserved),
    )
    if not provisioned_configured:
        return row
    return (
        *row,
        1.0 if facts.provisioned else 0.0,
        0.0 if facts.provisioned else 1.0,
        float(snapshot.provisioned_busy_function),
        float(snapshot.provisioned_busy_account),
        snapshot.provisioned_busy_function / max(1, snapshot.provisioned_configured_function),
        snapshot.provisioned_busy_account / max(1, snapshot.provisioned_configured_account),
    )


class LambdaMetrics:
    """Publishes one function's ``AWS/Lambda`` metrics into an aggregator (layouts made once)."""

    __slots__ = ("_aggregator", "_invocation", "_provisioned", "_throttle")

    def __init__(
        self, aggregator: MetricAggregator, function_name: str, *, provisioned_configured: bool
    ) -> None:
        self._aggregator = aggregator
        self._provisioned = provisioned_configured
        self._invocation = aggregator.layout(
            invocation_columns(function_name, provisioned_configured=provisioned_configured)
        )
        self._throttle = aggregator.series(*_both("Throttles", "Count", function_name))

    def invocation(self, facts: InvocationFacts, snapshot: ConcurrencySnapshot) -> None:
        """Add one admitted invocation's metrics, in the second of ``facts.timestamp_ms``."""
        row = invocation_row(facts, snapshot, provisioned_configured=self._provisioned)
        self._aggregator.add_row(self._invocation, row, facts.timestamp_ms / 1000)

    def throttle(self, at: float) -> None:
        """Add Throttles for one rejected invocation (not counted in Invocations or Errors)."""
        self._aggregator.add_value(self._throttle, 1.0, at)


def add_table_operations(
    aggregator: MetricAggregator, table_ops: Sequence[Mapping[str, Any]], at: float
) -> int:
    """Add the ``AWS/DynamoDB`` metrics of the table operations a handler performed; how many.

    Uses ``heron.tables.metrics`` (``TableOperation.from_dict``, then ``operation_values`` or,
    where a tables layer lacks it, the contract's ``operation_datums``) when it is installed;
    without it, or if the records do not parse, nothing is added (a warning is logged for the
    latter) rather than failing the invocation.
    """
    if not table_ops:
        return 0
    # sys.modules first: import_module takes the import lock even for a loaded module.
    metrics = sys.modules.get(_TABLES_METRICS)
    if metrics is None:
        try:
            metrics = importlib.import_module(_TABLES_METRICS)
        except ImportError:
            return 0
    try:
        operations = [metrics.TableOperation.from_dict(op) for op in table_ops]
        values_of = getattr(metrics, "operation_values", None)
        if values_of is not None:
            entries = [
                (metrics.NAMESPACE, name, dims, unit, value)
                for op in operations
                for name, dims, unit, value in values_of(op)
            ]
        else:
            datums = metrics.operation_datums(operations, int(at * 1000))
            entries = [(d.namespace, d.name, d.dimensions, d.unit, d.value) for d in datums]
    except Exception:
        _log.warning("dropped %d table operation records", len(table_ops), exc_info=True)
        return 0
    add = aggregator.add
    for namespace, name, dims, unit, value in entries:
        add(namespace, name, dims, value, unit, at=at)
    return len(entries)
