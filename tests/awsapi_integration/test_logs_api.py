"""CloudWatch Logs (AWS JSON 1.1) through boto3 against a live Monitor, errors included.

Each test works in log groups of its own; metric filters and EMF are read back through the
CloudWatch client, as a user would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from awsapi_integration.live_monitor import LiveMonitor, error_of

MINUTE_MS = 60_000


@pytest.fixture
def logs(live: LiveMonitor) -> Any:
    """A CloudWatch Logs client."""
    return live.client("logs")


@pytest.fixture
def cw(live: LiveMonitor) -> Any:
    """A CloudWatch client (boto3's default protocol)."""
    return live.client("cloudwatch")


def now_ms() -> int:
    return int(time.time() * 1000)


def minute_ms(ago: int) -> int:
    """Epoch ms of the start of the minute ``ago`` minutes ago."""
    now = now_ms()
    return now - now % MINUTE_MS - ago * MINUTE_MS


def refused(call: Callable[[], Any]) -> tuple[str, str, int]:
    """(code, message, status) of a call that must fail."""
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["ResponseMetadata"]["RequestId"]
    return error_of(info.value)


def group_with_stream(logs: Any, group: str, stream: str = "s1") -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)


def put(logs: Any, group: str, stream: str, events: list[tuple[int, str]]) -> dict[str, Any]:
    response: dict[str, Any] = logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": m} for ts, m in events],
    )
    return response


def filter_all(logs: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    """Every page of FilterLogEvents: the events and how many calls it took."""
    events: list[dict[str, Any]] = []
    calls = 0
    token = None
    while True:
        page = logs.filter_log_events(**kwargs, **({"nextToken": token} if token else {}))
        calls += 1
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events, calls


def metric_sum(
    cw: Any, namespace: str, name: str, start_ms: int, stat: str = "Sum", **extra: Any
) -> list[float]:
    """Per-minute ``stat`` of a metric from ``start_ms`` for ten minutes, oldest first."""
    got = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, **extra},
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=start_ms / 1000,
        EndTime=start_ms / 1000 + 600,
        ScanBy="TimestampAscending",
    )
    values: list[float] = got["MetricDataResults"][0]["Values"]
    return values


# --- groups and streams ---------------------------------------------------------------------


def test_groups_are_created_once_described_by_prefix_and_paged(logs: Any) -> None:
    names = [f"/it/groups/app-{i}" for i in range(5)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    assert refused(lambda: logs.create_log_group(logGroupName=names[0])) == (
        "ResourceAlreadyExistsException", "The specified log group already exists", 400,
    )  # fmt: skip
    seen: list[str] = []
    pages = 0
    token = None
    while True:
        extra = {"nextToken": token} if token else {}
        page = logs.describe_log_groups(logGroupNamePrefix="/it/groups/", limit=2, **extra)
        pages += 1
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == names and pages == 3
    (one,) = logs.describe_log_groups(logGroupNamePrefix="/it/groups/app-3")["logGroups"]
    assert one["arn"].endswith(":log-group:/it/groups/app-3:*")
    assert one["storedBytes"] == 0 and one["metricFilterCount"] == 0
    assert abs(one["creationTime"] - now_ms()) < 60_000


def test_streams_are_described_with_their_event_times(logs: Any) -> None:
    group = "/it/streams"
    logs.create_log_group(logGroupName=group)
    t = minute_ms(5)
    for i, name in enumerate(["b-stream", "a-stream", "c-stream"]):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        put(logs, group, name, [(t + i * 1000, f"first {name}"), (t + i * 1000 + 500, "last")])
    assert refused(lambda: logs.create_log_stream(logGroupName=group, logStreamName="a-stream"))[
        :1
    ] == ("ResourceAlreadyExistsException",)
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a-stream", "b-stream", "c-stream"]
    a = by_name[0]
    assert (a["firstEventTimestamp"], a["lastEventTimestamp"]) == (t + 1000, t + 1500)
    assert a["storedBytes"] == len("first a-stream") + len("last")
    latest = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True, limit=2
    )
    assert [s["logStreamName"] for s in latest["logStreams"]] == ["c-stream", "a-stream"]
    assert "nextToken" in latest
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b-")
    assert [s["logStreamName"] for s in prefixed["logStreams"]] == ["b-stream"]


