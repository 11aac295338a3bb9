"""Percentile maths, the recorder, and the summary's table and JSON forms."""

from __future__ import annotations

import json
import math

import pytest

from heron.load.summary import LatencyStats, Recorder, format_summary, percentile, status_class


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 90, 3.7),  # numpy.percentile([1,2,3,4], 90) == 3.7
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([float(i) for i in range(1, 101)], 99, 99.01),
    ],
)
def test_percentile_interpolates_like_numpy(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan_and_out_of_range_is_an_error() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_status_class() -> None:
    assert [status_class(s) for s in (200, 201, 302, 404, 429, 503)] == [
        "2xx",
        "2xx",
        "3xx",
        "4xx",
        "4xx",
        "5xx",
    ]


def test_latency_stats_are_in_milliseconds() -> None:
    stats = LatencyStats.of([0.004, 0.001, 0.003, 0.002])
    assert stats.count == 4
    assert stats.p50_ms == pytest.approx(2.5)
    assert stats.max_ms == pytest.approx(4.0)
    assert stats.mean_ms == pytest.approx(2.5)
    assert math.isnan(LatencyStats.of([]).p99_ms)


def _recorded() -> Recorder:
    r = Recorder()
    r.record("signup", "2xx", 0.010)
    for ms in (1, 2, 3, 4):
        r.record("get_self", "2xx", ms / 1000)
    r.record("get_self", "5xx", 0.050, error="http_500")
    r.record("bad_token", "4xx", 0.001, error="expected")
    r.record("history", "error", 10.0, error="timeout")
    r.ws_sent = 3
    for ms in (5, 7):
        r.ws_delivered(ms / 1000)
        r.record("ws_send", "delivered", ms / 1000)
    r.record("ws_send", "error", 0.2, error="ws_delivery_timeout")
    return r


def test_recorder_counts_operations_outcomes_and_errors() -> None:
    r = _recorded()
    assert r.completed == 10  # sign-ups are setup, not load
    assert r.error_count == 3
    summary = r.summarize(
        base_url="http://127.0.0.1:8080",
        users=2,
        ws_pairs=1,
        target_rate=10.0,
        duration_s=1.0,
        elapsed_s=2.0,
        setup_s=0.1,
        scheduled=10,
        skipped=0,
    )
    assert summary.completed == 10
    assert summary.throughput == pytest.approx(5.0)
    assert summary.operations["get_self"].count == 5
    assert summary.operations["get_self"].by_status == {"2xx": 4, "5xx": 1}
    assert summary.operations["get_self"].latency.max_ms == pytest.approx(50.0)
    assert summary.errors == {"http_500": 1, "timeout": 1, "ws_delivery_timeout": 1}
    assert summary.expected_errors == 1
    assert (summary.ws_sent, summary.ws_delivered) == (3, 2)
    assert summary.ws_latency.p50_ms == pytest.approx(6.0)


def test_recent_p99_follows_the_latest_samples() -> None:
    r = Recorder()
    assert math.isnan(r.recent_p99_ms())
    for _ in range(100):
        r.record("get_self", "2xx", 0.002)
    assert r.recent_p99_ms() == pytest.approx(2.0)


def test_format_summary_is_a_readable_table() -> None:
    summary = _recorded().summarize(
        base_url="http://127.0.0.1:8080",
        users=2,
        ws_pairs=1,
        target_rate=10.0,
        duration_s=1.0,
        elapsed_s=2.0,
        setup_s=0.1,
        scheduled=10,
        skipped=0,
        notes=("only 2 of 3 users signed up",),
    )
    text = format_summary(summary)
    lines = text.splitlines()
    assert lines[0].startswith("Load against http://127.0.0.1:8080: 2 users (1 WebSocket pairs)")
    assert "Completed 10 ops in 2.0 s = 5.0 ops/s" in lines[1]
    header = next(line for line in lines if line.startswith("operation"))
    assert header.split() == [
        "operation",
        "count",
        "ok",
        "4xx",
        "5xx",
        "error",
        "p50",
        "ms",
        "p90",
        "ms",
        "p99",
        "ms",
        "max",
        "ms",
    ]
    row = next(line for line in lines if line.startswith("get_self"))
    assert row.split()[:6] == ["get_self", "5", "4", "0", "1", "0"]
    ws_row = next(line for line in lines if line.startswith("ws_send"))
    assert ws_row.split()[:6] == ["ws_send", "3", "2", "0", "0", "1"]
    assert "WebSocket messages: 2/3 delivered" in text
    assert "Unexpected errors: 3 (http_500 1, timeout 1, ws_delivery_timeout 1)" in text
    assert "Note: only 2 of 3 users signed up" in text


def test_as_dict_is_json_with_nulls_for_missing_percentiles() -> None:
    summary = Recorder().summarize(
        base_url="u",
        users=1,
        ws_pairs=0,
        target_rate=1.0,
        duration_s=1.0,
        elapsed_s=1.0,
        setup_s=0.0,
        scheduled=0,
        skipped=0,
    )
    data = json.loads(json.dumps(summary.as_dict(), allow_nan=False))
    assert data["ws_latency"]["p99_ms"] is None
    assert data["completed"] == 0 and data["throughput"] == 0 and data["error_count"] == 0
