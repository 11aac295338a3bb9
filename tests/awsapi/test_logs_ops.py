"""Every CloudWatch Logs operation, called directly with request dicts, including error shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heron.awsapi.errors import AwsError
from heron.awsapi.logs_ops import logs_operations
from heron.awsapi.logs_requests import Handler
from heron.monitor.logs.store import LogStore

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)
G = "/aws/lambda/sendMessage"


@pytest.fixture
def ops(tmp_path: Path) -> dict[str, Handler]:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    return logs_operations(store, clock=lambda: NOW_S)


def call(ops: dict[str, Handler], op: str, **request: Any) -> dict[str, Any]:
    return ops[op](request)


def error(ops: dict[str, Handler], op: str, **request: Any) -> AwsError:
    with pytest.raises(AwsError) as info:
        ops[op](request)
    assert info.value.status == 400 and info.value.query_code is None
    return info.value


@pytest.fixture
def group(ops: dict[str, Handler]) -> str:
    call(ops, "CreateLogGroup", logGroupName=G)
    call(ops, "CreateLogStream", logGroupName=G, logStreamName="s1")
    return G


def test_group_lifecycle_and_errors(ops: dict[str, Handler]) -> None:
    assert call(ops, "CreateLogGroup", logGroupName=G) == {}
    e = error(ops, "CreateLogGroup", logGroupName=G)
    assert (e.code, e.message) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )
    e = error(ops, "CreateLogGroup", logGroupName="bad name!")
    assert e.code == "InvalidParameterException"
    assert e.message == (
        "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    )
    assert error(ops, "CreateLogGroup").message.endswith("Member must not be null")
    assert (
        error(ops, "CreateLogGroup", logGroupName="aws/x").message
        == "Log groups starting with AWS/ are reserved for AWS."
    )
    assert call(ops, "DeleteLogGroup", logGroupName=G) == {}
    e = error(ops, "DeleteLogGroup", logGroupName=G)
    assert (e.code, e.message) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )


def test_describe_log_groups_prefix_and_paging(ops: dict[str, Handler]) -> None:
    for name in ["/aws/lambda/b", "/aws/lambda/a", "/other", "/aws/lambda/c"]:
        call(ops, "CreateLogGroup", logGroupName=name)
    call(ops, "PutRetentionPolicy", logGroupName="/aws/lambda/a", retentionInDays=7)
    page = call(ops, "DescribeLogGroups", logGroupNamePrefix="/aws/lambda/", limit=2)
    assert [g["logGroupName"] for g in page["logGroups"]] == ["/aws/lambda/a", "/aws/lambda/b"]
    first = page["logGroups"][0]
    assert (
        first["retentionInDays"] == 7 and first["creationTime"] == NOW and first["storedBytes"] == 0
    )
    assert first["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/a:*"
    assert "retentionInDays" not in page["logGroups"][1]
    rest = call(
        ops,
        "DescribeLogGroups",
        logGroupNamePrefix="/aws/lambda/",
        limit=2,
        nextToken=page["nextToken"],
    )
    assert [g["logGroupName"] for g in rest["logGroups"]] == [
        "/aws/lambda/c"
    ] and "nextToken" not in rest
    assert error(ops, "DescribeLogGroups", limit=51).code == "InvalidParameterException"
    assert (
        error(ops, "DescribeLogGroups", nextToken="!!!").message
        == "The specified nextToken is invalid."
    )


def test_streams_describe_order_and_paging(ops: dict[str, Handler], group: str) -> None:
    call(ops, "CreateLogStream", logGroupName=group, logStreamName="s0")
    call(ops, "CreateLogStream", logGroupName=group, logStreamName="s2")
    e = error(ops, "CreateLogStream", logGroupName=group, logStreamName="s1")
    assert (e.code, e.message) == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )
    assert (
        error(ops, "CreateLogStream", logGroupName=group, logStreamName="a:b").code
        == "InvalidParameterException"
    )
    assert (
        error(ops, "CreateLogStream", logGroupName="/nope", logStreamName="x").code
        == "ResourceNotFoundException"
    )
    call(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="s0",
        logEvents=[{"timestamp": NOW - 5, "message": "hi"}],
    )
    call(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="s2",
        logEvents=[{"timestamp": NOW - 9, "message": "hi"}],
    )
    by_name = call(ops, "DescribeLogStreams", logGroupName=group, limit=2)
    assert [s["logStreamName"] for s in by_name["logStreams"]] == ["s0", "s1"]
    nxt = call(ops, "DescribeLogStreams", logGroupName=group, nextToken=by_name["nextToken"])
    assert [s["logStreamName"] for s in nxt["logStreams"]] == ["s2"]
    by_time = call(
        ops, "DescribeLogStreams", logGroupName=group, orderBy="LastEventTime", descending=True
    )
    assert [s["logStreamName"] for s in by_time["logStreams"]] == ["s0", "s2", "s1"]
    s0 = by_time["logStreams"][0]
    assert (
        s0["firstEventTimestamp"],
        s0["lastEventTimestamp"],
        s0["lastIngestionTime"],
        s0["storedBytes"],
    ) == (NOW - 5, NOW - 5, NOW, 2)
    assert "firstEventTimestamp" not in by_time["logStreams"][2]
    assert (
        call(
            ops,
            "DescribeLogStreams",
            logGroupIdentifier=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
            logStreamNamePrefix="s2",
        )["logStreams"][0]["logStreamName"]
        == "s2"
    )
    e = error(
        ops,
        "DescribeLogStreams",
        logGroupName=group,
        orderBy="LastEventTime",
        logStreamNamePrefix="s",
    )
    assert e.message == "Cannot order by LastEventTime with a logStreamNamePrefix."
    assert (
        "enum value set"
        in error(ops, "DescribeLogStreams", logGroupName=group, orderBy="Size").message
    )
    assert (
        error(ops, "DescribeLogStreams", logGroupName="/nope").message
        == "The specified log group does not exist."
    )
    assert call(ops, "DeleteLogStream", logGroupName=group, logStreamName="s2") == {}
    assert (
        error(ops, "DeleteLogStream", logGroupName=group, logStreamName="s2").code
        == "ResourceNotFoundException"
    )


def test_put_and_get_log_events(ops: dict[str, Handler], group: str) -> None:
    events = [{"timestamp": NOW - 100 + i, "message": f"m{i}"} for i in range(5)]
    out = call(ops, "PutLogEvents", logGroupName=group, logStreamName="s1", logEvents=events)
    assert set(out) == {"nextSequenceToken"}
    out = call(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="s1",
        logEvents=[
            {"timestamp": NOW, "message": "x"},
            {"timestamp": NOW + 3 * 3_600_000, "message": "future"},
        ],
    )
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    got = call(
        ops, "GetLogEvents", logGroupName=group, logStreamName="s1", limit=2, startFromHead=True
    )
    assert got["events"] == [
        {"timestamp": NOW - 100, "message": "m0", "ingestionTime": NOW},
        {"timestamp": NOW - 99, "message": "m1", "ingestionTime": NOW},
    ]
    nxt = call(
        ops,
        "GetLogEvents",
        logGroupName=group,
        logStreamName="s1",
        nextToken=got["nextForwardToken"],
    )
    assert [e["message"] for e in nxt["events"]] == ["m2", "m3", "m4", "x"]
    windowed = call(
        ops,
        "GetLogEvents",
        logGroupName=group,
        logStreamName="s1",
        startTime=NOW - 98,
        endTime=NOW - 96,
    )
    assert [e["message"] for e in windowed["events"]] == ["m2", "m3"]
    e = error(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="s1",
        logEvents=[{"timestamp": 2, "message": "a"}, {"timestamp": 1, "message": "b"}],
    )
    assert (
        e.message == "Log events in a single PutLogEvents request must be in chronological order."
    )
    e = error(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="nope",
        logEvents=[{"timestamp": NOW, "message": "a"}],
    )
    assert (e.code, e.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    assert (
        error(ops, "PutLogEvents", logGroupName=group, logStreamName="s1", logEvents=[]).code
        == "InvalidParameterException"
    )
    assert (
        error(
            ops,
            "PutLogEvents",
            logGroupName=group,
            logStreamName="s1",
            logEvents=[{"timestamp": NOW, "message": ""}],
        ).code
        == "InvalidParameterException"
    )
    assert (
        error(ops, "GetLogEvents", logGroupName=group, logStreamName="s1", nextToken="zzz").message
        == "The specified nextToken is invalid."
    )
    assert (
        error(ops, "GetLogEvents", logGroupName=group, logStreamName="s1", limit=10_001).code
        == "InvalidParameterException"
    )


def test_filter_log_events(ops: dict[str, Handler], group: str) -> None:
    call(ops, "CreateLogStream", logGroupName=group, logStreamName="s2")
    call(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="s1",
        logEvents=[
            {"timestamp": NOW - 3, "message": '{"level":"ERROR","ms":5}'},
            {"timestamp": NOW - 1, "message": "INFO ok"},
        ],
    )
    call(
        ops,
        "PutLogEvents",
        logGroupName=group,
        logStreamName="s2",
        logEvents=[{"timestamp": NOW - 2, "message": '{"level":"ERROR","ms":500}'}],
    )
    out = call(ops, "FilterLogEvents", logGroupName=group, filterPattern="{ $.level = ERROR }")
    assert [(e["logStreamName"], e["timestamp"]) for e in out["events"]] == [
        ("s1", NOW - 3),
        ("s2", NOW - 2),
    ]
    assert set(out["events"][0]) == {
        "logStreamName",
        "timestamp",
        "message",
        "ingestionTime",
        "eventId",
    }
    assert (
        len(
            call(ops, "FilterLogEvents", logGroupName=group, filterPattern="{ $.ms > 100 }")[
                "events"
            ]
        )
        == 1
    )
    assert len(call(ops, "FilterLogEvents", logGroupName=group)["events"]) == 3
    page = call(ops, "FilterLogEvents", logGroupName=group, limit=1)
    page2 = call(ops, "FilterLogEvents", logGroupName=group, limit=5, nextToken=page["nextToken"])
    assert len(page2["events"]) == 2
    assert (
        call(ops, "FilterLogEvents", logGroupName=group, logStreamNames=["s2"])["events"][0][
            "logStreamName"
        ]
        == "s2"
    )
    assert (
        error(ops, "FilterLogEvents", logGroupName=group, filterPattern="{ $.a = ").message
        == "Invalid filter pattern"
    )
    assert (
        error(ops, "FilterLogEvents", logGroupName=group, filterPattern="ERROR:").message
        == "Invalid character(s) in term 'ERROR:'"
    )
    assert error(ops, "FilterLogEvents", logGroupName="/nope").code == "ResourceNotFoundException"


def test_metric_filter_operations(ops: dict[str, Handler], group: str) -> None:
    t = {
        "metricName": "Errors",
        "metricNamespace": "Heron",
        "metricValue": "1",
        "defaultValue": 0.0,
    }
    assert (
        call(
            ops,
            "PutMetricFilter",
            logGroupName=group,
            filterName="errors",
            filterPattern="ERROR",
            metricTransformations=[t],
        )
        == {}
    )
    call(
        ops,
        "PutMetricFilter",
        logGroupName=group,
        filterName="latency",
        filterPattern="{ $.ms = * }",
        metricTransformations=[
            {
                "metricName": "Latency",
                "metricNamespace": "Heron",
                "metricValue": "$.ms",
                "unit": "Milliseconds",
                "dimensions": {"Level": "$.level"},
            }
        ],
    )
    described = call(ops, "DescribeMetricFilters", logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in described] == ["errors", "latency"]
    assert described[0] == {
        "filterName": "errors",
        "filterPattern": "ERROR",
        "metricTransformations": [t],
        "creationTime": NOW,
        "logGroupName": group,
    }
    assert [
        f["filterName"]
        for f in call(ops, "DescribeMetricFilters", metricName="Latency", metricNamespace="Heron")[
            "metricFilters"
        ]
    ] == ["latency"]
    assert [
        f["filterName"]
        for f in call(ops, "DescribeMetricFilters", logGroupName=group, filterNamePrefix="err")[
            "metricFilters"
        ]
    ] == ["errors"]
    paged = call(ops, "DescribeMetricFilters", logGroupName=group, limit=1)
    assert [
        f["filterName"]
        for f in call(
            ops, "DescribeMetricFilters", logGroupName=group, nextToken=paged["nextToken"]
        )["metricFilters"]
    ] == ["latency"]
    assert call(ops, "DescribeLogGroups")["logGroups"][0]["metricFilterCount"] == 2
    e = error(
        ops,
        "PutMetricFilter",
        logGroupName=group,
        filterName="bad",
        filterPattern="{ $.x = ",
        metricTransformations=[t],
    )
    assert e.message == "Invalid metric filter pattern"
    e = error(
        ops,
        "PutMetricFilter",
        logGroupName=group,
        filterName="dims",
        filterPattern="ERROR",
        metricTransformations=[{**t, "dimensions": {"a": "$.a"}, "defaultValue": None}],
    )
    assert e.message == "The specified filter pattern does not support dimensions"
    assert (
        error(
            ops,
            "PutMetricFilter",
            logGroupName=group,
            filterName="x",
            filterPattern="E",
            metricTransformations=[{**t, "metricName": "a:b"}],
        ).code
        == "InvalidParameterException"
    )
    assert (
        error(
            ops,
            "PutMetricFilter",
            logGroupName="/nope",
            filterName="x",
            filterPattern="E",
            metricTransformations=[t],
        ).code
        == "ResourceNotFoundException"
    )
    assert call(ops, "DeleteMetricFilter", logGroupName=group, filterName="errors") == {}
    e = error(ops, "DeleteMetricFilter", logGroupName=group, filterName="errors")
    assert (e.code, e.message) == (
        "ResourceNotFoundException",
        "The specified resource does not exist.",
    )


def test_metric_filter_limit(ops: dict[str, Handler], group: str) -> None:
    t = {"metricName": "m", "metricNamespace": "n", "metricValue": "1"}
    for i in range(100):
        call(
            ops,
            "PutMetricFilter",
            logGroupName=group,
            filterName=f"f{i}",
            filterPattern="ERROR",
            metricTransformations=[t],
        )
    assert (
        error(
            ops,
            "PutMetricFilter",
            logGroupName=group,
            filterName="f100",
            filterPattern="ERROR",
            metricTransformations=[t],
        ).code
        == "LimitExceededException"
    )
    call(
        ops,
        "PutMetricFilter",
        logGroupName=group,
        filterName="f5",
        filterPattern="WARN",
        metricTransformations=[t],
    )


def test_test_metric_filter(ops: dict[str, Handler]) -> None:
    out = call(
        ops,
        "TestMetricFilter",
        filterPattern="{ $.ms > 10 }",
        logEventMessages=['{"ms": 5}', '{"ms": 50}'],
    )
    assert out == {
        "matches": [
            {"eventNumber": 2, "eventMessage": '{"ms": 50}', "extractedValues": {"$.ms": "50"}}
        ]
    }
    assert (
        error(ops, "TestMetricFilter", filterPattern="{", logEventMessages=["x"]).message
        == "Invalid metric filter pattern"
    )
    assert (
        error(ops, "TestMetricFilter", filterPattern="x", logEventMessages=[]).code
        == "InvalidParameterException"
    )
    assert (
        error(ops, "TestMetricFilter", filterPattern="x", logEventMessages=["a"] * 51).code
        == "InvalidParameterException"
    )


def test_retention_policy(ops: dict[str, Handler], group: str) -> None:
    assert call(ops, "PutRetentionPolicy", logGroupName=group, retentionInDays=14) == {}
    assert call(ops, "DescribeLogGroups")["logGroups"][0]["retentionInDays"] == 14
    e = error(ops, "PutRetentionPolicy", logGroupName=group, retentionInDays=2)
    assert e.message.startswith(
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14,"
    )
    assert (
        error(ops, "PutRetentionPolicy", logGroupName="/nope", retentionInDays=1).code
        == "ResourceNotFoundException"
    )
    assert call(ops, "DeleteRetentionPolicy", logGroupName=group) == {}
    assert "retentionInDays" not in call(ops, "DescribeLogGroups")["logGroups"][0]


def test_insights_query_lifecycle(ops: dict[str, Handler], group: str) -> None:
    events = [
        {
            "timestamp": NOW - 60_000 + i,
            "message": f'{{"level":"{"ERROR" if i % 2 else "INFO"}","ms":{i}}}',
        }
        for i in range(10)
    ]
    call(ops, "PutLogEvents", logGroupName=group, logStreamName="s1", logEvents=events)
    qid = call(
        ops,
        "StartQuery",
        logGroupName=group,
        startTime=int(NOW_S) - 3600,
        endTime=int(NOW_S),
        queryString="stats count(*) as n, max(ms) by level",
    )["queryId"]
    out = call(ops, "GetQueryResults", queryId=qid)
    assert out["status"] == "Complete"
    assert out["results"] == [
        [
            {"field": "level", "value": "ERROR"},
            {"field": "n", "value": "5"},
            {"field": "max(ms)", "value": "9"},
        ],
        [
            {"field": "level", "value": "INFO"},
            {"field": "n", "value": "5"},
            {"field": "max(ms)", "value": "8"},
        ],
    ]
    assert out["statistics"]["recordsScanned"] == 10.0
    assert call(ops, "StopQuery", queryId=qid) == {"success": False}
    qid2 = call(
        ops,
        "StartQuery",
        logGroupNames=[group],
        startTime=0,
        endTime=int(NOW_S),
        queryString="fields ms | limit 1",
    )["queryId"]
    assert call(ops, "StopQuery", queryId=qid2) == {"success": True}
    assert call(ops, "GetQueryResults", queryId=qid2)["status"] == "Cancelled"
    assert (
        error(
            ops, "StartQuery", logGroupName=group, startTime=0, endTime=1, queryString="frobnicate"
        ).code
        == "MalformedQueryException"
    )
    assert (
        error(
            ops, "StartQuery", logGroupName="/nope", startTime=0, endTime=1, queryString="fields x"
        ).code
        == "ResourceNotFoundException"
    )
    assert error(ops, "GetQueryResults", queryId="nope").code == "ResourceNotFoundException"