# --- putting and reading events --------------------------------------------------------------


def test_put_log_events_reports_too_old_too_new_and_expired_events(logs: Any) -> None:
    group = "/it/rejections"
    group_with_stream(logs, group)
    now = now_ms()
    day = 86_400_000
    hour = 3_600_000
    # A batch may span 24 h at most, so each batch straddles one edge of the accepted window.
    old_edge = [(now - 14 * day - hour, "too old"), (now - 14 * day + hour, "kept 1")]
    new_edge = [(now, "kept 2"), (now + 3 * hour, "too new")]
    first = put(logs, group, "s1", old_edge)
    assert first["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    assert first["nextSequenceToken"]
    second = put(logs, group, "s1", new_edge)
    assert second["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    assert "rejectedLogEventsInfo" not in put(logs, group, "s1", [(now, "kept 2")])

    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["retentionInDays"] == 1
    third = put(logs, group, "s1", [(now - day - hour, "expired"), (now - day + hour, "kept 3")])
    assert third["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}

    stored = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in stored["events"]] == ["kept 1", "kept 3", "kept 2", "kept 2"]
    assert all(abs(e["ingestionTime"] - now) < 60_000 for e in stored["events"])


def test_put_log_events_batch_rules_refuse_the_whole_batch(logs: Any) -> None:
    group = "/it/batch-rules"
    group_with_stream(logs, group)
    now = now_ms()
    out_of_order = [(now, "b"), (now - 1000, "a")]
    assert refused(lambda: put(logs, group, "s1", out_of_order)) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
        400,
    )
    too_long = [(now - 25 * 3_600_000, "a"), (now, "b")]
    assert refused(lambda: put(logs, group, "s1", too_long))[0] == "InvalidParameterException"
    assert logs.get_log_events(logGroupName=group, logStreamName="s1")["events"] == []


def test_get_log_events_pages_forward_and_backward(logs: Any) -> None:
    group = "/it/get-events"
    group_with_stream(logs, group)
    t = minute_ms(3)
    put(logs, group, "s1", [(t + i, f"event {i}") for i in range(5)])

    def messages(page: dict[str, Any]) -> list[str]:
        return [e["message"] for e in page["events"]]

    forward = logs.get_log_events(
        logGroupName=group, logStreamName="s1", startFromHead=True, limit=2
    )
    assert messages(forward) == ["event 0", "event 1"]
    pages = [messages(forward)]
    token = forward["nextForwardToken"]
    for _ in range(3):
        page = logs.get_log_events(logGroupName=group, logStreamName="s1", nextToken=token, limit=2)
        pages.append(messages(page))
        assert page["nextForwardToken"] != token or not page["events"]
        token = page["nextForwardToken"]
    assert pages == [["event 0", "event 1"], ["event 2", "event 3"], ["event 4"], []]
    # At the end the forward token stays where it is (polling for new events).
    again = logs.get_log_events(logGroupName=group, logStreamName="s1", nextToken=token, limit=2)
    assert again["events"] == [] and again["nextForwardToken"] == token

    latest = logs.get_log_events(logGroupName=group, logStreamName="s1", limit=2)
    assert messages(latest) == ["event 3", "event 4"]  # newest page, ascending within it
    older = logs.get_log_events(
        logGroupName=group, logStreamName="s1", nextToken=latest["nextBackwardToken"], limit=2
    )
    assert messages(older) == ["event 1", "event 2"]
    oldest = logs.get_log_events(
        logGroupName=group, logStreamName="s1", nextToken=older["nextBackwardToken"], limit=2
    )
    assert messages(oldest) == ["event 0"]
    window = logs.get_log_events(
        logGroupName=group, logStreamName="s1", startTime=t + 1, endTime=t + 3, startFromHead=True
    )
    assert messages(window) == ["event 1", "event 2"]  # start inclusive, end exclusive


def test_filter_log_events_terms_json_and_space_delimited_patterns(logs: Any) -> None:
    group = "/it/filter"
    logs.create_log_group(logGroupName=group)
    t = minute_ms(4)
    lines = [
        json.dumps({"level": "ERROR", "route": "/send", "latency": 250}),
        json.dumps({"level": "INFO", "route": "/send", "latency": 12}),
        json.dumps({"level": "ERROR", "route": "/read", "latency": 40}),
        "10.0.0.1 GET /send 500 1234",
        "10.0.0.2 GET /read 200 99",
        "plain ERROR text without structure",
        "10.0.0.3 POST /send 503 7",
    ]
    for stream in ("api-1", "api-2"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    put(logs, group, "api-1", [(t + i, line) for i, line in enumerate(lines[:4])])
    put(logs, group, "api-2", [(t + 10 + i, line) for i, line in enumerate(lines[4:])])

    def matched(pattern: str, **extra: Any) -> list[str]:
        events, _ = filter_all(logs, logGroupName=group, filterPattern=pattern, **extra)
        return [e["message"] for e in events]

    assert matched("ERROR") == [lines[0], lines[2], lines[5]]
    assert matched("ERROR -plain") == [lines[0], lines[2]]
    assert matched('?"POST" ?INFO') == [lines[1], lines[6]]
    assert matched('{ $.level = "ERROR" && $.latency > 100 }') == [lines[0]]
    assert matched('{ $.route = "/send" }') == [lines[0], lines[1]]
    assert matched("[ip, method, path, status = 5*, bytes]") == [lines[3], lines[6]]
    assert matched("[ip, method, path = /read, ...]") == [lines[4]]
    assert matched("", logStreamNames=["api-2"]) == lines[4:]
    assert matched("ERROR", logStreamNamePrefix="api-1") == [lines[0], lines[2]]
    assert matched("ERROR", startTime=t + 1, endTime=t + 100) == [lines[2], lines[5]]

    events, calls = filter_all(logs, logGroupName=group, limit=2)
    assert [e["message"] for e in events] == lines and calls >= 4
    first = events[0]
    assert first["logStreamName"] == "api-1" and first["timestamp"] == t and first["eventId"]


# --- metric filters ---------------------------------------------------------------------------


def test_metric_filters_turn_matching_events_into_metrics(logs: Any, cw: Any) -> None:
    group = "/it/metric-filters"
    group_with_stream(logs, group)
    ns = "IT/LogMetrics"
    logs.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern='{ $.level = "ERROR" }',
        metricTransformations=[
            {"metricName": "Errors", "metricNamespace": ns, "metricValue": "1",
             "defaultValue": 0.0}
        ],
    )  # fmt: skip
    logs.put_metric_filter(
        logGroupName=group,
        filterName="latency",
        filterPattern="{ $.latency = * }",
        metricTransformations=[
            {"metricName": "Latency", "metricNamespace": ns, "metricValue": "$.latency",
             "unit": "Milliseconds", "dimensions": {"Route": "$.route"}}
        ],
    )  # fmt: skip
    t = minute_ms(6)
    events = [
        (t + 1000, json.dumps({"level": "ERROR", "route": "/send", "latency": 30})),
        (t + 2000, json.dumps({"level": "INFO", "route": "/send", "latency": 20})),
        (t + MINUTE_MS + 5, json.dumps({"level": "ERROR", "route": "/read", "latency": 7})),
        (t + MINUTE_MS + 6, "not json at all"),
    ]
    put(logs, group, "s1", events)

    errors = metric_sum(cw, ns, "Errors", t)
    # default value 0 for every non-matching event: 1 + 0 in the first minute, 1 + 0 next
    assert errors == [1.0, 1.0]
    assert metric_sum(cw, ns, "Errors", t, "SampleCount") == [2.0, 2.0]
    send = metric_sum(cw, ns, "Latency", t, Dimensions=[{"Name": "Route", "Value": "/send"}])
    read = metric_sum(cw, ns, "Latency", t, Dimensions=[{"Name": "Route", "Value": "/read"}])
    assert (send, read) == ([50.0], [7.0])
    listed = cw.list_metrics(Namespace=ns, MetricName="Latency")["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in listed) == ["/read", "/send"]

    described = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in described] == ["errors", "latency"]
    latency = described[1]
    assert latency["filterPattern"] == "{ $.latency = * }"
    assert latency["metricTransformations"] == [
        {"metricName": "Latency", "metricNamespace": ns, "metricValue": "$.latency",
         "unit": "Milliseconds", "dimensions": {"Route": "$.route"}}
    ]  # fmt: skip
    by_metric = logs.describe_metric_filters(metricName="Errors", metricNamespace=ns)
    assert [f["filterName"] for f in by_metric["metricFilters"]] == ["errors"]
    prefixed = logs.describe_metric_filters(logGroupName=group, filterNamePrefix="lat")
    assert [f["filterName"] for f in prefixed["metricFilters"]] == ["latency"]
    (summary,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert summary["metricFilterCount"] == 2

    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)[
        "metricFilters"]] == ["latency"]  # fmt: skip
    put(logs, group, "s1", [(t + 3 * MINUTE_MS, json.dumps({"level": "ERROR"}))])
    assert metric_sum(cw, ns, "Errors", t) == [1.0, 1.0]  # a deleted filter counts no more
    assert (
        refused(lambda: logs.delete_metric_filter(logGroupName=group, filterName="errors"))[0]
        == "ResourceNotFoundException"
    )


