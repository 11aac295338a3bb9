"""TableOperation, the bounded Recorder and AWS/DynamoDB datums."""

from __future__ import annotations

import threading

import orjson
import pytest

from heron.tables.metrics import Recorder, TableOperation, operation_datums
from heron.types import MetricDatum

TS = 1_700_000_000_000


def by_name(
    datums: list[MetricDatum],
) -> dict[str, list[tuple[tuple[tuple[str, str], ...], float]]]:
    out: dict[str, list[tuple[tuple[tuple[str, str], ...], float]]] = {}
    for d in datums:
        assert d.namespace == "AWS/DynamoDB"
        assert d.timestamp_ms == TS
        assert d.dimensions == MetricDatum.dims(dict(d.dimensions))  # canonical order
        out.setdefault(d.name, []).append((d.dimensions, d.value))
    return out


def test_operations_round_trip_through_json() -> None:
    op = TableOperation(
        "Users", "PutItem", 1.25, 0.0, 2.0, None, "ok", None, (("username-index", 1.0),)
    )
    wire = orjson.loads(orjson.dumps(op.as_dict()))
    assert TableOperation.from_dict(wire) == op
    for bad in ({}, {**op.as_dict(), "operation": "Nope"}, {**op.as_dict(), "latency_ms": "x"}):
        with pytest.raises(ValueError):
            TableOperation.from_dict(bad)


def test_recorder_keeps_the_newest_and_counts_the_dropped() -> None:
    recorder = Recorder(capacity=3)
    for i in range(5):
        recorder.record(TableOperation("T", "GetItem", float(i)))
    assert [op.latency_ms for op in recorder.drain()] == [2.0, 3.0, 4.0]
    assert recorder.dropped == 2
    assert recorder.drain() == []


def test_recorder_is_thread_safe() -> None:
    recorder = Recorder(capacity=100_000)

    def work() -> None:
        for _ in range(2_000):
            recorder.record(TableOperation("T", "GetItem", 1.0))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(recorder.drain()) == 8_000
    assert recorder.dropped == 0


def test_a_strong_get_item() -> None:
    op = TableOperation("Users", "GetItem", 2.5, read_units=1.0, consistent=True)
    got = by_name(operation_datums([op], TS))
    assert got["SuccessfulRequestLatency"] == [
        ((("Operation", "GetItem"), ("TableName", "Users")), 2.5),
        ((("Operation", "GetItem"), ("ReadConsistency", "strong"), ("TableName", "Users")), 2.5),
    ]
    assert got["ConsumedReadCapacityUnits"] == [((("TableName", "Users"),), 1.0)]
    assert set(got) == {"SuccessfulRequestLatency", "ConsumedReadCapacityUnits"}


def test_an_index_query_charges_the_index() -> None:
    op = TableOperation("Users", "Query", 1.0, read_units=0.5, consistent=False, index="u-i")
    got = by_name(operation_datums([op], TS))
    assert got["ConsumedReadCapacityUnits"] == [
        ((("GlobalSecondaryIndexName", "u-i"), ("TableName", "Users")), 0.5)
    ]
    assert ((("Operation", "Query"), ("ReadConsistency", "eventual"), ("TableName", "Users")),
            1.0) in got["SuccessfulRequestLatency"]  # fmt: skip


def test_a_put_with_index_writes() -> None:
    op = TableOperation("Users", "PutItem", 3.0, write_units=2.0, index_write_units=(("u-i", 1.0),))
    got = by_name(operation_datums([op], TS))
    assert got["ConsumedWriteCapacityUnits"] == [
        ((("TableName", "Users"),), 2.0),
        ((("GlobalSecondaryIndexName", "u-i"), ("TableName", "Users")), 1.0),
    ]
    assert len(got["SuccessfulRequestLatency"]) == 1  # no consistency split for writes


def test_failures() -> None:
    ops = [
        TableOperation("T", "PutItem", 1.0, write_units=1.0, outcome="condition_failed"),
        TableOperation("T", "UpdateItem", 1.0, outcome="throttled"),
        TableOperation("T", "Query", 1.0, outcome="throttled", index="i", consistent=False),
        TableOperation("T", "GetItem", 1.0, outcome="user_error", consistent=False),
        TableOperation("T", "DeleteItem", 1.0, outcome="system_error"),
    ]
    got = by_name(operation_datums(ops, TS))
    assert got["ConditionalCheckFailedRequests"] == [((("TableName", "T"),), 1.0)]
    assert got["ConsumedWriteCapacityUnits"] == [((("TableName", "T"),), 1.0)]
    assert got["ThrottledRequests"] == [
        ((("Operation", "UpdateItem"), ("TableName", "T")), 1.0),
        ((("Operation", "Query"), ("TableName", "T")), 1.0),
    ]
    assert got["WriteThrottleEvents"] == [((("TableName", "T"),), 1.0)]
    assert got["ReadThrottleEvents"] == [
        ((("TableName", "T"),), 1.0),
        ((("GlobalSecondaryIndexName", "i"), ("TableName", "T")), 1.0),
    ]
    assert got["UserErrors"] == [((), 1.0)]
    assert got["SystemErrors"] == [((("Operation", "DeleteItem"), ("TableName", "T")), 1.0)]
    # Only the conditional failure counts as a completed request for latency.
    assert got["SuccessfulRequestLatency"] == [
        ((("Operation", "PutItem"), ("TableName", "T")), 1.0)
    ]
    units = {d.unit for d in operation_datums(ops, TS)}
    assert units == {"Count", "Milliseconds"}
