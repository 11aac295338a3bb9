"""The dashboard's JSON endpoints over real stores: graph data, tiles, metrics, logs, errors."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from heron.dashboard.live import Broadcaster, sse_event
from heron.types import MetricDatum, Sample

from .helpers import START, Setup, sign_in

NOW_MS = int(START * 1000)


def lam(name: str, fn: str, values: list[float], ago_s: float, unit: str = "Count") -> Sample:
    return Sample(
        "AWS/Lambda",
        name,
        MetricDatum.dims({"FunctionName": fn}),
        NOW_MS - int(ago_s * 1000),
        values=tuple(values),
        unit=unit,
    )


def put_function_traffic(setup: Setup, fn: str, invocations: int, errors: int) -> None:
    setup.metrics.put_samples(
        [
            lam("Invocations", fn, [1.0] * invocations, 30),
            lam("Errors", fn, [1.0] * errors + [0.0] * (invocations - errors), 30),
            lam("Duration", fn, [float(i + 1) for i in range(invocations)], 30, "Milliseconds"),
        ]
    )


async def test_layout_names_the_twelve_resources_and_every_graph(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    layout = (await client.get("/dashboard/api/layout")).json()
    names = [t["name"] for t in layout["tiles"]]
    assert names == [
        "createUser", "getUser", "updateUser", "deleteUser", "sendMessage", "connectionHandler",
        "HTTP API", "WebSocket API", "Users", "Messages", "Notifications", "Connections",
    ]  # fmt: skip
    charts = {c["id"]: c for c in layout["charts"]}
    assert charts["function-error-rate"]["thresholds"][0]["value"] == 1.0
    assert charts["duration-sendMessage"]["series"] == ["p50", "p95", "p99"]
    assert charts["http-latency"]["thresholds"][0]["value"] == 1000.0
    assert charts["ws-latency"]["thresholds"][0]["value"] == 100.0
    assert charts["table-latency"]["thresholds"][0]["value"] == 100.0
    assert layout["ranges"] == ["15m", "1h", "6h", "24h", "7d", "30d", "455d"]


async def test_chart_data_puts_values_on_the_period_grid(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    put_function_traffic(setup, "getUser", invocations=50, errors=5)
    data = (await client.get("/dashboard/api/charts?range=15m")).json()
    assert data["period"] == 60
    assert data["size"] in (15, 16)
    layout = (await client.get("/dashboard/api/layout")).json()
    order = {c["id"]: c["series"] for c in layout["charts"]}
    idx = order["function-error-rate"].index("getUser")
    rates = [v for v in data["charts"]["function-error-rate"][idx] if v is not None]
    assert rates == [10.0]  # 5 errors of 50 invocations
    slot = (NOW_MS - 30_000 - data["start"]) // 60_000
    assert data["charts"]["function-invocations"][idx][slot] == 50.0


async def test_tiles_turn_red_past_the_error_rate_and_stay_grey_without_traffic(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    put_function_traffic(setup, "getUser", invocations=50, errors=5)
    put_function_traffic(setup, "createUser", invocations=200, errors=0)
    snapshot = setup.dashboard.overview.snapshot()
    tiles = {t["id"]: t for t in snapshot["tiles"]}
    assert len(tiles) == 12
    assert tiles["function:getUser"]["level"] == "alarm"
    assert "error rate %" in tiles["function:getUser"]["reasons"][0]
    assert tiles["function:createUser"]["level"] == "ok"
    assert tiles["function:deleteUser"]["level"] == "idle"
    numbers = {n["key"]: n["value"] for n in tiles["function:createUser"]["numbers"]}
    assert numbers["invocations"] == 200.0 and numbers["errors"] == 0.0
    assert numbers["p99"] == pytest.approx(198, rel=0.02)


async def test_bad_ranges_unknown_metrics_and_oversized_queries_are_clear_4xx(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    put_function_traffic(setup, "getUser", invocations=3, errors=0)
    cases = [
        ("/dashboard/api/charts?range=3y", 400, "BadRange"),
        ("/dashboard/api/metric?namespace=AWS/Lambda&name=Nope&stat=Sum", 404, "UnknownMetric"),
        ("/dashboard/api/metric?namespace=AWS/Lambda", 400, "MissingParameter"),
        (
            "/dashboard/api/metric?namespace=AWS/Lambda&name=Invocations"
            "&dimensions=FunctionName=getUser&stat=p101",
            400,
            "BadStatistic",
        ),
        (
            "/dashboard/api/metric?namespace=AWS/Lambda&name=Invocations"
            "&dimensions=FunctionName=getUser&stat=Sum&range=7d&period=60",
            400,
            "BadRequest",
        ),
        ("/dashboard/api/metric?namespace=A&name=B&dimensions=oops", 400, "BadRequest"),
        ("/dashboard/api/logs?group=/nope", 404, "UnknownLogGroup"),
        ("/dashboard/api/logs", 400, "MissingParameter"),
        ("/dashboard/api/logs?group=g&limit=100000", 400, "BadRequest"),
        ("/dashboard/api/whatever", 404, "NotFound"),
    ]
    for path, status, code in cases:
        response = await client.get(path)
        assert response.status_code == status, (path, response.text)
        body = response.json()
        assert body["error"] == code, (path, body)
        assert "Traceback" not in body["message"]


async def test_metric_endpoint_returns_any_stored_series(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    put_function_traffic(setup, "getUser", invocations=7, errors=0)
    response = await client.get(
        "/dashboard/api/metric?namespace=AWS/Lambda&name=Invocations"
        "&dimensions=FunctionName=getUser&stat=Sum&range=1h"
    )
    assert response.status_code == 200
    assert [v for v in response.json()["values"] if v is not None] == [7.0]


async def test_log_search_returns_the_newest_matches_and_rejects_bad_patterns(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    group = "/aws/lambda/getUser"
    setup.logs.create_group(group)
    setup.logs.create_stream(group, "s1")
    lines = [(NOW_MS - 600_000 + i * 1000, f'{{"level":"{lvl}","n":{i}}}') for i, lvl in
             enumerate(["INFO", "ERROR"] * 150)]  # fmt: skip
    setup.logs.put_events(group, "s1", lines)
    groups = (await client.get("/dashboard/api/log-groups")).json()["groups"]
    assert [g["name"] for g in groups] == [group]
    found = (
        await client.get(
            "/dashboard/api/logs",
            params={"group": group, "pattern": '{ $.level = "ERROR" }', "limit": 10},
        )
    ).json()
    ns = [orjson.loads(e["message"])["n"] for e in found["events"]]
    assert ns == list(range(281, 300, 2))  # the ten newest errors, oldest first
    bad = await client.get("/dashboard/api/logs", params={"group": group, "pattern": "{ $.x = "})
    assert bad.status_code == 400 and bad.json()["error"] == "BadPattern"


async def test_broadcaster_shares_one_loop_and_stops_without_subscribers() -> None:
    calls = 0

    def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"n": calls}

    hub = Broadcaster(compute, interval_s=0.01)
    a, b = hub.stream(), hub.stream()
    assert await anext(a) == b"retry: 2000\n\n"
    assert await anext(b) == b"retry: 2000\n\n"
    first_a, first_b = await anext(a), await anext(b)
    assert first_a.startswith(b"event: snapshot\ndata: {")
    assert first_b.startswith(b"event: snapshot\ndata: {")
    await a.aclose()
    await b.aclose()
    await asyncio.sleep(0.05)
    settled = calls
    await asyncio.sleep(0.05)
    assert calls == settled  # no subscribers, no work
    assert hub.stats()["snapshots"] == calls
    await hub.close()


def test_sse_event_is_one_data_line() -> None:
    assert sse_event("x", {"a": "b\nc"}) == b'event: x\ndata: {"a":"b\\nc"}\n\n'