def test_test_metric_filter_reports_matches_and_extracted_values(logs: Any) -> None:
    got = logs.test_metric_filter(
        filterPattern="[ip, method, path, status = 5*, bytes]",
        logEventMessages=["10.0.0.1 GET /a 500 12", "10.0.0.2 GET /b 200 1", "x y z 503 4"],
    )
    assert got["matches"] == [
        {"eventNumber": 1, "eventMessage": "10.0.0.1 GET /a 500 12",
         "extractedValues": {"$ip": "10.0.0.1", "$method": "GET", "$path": "/a",
                             "$status": "500", "$bytes": "12"}},
        {"eventNumber": 3, "eventMessage": "x y z 503 4",
         "extractedValues": {"$ip": "x", "$method": "y", "$path": "z", "$status": "503",
                             "$bytes": "4"}},
    ]  # fmt: skip
    json_matches = logs.test_metric_filter(
        filterPattern="{ $.latency > 100 }",
        logEventMessages=['{"latency": 150}', '{"latency": 50}', "nope"],
    )["matches"]
    assert [m["eventNumber"] for m in json_matches] == [1]


# --- EMF --------------------------------------------------------------------------------------


def test_emf_documents_become_metrics_and_invalid_ones_stay_logs(
    live: LiveMonitor, logs: Any, cw: Any
) -> None:
    group = "/it/emf"
    group_with_stream(logs, group)
    ns = "IT/Emf"
    t = minute_ms(7)
    valid = {
        "_aws": {
            "Timestamp": t + 500,
            "CloudWatchMetrics": [
                {"Namespace": ns, "Dimensions": [["Service"], ["Service", "Route"]],
                 "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Calls"}]}
            ],
        },
        "Service": "chat",
        "Route": "/send",
        "Latency": [12, 30],
        "Calls": 1,
    }  # fmt: skip
    invalid = {  # a metric without a Name: the document is not EMF, the line is still a log
        "_aws": {"Timestamp": t + 900, "CloudWatchMetrics": [
            {"Namespace": ns, "Dimensions": [["Service"]], "Metrics": [{"Unit": "Count"}]}]},
        "Service": "broken",
    }  # fmt: skip
    errors_before = live.monitor.logs.emf.stats.validation_errors
    put(logs, group, "s1", [(t + 500, json.dumps(valid)), (t + 900, json.dumps(invalid))])

    listed = cw.list_metrics(Namespace=ns)["Metrics"]
    keys = sorted((m["MetricName"], sorted(d["Name"] for d in m["Dimensions"])) for m in listed)
    assert keys == [
        ("Calls", ["Route", "Service"]), ("Calls", ["Service"]),
        ("Latency", ["Route", "Service"]), ("Latency", ["Service"]),
    ]  # fmt: skip
    chat = [{"Name": "Service", "Value": "chat"}]
    assert metric_sum(cw, ns, "Latency", t, Dimensions=chat) == [42.0]
    stats = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=chat, StartTime=t / 1000,
        EndTime=t / 1000 + 60, Period=60, Statistics=["SampleCount", "Maximum"],
    )["Datapoints"]  # fmt: skip
    assert [(p["SampleCount"], p["Maximum"], p["Unit"]) for p in stats] == [
        (2.0, 30.0, "Milliseconds")
    ]
    assert not cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Service", "Value": "broken"}])[
        "Metrics"
    ]
    assert live.monitor.logs.emf.stats.validation_errors == errors_before + 1
    kept = logs.filter_log_events(logGroupName=group, filterPattern='{ $.Service = "broken" }')
    assert [json.loads(e["message"]) for e in kept["events"]] == [invalid]


