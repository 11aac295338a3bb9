"""The gateway's telemetry buffer: logs every tick, metrics once their second is over."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest
from gateway_support import FakeInvoker, RecordingSink, eventually, make_config

from heron.gateway import app as app_module
from heron.gateway.api_metrics import HTTP_METRICS, HttpMetrics, WebSocketMetrics
from heron.gateway.app import Gateway
from heron.gateway.emitter import TelemetryBuffer
from heron.types import LogEvent, MetricDatum
from heron.wakeups import delay_on_grid

API = {"ApiId": "a1", "Stage": "prod"}


def test_tick_holds_back_the_current_second_and_flush_hands_over_everything() -> None:
    sink = RecordingSink()
    buffer = TelemetryBuffer(sink, clock=lambda: 100.0)
    http = HttpMetrics(buffer.aggregator, "a1", "prod")
    for at, status in ((100.2, 200), (100.7, 503), (101.1, 200)):
        http.record(
            method="GET",
            resource="/x",
            status=status,
            latency_ms=5.0,
            integration_latency_ms=4.0,
            data_processed=10,
            throttled=False,
            at=at,
        )
    buffer.log(LogEvent("g", "s", 1, "line"))
    buffer.tick(101.5)
    assert [e.message for e in sink.logs] == ["line"]
    assert sink.values("5xx", **API) == [0.0, 1.0]  # second 100 only
    assert {s.timestamp_ms for s in sink.samples} == {100_000}
    buffer.flush()
    assert sink.values("5xx", **API) == [0.0, 1.0, 0.0]
    assert sink.values("Count", ApiId="a1") == [1.0, 1.0, 1.0]
    assert buffer.pending == 0


def test_every_http_metric_goes_to_every_dimension_set_with_its_unit() -> None:
    sink = RecordingSink()
    buffer = TelemetryBuffer(sink, clock=lambda: 0.0)
    http = HttpMetrics(buffer.aggregator, "a1", "prod", detailed=True)
    http.record(
        method="POST",
        resource="/m",
        status=404,
        latency_ms=2.5,
        integration_latency_ms=None,
        data_processed=7,
        throttled=True,
        at=3.0,
    )
    buffer.flush()
    detailed = {**API, "Method": "POST", "Resource": "/m"}
    for dims in ({"ApiId": "a1"}, API, detailed):
        got = {s.name for s in sink.samples if s.dimensions == MetricDatum.dims(dims)}
        assert got == {name for name, _ in HTTP_METRICS} - {"IntegrationLatency"}, dims
        assert sink.values("4xx", **dims) == sink.values("4XXError", **dims) == [1.0]
        assert sink.values("ThrottledRequests", **dims) == [1.0]
        assert sink.values("DataProcessed", **dims) == [7.0]
        assert sink.values("Latency", **dims) == [2.5]
    units = {name: unit for name, unit in HTTP_METRICS}
    assert all(s.unit == units[s.name] and s.namespace == "AWS/ApiGateway" for s in sink.samples)


def test_websocket_metrics_per_route_and_the_gauge_without_route() -> None:
    sink = RecordingSink()
    buffer = TelemetryBuffer(sink, clock=lambda: 0.0)
    ws = WebSocketMetrics(buffer.aggregator, "w1", "local")
    ws.record("echo", [("MessageCount", 1.0), ("IntegrationLatency", 3.0)], 1.0)
    ws.active_connections(4, 1.0)
    buffer.flush()
    route = {"ApiId": "w1", "Stage": "local", "Route": "echo"}
    assert sink.values("MessageCount", **route) == [1.0]
    assert sink.units("IntegrationLatency") == {"Milliseconds"}
    assert sink.values("ActiveConnections", ApiId="w1", Stage="local") == [4.0]
    assert not sink.values("ActiveConnections", **route)


def test_ready_made_datums_are_aggregated_too() -> None:
    sink = RecordingSink()
    buffer = TelemetryBuffer(sink, clock=lambda: 0.0)
    dims = MetricDatum.dims({"ApiId": "a1"})
    buffer.metrics([MetricDatum("AWS/ApiGateway", "Count", 1.0, "Count", dims, 5_500)] * 3)
    buffer.flush()
    [sample] = sink.samples
    assert (sample.timestamp_ms, sample.values, sample.counts) == (5_000, (1.0,), (3.0,))


def test_a_failing_sink_is_logged_not_raised(caplog: Any) -> None:
    class Broken(RecordingSink):
        def put_samples(self, samples: Any) -> None:
            raise OSError("disk full")

    buffer = TelemetryBuffer(Broken(), clock=lambda: 0.0)
    buffer.metrics([MetricDatum("N", "M", 1.0)])
    buffer.flush()
    assert "telemetry sink rejected" in caplog.text
    assert buffer.pending == 0


async def test_an_idle_gateway_sleeps_yet_hands_a_new_request_over_at_once() -> None:
    sink = RecordingSink()
    gateway = Gateway([], FakeInvoker({}), sink, make_config(), time.time)
    ticks: list[float] = []
    tick = gateway.tick

    async def counting_tick(now: float) -> None:
        ticks.append(now)
        await tick(now)

    gateway.tick = counting_tick  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(gateway.run_housekeeping())
    try:
        await asyncio.sleep(2.0)  # idle: nothing buffered, no sockets
        assert len(ticks) <= 1  # on the IDLE_WAKE_S grid, not every 0.25 s or every second
        # Just after a whole second, where the idle tick is furthest away: the request's log
        # wakes the housekeeper, which hands it over at the next ordinary tick.
        await asyncio.sleep(delay_on_grid(1.0) + 0.02)
        logged = loop.time()
        gateway.telemetry.log(LogEvent("g", "s", 1, "line"))
        await eventually(lambda: len(sink.logs) == 1)
        assert loop.time() - logged < 0.6
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_idle_gateway_still_wakes_for_its_gauge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "IDLE_WAKE_S", 3600.0)  # only the gauge can end the sleep
    sink = RecordingSink()
    gateway = Gateway([], FakeInvoker({}), sink, make_config(gauge_interval_s=1.0), time.time)
    task = asyncio.create_task(gateway.run_housekeeping())

    def gauged_seconds() -> int:
        stage_wide = [s for s in sink.samples if s.name == "ActiveConnections"]
        return len({s.timestamp_ms for s in stage_wide if len(s.dimensions) == 1})

    try:
        await eventually(lambda: gauged_seconds() >= 3, timeout_s=6.0)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
