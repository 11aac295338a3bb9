"""AWS/Lambda datums: per function and aggregate, AWS's names and units, Heron-local extras."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from heron.runtime import platform_metrics
from heron.runtime.platform_metrics import ConcurrencySnapshot, InvocationFacts
from heron.types import MetricDatum

FN = (("FunctionName", "sendMessage"),)


def by_key(datums: list[MetricDatum]) -> dict[tuple[str, tuple[tuple[str, str], ...]], MetricDatum]:
    keyed = {(d.name, d.dimensions): d for d in datums}
    assert len(keyed) == len(datums), "no metric is emitted twice for the same dimensions"
    return keyed


def test_invocation_datums_come_in_function_and_aggregate_pairs() -> None:
    facts = InvocationFacts(
        "sendMessage", 1000, 12.5, 128, 32, error=True, cold_start=True, init_ms=80.0
    )
    datums = by_key(platform_metrics.invocation_datums(facts))
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
    datums = by_key(platform_metrics.invocation_datums(facts))
    assert datums[("Errors", FN)].value == 0.0
    assert datums[("ColdStarts", FN)].value == 0.0
    assert ("InitDuration", FN) not in datums
    assert ("ProvisionedConcurrencyInvocations", FN) not in datums


def test_provisioned_routing_counts_invocations_or_spillover() -> None:
    served = InvocationFacts("sendMessage", 5, 1.0, 128, 20, provisioned=True)
    spilled = InvocationFacts("sendMessage", 5, 1.0, 128, 20, provisioned=False)
    a = by_key(platform_metrics.invocation_datums(served, provisioned_configured=True))
    b = by_key(platform_metrics.invocation_datums(spilled, provisioned_configured=True))
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
    datums = by_key(platform_metrics.concurrency_datums("sendMessage", snapshot, 7))
    assert datums[("ConcurrentExecutions", FN)].value == 2
    assert datums[("ConcurrentExecutions", ())].value == 5
    assert datums[("UnreservedConcurrentExecutions", ())].value == 3
    assert ("UnreservedConcurrentExecutions", FN) not in datums
    assert datums[("ProvisionedConcurrentExecutions", FN)].value == 1
    assert datums[("ProvisionedConcurrencyUtilization", FN)].value == 0.25


def test_throttles() -> None:
    datums = by_key(platform_metrics.throttle_datums("sendMessage", 3))
    assert set(datums) == {("Throttles", FN), ("Throttles", ())}


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


def test_table_operations_become_dynamodb_datums(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tables_metrics(monkeypatch)
    datums = platform_metrics.table_datums([{"table": "Users", "units": 2.0}], 99)
    assert datums == [
        MetricDatum(
            "AWS/DynamoDB",
            "ConsumedWriteCapacityUnits",
            2.0,
            "Count",
            (("TableName", "Users"),),
            99,
        )
    ]


def test_no_table_operations_means_no_import_and_no_datums() -> None:
    assert platform_metrics.table_datums([], 1) == []


def test_unparseable_table_records_are_dropped_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tables_metrics(monkeypatch)
    assert platform_metrics.table_datums([{"nonsense": True}], 1) == []