# --- Logs Insights ----------------------------------------------------------------------------


def _results(logs: Any, query_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        got: dict[str, Any] = logs.get_query_results(queryId=query_id)
        if got["status"] not in ("Scheduled", "Running") or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _rows(got: dict[str, Any]) -> list[dict[str, str]]:
    return [{f["field"]: f["value"] for f in row} for row in got["results"]]


def test_a_large_emf_write_is_extracted_by_a_decode_worker(
    logs: Any, cw: Any, live: LiveMonitor
) -> None:
    """1,000 EMF lines in one PutLogEvents: a decode worker extracts them (after the first such
    write started it), and every datapoint is in the metric store."""
    pool = live.monitor.decode_pool
    assert pool is not None
    t = minute_ms(3)

    def document(i: int, namespace: str = "IT/EmfWorker") -> str:
        return json.dumps(
            {
                "_aws": {
                    "Timestamp": t + i,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": [["Shard"]],
                            "Metrics": [{"Name": "Work", "Unit": "Count"}],
                        }
                    ],
                },
                "Shard": f"s{i % 4}",
                "Work": i,
            }
        )

    events = [(t + i, document(i)) for i in range(1000)]
    group_with_stream(logs, "/it/emf-worker")
    group_with_stream(logs, "/it/emf-worker-warm-up")
    deadline = time.monotonic() + 30
    while not pool.pids() and time.monotonic() < deadline:  # the first write starts a worker
        warm_up = [(t + i, document(i, "IT/EmfWorkerWarmUp")) for i in range(600)]
        put(logs, "/it/emf-worker-warm-up", "s1", warm_up)
        time.sleep(0.05)
    before = pool.answered
    assert put(logs, "/it/emf-worker", "s1", events).get("rejectedLogEventsInfo") is None
    assert pool.answered == before + 1

    got = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"{stat.lower()}{shard}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "IT/EmfWorker",
                        "MetricName": "Work",
                        "Dimensions": [{"Name": "Shard", "Value": f"s{shard}"}],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
            for shard in (0, 3)
            for stat in ("Sum", "SampleCount")
        ],
        StartTime=t / 1000 - 60,
        EndTime=t / 1000 + 120,
    )
    totals = {r["Id"]: sum(r["Values"]) for r in got["MetricDataResults"]}
    assert totals == {
        "sum0": float(sum(range(0, 1000, 4))),
        "samplecount0": 250.0,
        "sum3": float(sum(range(3, 1000, 4))),
        "samplecount3": 250.0,
    }


