"""The decisions of the monitor commands: queries, paging, --follow dedup, error messages."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError  # type: ignore[import-untyped]

from heron.cli_monitor.client import (
    MonitorError,
    MonitorTarget,
    connect_host,
    explain,
    resolve_target,
)
from heron.cli_monitor.logs import FollowCursor, filter_events
from heron.cli_monitor.metrics import (
    auto_period,
    gap_filled,
    merge_results,
    metric_queries,
    parse_stats,
)

TARGET = MonitorTarget("http://127.0.0.1:4566", Path("/data/credentials"))


def event(event_id: str, ts: int) -> dict[str, Any]:
    return {"eventId": event_id, "timestamp": ts, "logStreamName": "s", "message": event_id}


def test_follow_prints_each_event_once_even_when_it_arrives_late() -> None:
    cursor = FollowCursor(start_ms=1_000, lookback_ms=500)
    assert [e["eventId"] for e in cursor.fresh([event("b", 2_000), event("a", 1_500)])] == [
        "a",
        "b",
    ]
    assert cursor.query_start() == 1_500
    # The next poll sees the same events again plus one that was ingested late.
    again = cursor.fresh([event("a", 1_500), event("late", 1_800), event("b", 2_000)])
    assert [e["eventId"] for e in again] == ["late"]
    assert cursor.fresh([event("b", 2_000)]) == []
    assert cursor.query_start() == 1_500


def test_follow_never_starts_before_since() -> None:
    cursor = FollowCursor(start_ms=10_000, lookback_ms=60_000)
    cursor.fresh([event("x", 10_500)])
    assert cursor.query_start() == 10_000


class FakeLogs:
    """FilterLogEvents over a list, ``page`` events at a time, recording each request."""

    def __init__(self, events: list[dict[str, Any]], page: int) -> None:
        self.events, self.page, self.requests = events, page, list[dict[str, Any]]()

    def filter_log_events(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = int(request.get("nextToken", 0))
        size = min(self.page, request["limit"])
        out: dict[str, Any] = {"events": self.events[start : start + size]}
        if start + size < len(self.events):
            out["nextToken"] = str(start + size)
        return out


def test_filter_events_pages_until_done_or_the_limit() -> None:
    logs = FakeLogs([event(str(i), i) for i in range(7)], page=3)
    assert [e["eventId"] for e in filter_events(logs, {"logGroupName": "g"})] == list("0123456")
    assert len(logs.requests) == 3
    limited = FakeLogs([event(str(i), i) for i in range(7)], page=3)
    assert len(list(filter_events(limited, {"logGroupName": "g"}, limit=4))) == 4
    assert [r["limit"] for r in limited.requests] == [4, 1]


def test_stats_are_split_deduplicated_and_default_to_average() -> None:
    assert parse_stats(None) == ["Average"]
    assert parse_stats(["Sum,p99", "Sum", " Maximum "]) == ["Sum", "p99", "Maximum"]
    with pytest.raises(MonitorError):
        parse_stats([" , "])


def test_auto_period_keeps_tables_short() -> None:
    assert auto_period(timedelta(hours=1)) == 60
    assert auto_period(timedelta(hours=3)) == 300
    assert auto_period(timedelta(days=2)) == 3600
    assert auto_period(timedelta(days=400)) == 86400


def test_one_query_per_stat_and_results_merged_by_time() -> None:
    queries = metric_queries(
        "AWS/Lambda", "Invocations", [("FunctionName", "f")], ["Sum", "p99"], 60
    )
    assert [q["Id"] for q in queries] == ["m0", "m1"]
    assert queries[1]["MetricStat"] == {
        "Metric": {
            "Namespace": "AWS/Lambda",
            "MetricName": "Invocations",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
        },
        "Period": 60,
        "Stat": "p99",
    }
    t0 = datetime(2024, 3, 14, 12, tzinfo=UTC)
    t2 = t0 + timedelta(minutes=2)
    points: dict[datetime, dict[str, float]] = {}
    merge_results(
        [
            {"Id": "m0", "Timestamps": [t0, t2], "Values": [3, 5]},
            {"Id": "m1", "Timestamps": [t2], "Values": [1.5]},
        ],
        {"m0": "Sum", "m1": "p99"},
        points,
    )
    assert points == {t0: {"Sum": 3.0}, t2: {"Sum": 5.0, "p99": 1.5}}
    assert gap_filled(points, "Sum", 60) == [3.0, None, 5.0]
    assert gap_filled(points, "p99", 60) == [None, None, 1.5]


def test_wildcard_binds_are_dialled_on_loopback() -> None:
    assert connect_host("0.0.0.0") == "127.0.0.1"
    assert connect_host("::") == "[::1]"
    assert connect_host("::1") == "[::1]"
    assert connect_host("10.0.0.5") == "10.0.0.5"


def test_target_comes_from_settings_unless_flags_say_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERON_MONITOR_PORT", raising=False)
    monkeypatch.delenv("HERON_DATA_DIR", raising=False)
    monkeypatch.delenv("HERON_HOST", raising=False)
    (tmp_path / "heron.toml").write_text('monitor_port = 4999\nhost = "0.0.0.0"\n')
    args = argparse.Namespace(config=None, data_dir=None, endpoint=None)
    assert resolve_target(args) == MonitorTarget(
        "http://127.0.0.1:4999", Path(".heron") / "credentials"
    )
    flags = argparse.Namespace(config=None, data_dir="d", endpoint="http://h:1/")
    assert resolve_target(flags) == MonitorTarget("http://h:1", Path("d") / "credentials")
    with pytest.raises(MonitorError, match="must be a URL"):
        resolve_target(argparse.Namespace(config=None, data_dir=None, endpoint="h:1"))


def test_failures_become_one_line_with_the_next_step() -> None:
    refused = explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/"), TARGET)
    assert refused is not None and "is `heron up` running?" in str(refused)
    missing = ClientError(
        {
            "Error": {
                "Code": "ResourceNotFoundException",
                "Message": "The specified log group does not exist.",
            }
        },
        "FilterLogEvents",
    )
    assert str(explain(missing, TARGET)) == (
        "The specified log group does not exist. (ResourceNotFoundException); "
        "`heron logs groups` lists the log groups"
    )
    denied = ClientError(
        {"Error": {"Code": "UnrecognizedClientException", "Message": "bad token"}}, "ListMetrics"
    )
    assert "/data/credentials" in str(explain(denied, TARGET))
    assert explain(KeyError("x"), TARGET) is None
