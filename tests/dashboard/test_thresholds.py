"""Tile colours from the seed's thresholds (pure decisions)."""

from __future__ import annotations

from heron.dashboard.thresholds import (
    Level,
    function_checks,
    http_api_checks,
    level_for,
    table_checks,
    websocket_api_checks,
    worst,
)


def test_level_for_boundaries() -> None:
    assert level_for(None, 10) is Level.IDLE
    assert level_for(7.9, 10) is Level.OK
    assert level_for(8.0, 10) is Level.WARN  # 80 % of the threshold
    assert level_for(10.0, 10) is Level.WARN  # at the threshold: not yet past it
    assert level_for(10.01, 10) is Level.ALARM


def test_function_error_rate_above_one_percent_is_red() -> None:
    checks = function_checks({"invocations": 100, "errors": 2, "p99": 50, "memory": 20}, 1000)
    assert worst(checks, active=True) is Level.ALARM
    assert any("error rate" in c.reason() for c in checks if c.level is Level.ALARM)


def test_any_function_error_below_the_rate_is_amber() -> None:
    checks = function_checks({"invocations": 1000, "errors": 1, "p99": 50, "memory": 20}, 1000)
    assert worst(checks, active=True) is Level.WARN


def test_function_duration_memory_and_concurrency_thresholds() -> None:
    base = {"invocations": 10, "errors": 0, "p99": 100.0, "memory": 10.0, "concurrency": 1}
    assert worst(function_checks(base, 1000), active=True) is Level.OK
    assert worst(function_checks({**base, "p99": 25_001}, 1000), active=True) is Level.ALARM
    assert worst(function_checks({**base, "memory": 81}, 1000), active=True) is Level.ALARM
    assert worst(function_checks({**base, "memory": 70}, 1000), active=True) is Level.WARN
    assert worst(function_checks({**base, "concurrency": 801}, 1000), active=True) is Level.ALARM


def test_no_traffic_is_idle_whatever_the_checks() -> None:
    assert worst(function_checks({}, 1000), active=False) is Level.IDLE


def test_http_api_5xx_rate_latency_and_request_rate() -> None:
    ok = {"requests": 1000, "5xx": 10, "latency": 100}
    assert worst(http_api_checks(ok, 300), active=True) is Level.OK
    assert worst(http_api_checks({**ok, "5xx": 51}, 300), active=True) is Level.ALARM
    assert worst(http_api_checks({**ok, "latency": 1200}, 300), active=True) is Level.ALARM
    # 1,000 requests/s over five minutes is the seed's throttling threshold
    assert worst(http_api_checks({**ok, "requests": 300_001}, 300), active=True) is Level.ALARM


def test_websocket_latency_connections_and_errors() -> None:
    ok = {"connections": 10, "latency": 20, "errors": 0}
    assert worst(websocket_api_checks(ok), active=True) is Level.OK
    assert worst(websocket_api_checks({**ok, "latency": 101}), active=True) is Level.ALARM
    assert worst(websocket_api_checks({**ok, "connections": 10_001}), active=True) is Level.ALARM
    assert worst(websocket_api_checks({**ok, "errors": 1}), active=True) is Level.WARN
    assert worst(websocket_api_checks({**ok, "errors": 11}), active=True) is Level.ALARM


def test_table_latency_and_error_rate() -> None:
    ok = {"latency": 5, "requests": 1000, "errors": 0}
    assert worst(table_checks(ok), active=True) is Level.OK
    assert worst(table_checks({**ok, "latency": 150}), active=True) is Level.ALARM
    assert worst(table_checks({**ok, "errors": 11}), active=True) is Level.ALARM