def test_insights_queries_stats_by_bin_and_filter_sort_limit(logs: Any) -> None:
    group = "/it/insights"
    group_with_stream(logs, group)
    t = minute_ms(9)
    events = [
        (t + 1_000, json.dumps({"level": "INFO", "latency": 10})),
        (t + 2_000, json.dumps({"level": "ERROR", "latency": 100})),
        (t + MINUTE_MS + 1_000, json.dumps({"level": "ERROR", "latency": 50})),
        (t + MINUTE_MS + 2_000, json.dumps({"level": "ERROR", "latency": 70})),
        (t + 2 * MINUTE_MS, json.dumps({"level": "INFO", "latency": 1})),
    ]
    put(logs, group, "s1", events)
    window = {"startTime": t // 1000 - 60, "endTime": t // 1000 + 600}

    stats_id = logs.start_query(
        logGroupName=group,
        queryString="stats count(*) as n, sum(latency) as total by bin(1m) as minute",
        **window,
    )["queryId"]
    got = _results(logs, stats_id)
    assert got["status"] == "Complete"
    rows = sorted(_rows(got), key=lambda r: r["minute"])
    assert [(r["n"], float(r["total"])) for r in rows] == [("2", 110.0), ("2", 120.0), ("1", 1.0)]
    assert rows[0]["minute"].startswith(time.strftime("%Y-%m-%d %H:%M", time.gmtime(t / 1000)))
    assert got["statistics"]["recordsMatched"] == 5

    filter_id = logs.start_query(
        logGroupNames=[group],
        queryString=(
            "fields @timestamp, @message, latency | filter level = 'ERROR' "
            "| sort latency desc | limit 2"
        ),
        **window,
    )["queryId"]
    got = _results(logs, filter_id)
    rows = _rows(got)
    assert [r["latency"] for r in rows] == ["100", "70"]
    assert [json.loads(r["@message"])["latency"] for r in rows] == [100, 70]

    stopped = logs.start_query(logGroupName=group, queryString="fields @message", **window)
    assert logs.stop_query(queryId=stopped["queryId"])["success"] is True
    assert _results(logs, stopped["queryId"])["status"] == "Cancelled"
    assert refused(lambda: logs.get_query_results(queryId="no-such-query"))[0] == (
        "ResourceNotFoundException"
    )
    assert (
        refused(lambda: logs.start_query(logGroupName=group, queryString="stats by", **window))[0]
        == "MalformedQueryException"
    )


# --- errors -----------------------------------------------------------------------------------


def test_unknown_groups_and_streams_are_resource_not_found(logs: Any) -> None:
    missing = "/it/does-not-exist"
    now = now_ms()
    group_error = ("ResourceNotFoundException", "The specified log group does not exist.", 400)
    calls: list[Callable[[], Any]] = [
        lambda: logs.describe_log_streams(logGroupName=missing),
        lambda: logs.create_log_stream(logGroupName=missing, logStreamName="s"),
        lambda: put(logs, missing, "s", [(now, "x")]),
        lambda: logs.get_log_events(logGroupName=missing, logStreamName="s"),
        lambda: logs.filter_log_events(logGroupName=missing),
        lambda: logs.put_retention_policy(logGroupName=missing, retentionInDays=7),
        lambda: logs.put_metric_filter(
            logGroupName=missing,
            filterName="f",
            filterPattern="x",
            metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
        ),
        lambda: logs.start_query(
            logGroupName=missing, queryString="fields @message", startTime=0, endTime=1
        ),
        lambda: logs.delete_log_group(logGroupName=missing),
    ]
    for call in calls:
        assert refused(call) == group_error
    group_with_stream(logs, "/it/exists")
    assert refused(lambda: put(logs, "/it/exists", "nope", [(now, "x")])) == (
        "ResourceNotFoundException", "The specified log stream does not exist.", 400,
    )  # fmt: skip


def test_invalid_patterns_and_parameters_are_invalid_parameter(logs: Any) -> None:
    group = "/it/invalid"
    group_with_stream(logs, group)
    bad_pattern = '{ $.level = "ERROR" '
    assert refused(lambda: logs.filter_log_events(logGroupName=group, filterPattern=bad_pattern)) == (
        "InvalidParameterException", "Invalid filter pattern", 400,
    )  # fmt: skip
    transformation = {"metricName": "m", "metricNamespace": "IT/Invalid", "metricValue": "1"}
    assert refused(
        lambda: logs.put_metric_filter(
            logGroupName=group,
            filterName="bad",
            filterPattern=bad_pattern,
            metricTransformations=[transformation],
        )
    ) == ("InvalidParameterException", "Invalid metric filter pattern", 400)
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []
    assert refused(
        lambda: logs.test_metric_filter(filterPattern=bad_pattern, logEventMessages=["x"])
    ) == ("InvalidParameterException", "Invalid metric filter pattern", 400)

    code, message, status = refused(
        lambda: logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    )
    assert (code, status) == ("InvalidParameterException", 400)
    assert message.startswith(
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy "
        "constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30,"
    )
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert "retentionInDays" not in described  # nothing changed

    code, message, _ = refused(lambda: logs.create_log_group(logGroupName="bad name!"))
    assert code == "InvalidParameterException"
    assert "Member must satisfy regular expression pattern" in message
    assert refused(lambda: logs.get_log_events(
        logGroupName=group, logStreamName="s1", nextToken="garbage"
    )) == ("InvalidParameterException", "The specified nextToken is invalid.", 400)  # fmt: skip
