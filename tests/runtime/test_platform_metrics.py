"""AWS/Lambda metrics: per function and aggregate, AWS's names and units, Heron-local extras."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from heron.runtime import platform_metrics
from heron.runtime.platform_metrics import ConcurrencySnapshot, InvocationFacts, LambdaMetrics
from heron.tables.metrics import TableOperation, operation_datums
from heron.telemetry.aggregator import MetricAggregator
from heron.types import MetricDatum, Sample

FN = (("FunctionName", "sendMessage"),)


def by_key(samples: list[Sample]) -> dict[tuple[str, tuple[tuple[str, str], ...]], MetricDatum]:
    """One datum per (name, dimensions), rebuilt from single-value samples."""
    keyed = {
        (s.name, s.dimensions): MetricDatum(
            s.namespace, s.name, s.values[0], s.unit, s.dimensions, s.timestamp_ms
        )
        for s in samples
    }
    assert len(keyed) == len(samples), "no metric is emitted twice for the same dimensions"
    assert all(len(s.values) == 1 and not s.counts for s in samples), "one value each"
    return keyed


def published(
    facts: InvocationFacts,
    snapshot: ConcurrencySnapshot | None = None,
    *,
    provisioned_configured: bool = False,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], MetricDatum]:
    """What one invocation publishes through LambdaMetrics, keyed by (name, dimensions)."""
    aggregator = MetricAggregator(lambda: 0.0)
    metrics = LambdaMetrics(
        aggregator, facts.function_name, provisioned_configured=provisioned_configured
    )
    metrics.invocation(facts, snapshot or ConcurrencySnapshot(1, 1, 1))
    return by_key(aggregator.drain())


def test_invocation_datums_come_in_function_and_aggregate_pairs() -> None:
    facts = InvocationFacts(
        "sendMessage", 1000, 12.5, 128, 32, error=True, cold_start=True, init_ms=80.0
    )
    datums = published(facts)
    for name in (
        "Invocations",
        "Errors",
        "Duration",
        "MemoryUsed",
        "MaxMemoryUsed",
        "ColdStarts",
        "Timeouts",
        "InitDuration",
    ):
        assert (name, FN) in datums and (name, ()) in datums, name
    assert datums[("Errors", FN)].value == 1.0
    assert datums[("Duration", ())].unit == "Milliseconds"
    assert datums[("MemoryUsed", FN)].value == 25.0
    assert datums[("MemoryUsed", FN)].unit == "Percent"
    assert datums[("MaxMemoryUsed", FN)].unit == "Megabytes"
    assert all(d.namespace == "AWS/Lambda" and d.timestamp_ms == 1000 for d in datums.values())


def test_warm_success_reports_zero_errors_and_no_init_duration() -> None:
    facts = InvocationFacts("sendMessage", 5, 1.0, 128, 20)
    datums = published(facts)
    assert datums[("Errors", FN)].value == 0.0
    assert datums[("ColdStarts", FN)].value == 0.0
    assert ("InitDuration", FN) not in datums
    assert ("InitDuration", ()) not in datums
    assert ("ProvisionedConcurrencyInvocations", FN) not in datums


def test_provisioned_routing_counts_invocations_or_spillover() -> None:
    served = InvocationFacts("sendMessage", 5, 1.0, 128, 20, provisioned=True)
    spilled = InvocationFacts("sendMessage", 5, 1.0, 128, 20, provisioned=False)
    a = published(served, provisioned_configured=True)
    b = published(spilled, provisioned_configured=True)
    assert a[("ProvisionedConcurrencyInvocations", FN)].value == 1.0
    assert a[("ProvisionedConcurrencySpilloverInvocations", FN)].value == 0.0
    assert b[("ProvisionedConcurrencySpilloverInvocations", ())].value == 1.0


def test_concurrency_datums() -> None:
    snapshot = ConcurrencySnapshot(
        function=2,
        account=5,
        unreserved=3,
        provisioned_busy_function=1,
        provisioned_configured_function=4,
        provisioned_busy_account=1,
        provisioned_configured_account=4,
    )
    facts = InvocationFacts("sendMessage", 7, 1.0, 128, 20)
    datums = published(facts, snapshot, provisioned_configured=True)
    assert datums[("ConcurrentExecutions", FN)].value == 2
    assert datums[("ConcurrentExecutions", ())].value == 5
    assert datums[("UnreservedConcurrentExecutions", ())].value == 3
    assert ("UnreservedConcurrentExecutions", FN) not in datums
    assert datums[("ProvisionedConcurrentExecutions", FN)].value == 1
    assert datums[("ProvisionedConcurrencyUtilization", FN)].value == 0.25
    assert datums[("ProvisionedConcurrencyUtilization", FN)].unit == "None"
    assert all(d.unit == "Count" for k, d in datums.items() if k[0].startswith("Concurrent"))


def test_without_provisioned_concurrency_no_provisioned_metrics() -> None:
    datums = published(InvocationFacts("sendMessage", 7, 1.0, 128, 20))
    assert not [k for k in datums if k[0].startswith("Provisioned")]
    assert len(datums) == 17  # 7 pairs plus ConcurrentExecutions x2 and Unreserved


def test_columns_and_rows_line_up() -> None:
    facts = InvocationFacts("f", 5, 1.0, 128, 20, init_ms=3.0)
    for provisioned in (False, True):
        columns = platform_metrics.invocation_columns("f", provisioned_configured=provisioned)
        row = platform_metrics.invocation_row(
            facts, ConcurrencySnapshot(1, 1, 1), provisioned_configured=provisioned
        )
        assert len(columns) == len(row)


def test_throttles() -> None:
    aggregator = MetricAggregator(lambda: 0.0)
    LambdaMetrics(aggregator, "sendMessage", provisioned_configured=False).throttle(3.5)
    datums = by_key(aggregator.drain())
    assert set(datums) == {("Throttles", FN), ("Throttles", ())}
    assert all(d.value == 1.0 and d.timestamp_ms == 3000 for d in datums.values())


class _Op:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Op:
        return cls(data)


def _fake_tables_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("heron.tables.metrics")
    module.TableOperation = _Op  # type: ignore[attr-defined]

    def operation_datums(ops: list[_Op], timestamp_ms: int) -> list[MetricDatum]:
        return [
            MetricDatum(
                "AWS/DynamoDB",
                "ConsumedWriteCapacityUnits",
                op.data["units"],
                "Count",
                (("TableName", op.data["table"]),),
                timestamp_ms,
            )
            for op in ops
        ]

    module.operation_datums = operation_datums  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "heron.tables.metrics", module)


def test_table_operations_become_dynamodb_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tables_metrics(monkeypatch)
    aggregator = MetricAggregator(lambda: 0.0)
    added = platform_metrics.add_table_operations(
        aggregator, [{"table": "Users", "units": 2.0}, {"table": "Users", "units": 3.0}], 99.5
    )
    assert added == 2
    assert aggregator.drain() == [
        Sample(
            "AWS/DynamoDB",
            "ConsumedWriteCapacityUnits",
            (("TableName", "Users"),),
            99_000,
            (2.0, 3.0),
            (),
            None,
            "Count",
        )
    ]


def test_the_real_tables_layer_feeds_the_aggregator_without_datums() -> None:
    op = TableOperation("Users", "GetItem", 2.5, read_units=1.0, consistent=True)
    aggregator = MetricAggregator(lambda: 0.0)
    assert platform_metrics.add_table_operations(aggregator, [op.as_dict()] * 2, 7.0) == 6
    got = {(s.name, s.dimensions): (s.values, s.counts, s.unit) for s in aggregator.drain()}
    expected = {
        (d.name, d.dimensions): ((d.value,), (2.0,), d.unit) for d in operation_datums([op], 0)
    }
    assert got == expected


def test_no_table_operations_means_no_import_and_no_samples() -> None:
    aggregator = MetricAggregator(lambda: 0.0)
    assert platform_metrics.add_table_operations(aggregator, [], 1.0) == 0
    assert aggregator.drain() == []


def test_unparseable_table_records_are_dropped_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tables_metrics(monkeypatch)
    aggregator = MetricAggregator(lambda: 0.0)
    assert platform_metrics.add_table_operations(aggregator, [{"nonsense": True}], 1.0) == 0
    assert aggregator.drain() == []
