"""The monitor's sink: platform datums and log lines (with EMF) become queryable metrics and logs."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from heron.monitor.contracts import MetricId
from heron.monitor.logs.patterns import compile_pattern
from heron.monitor.service import Monitor
from heron.types import Dimensions, LogEvent, MetricDatum, Sample

NOW = 1_795_000_000.0


def test_datums_and_emf_lines_become_metrics_and_logs_are_filterable(tmp_path: Path) -> None:
    monitor = Monitor(tmp_path, clock=lambda: NOW)
    try:
        ts = int(NOW * 1000) - 30_000
        dims = MetricDatum.dims({"FunctionName": "sendMessage"})
        monitor.sink.put_metric_data(
            [MetricDatum("AWS/Lambda", "Duration", v, "Milliseconds", dims, ts) for v in (3, 5)]
        )
        emf = {
            "_aws": {
                "Timestamp": ts,
                "CloudWatchMetrics": [
                    {"Namespace": "Heron", "Dimensions": [["FunctionName"]],
                     "Metrics": [{"Name": "MessagesSent", "Unit": "Count"}]}
                ],
            },
            "FunctionName": "sendMessage",
            "MessagesSent": 2,
        }  # fmt: skip
        record = {"level": "INFO", "function": "sendMessage", "status": "success"}
        monitor.sink.put_log_events(
            [
                LogEvent("/aws/lambda/sendMessage", "s1", ts, orjson.dumps(emf).decode()),
                LogEvent("/aws/lambda/sendMessage", "s1", ts + 1, orjson.dumps(record).decode()),
            ]
        )
        monitor.sink.flush()
        start, end = ts - 60_000, ts + 60_000
        duration = MetricId("AWS/Lambda", "Duration", dims)
        _, values = monitor.metrics.series(
            duration, start_ms=start, end_ms=end, period_s=300, statistic="Sum"
        )
        assert values == [8.0]
        sent = MetricId("Heron", "MessagesSent", dims)
        _, values = monitor.metrics.series(
            sent, start_ms=start, end_ms=end, period_s=300, statistic="Sum"
        )
        assert values == [2.0]
        page = monitor.logs.filter_events(
            "/aws/lambda/sendMessage",
            pattern=compile_pattern('{ $.level = "INFO" }'),
            start_ms=start,
            end_ms=end,
        )
        assert [orjson.loads(e.message)["status"] for e in page.events] == ["success"]
    finally:
        monitor.close()


def test_flush_returns_promptly_when_nothing_is_pending(tmp_path: Path) -> None:
    monitor = Monitor(tmp_path)
    started = time.monotonic()
    monitor.sink.flush()
    monitor.close()
    assert time.monotonic() - started < 5


def test_samples_with_counts_and_statistic_sets_reach_the_metric_store(tmp_path: Path) -> None:
    monitor = Monitor(tmp_path, clock=lambda: NOW)
    try:
        ts = int(NOW * 1000) - 30_000
        dims = MetricDatum.dims({"ApiId": "local-http"})
        monitor.sink.put_samples(
            [
                Sample("AWS/ApiGateway", "5xx", dims, ts, (0.0, 1.0), (7.0, 3.0), None, "Count"),
                Sample("AWS/ApiGateway", "Latency", dims, ts, (2.0, 4.0), (), None, "Milliseconds"),
                Sample("Heron", "Set", (), ts, (), (), (4.0, 10.0, 1.0, 4.0), "Count", 1),
            ]
        )
        monitor.sink.put_metric_data(
            [MetricDatum("AWS/ApiGateway", "Latency", 6.0, "Milliseconds", dims, ts)]
        )
        monitor.sink.flush()
        start, end = ts - 60_000, ts + 60_000

        def stat(namespace: str, name: str, dimensions: Dimensions, statistic: str) -> list[float]:
            metric = MetricId(namespace, name, dimensions)
            return monitor.metrics.series(
                metric, start_ms=start, end_ms=end, period_s=300, statistic=statistic
            )[1]

        assert stat("AWS/ApiGateway", "5xx", dims, "SampleCount") == [10.0]
        assert stat("AWS/ApiGateway", "5xx", dims, "Sum") == [3.0]
        assert stat("AWS/ApiGateway", "Latency", dims, "Average") == [4.0]
        assert stat("AWS/ApiGateway", "Latency", dims, "Maximum") == [6.0]
        assert stat("Heron", "Set", (), "Sum") == [10.0]
        assert stat("Heron", "Set", (), "SampleCount") == [4.0]
    finally:
        monitor.close()


def test_a_bad_unit_is_refused_at_the_call_and_nothing_is_kept(tmp_path: Path) -> None:
    monitor = Monitor(tmp_path, clock=lambda: NOW)
    try:
        ts = int(NOW * 1000) - 30_000
        good = Sample("Heron", "Good", (), ts, (1.0,), unit="Count")
        bad = Sample("Heron", "Bad", (), ts, (1.0,), unit="Parsecs")
        with pytest.raises(ValueError, match="Parsecs"):
            monitor.sink.put_samples([good, bad])
        with pytest.raises(ValueError, match="Parsecs"):
            monitor.sink.put_metric_data([MetricDatum("Heron", "Bad", 1.0, "Parsecs")])
        monitor.sink.flush()
        assert monitor.metrics.list_metrics(namespace="Heron") == []
    finally:
        monitor.close()
