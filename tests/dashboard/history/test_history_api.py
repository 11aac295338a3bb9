"""The History endpoints over real metric, alarm and notify stores, signed in through the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heron.dashboard.history.costs import Prices
from heron.dashboard.history.service import HistoryService, Limits
from heron.dashboard.layout import DashboardConfig
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify import operations
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.model import Alert, Severity
from heron.monitor.notify.notifier import open_context
from heron.monitor.notify.pipeline import Context
from heron.types import FunctionSpec, MetricDatum, Sample

from ..helpers import START, FakeClock, Setup, sign_in

NOW_MS = int(START * 1000)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WS = MetricDatum.dims({"ApiId": "local-ws"})
HTTP = MetricDatum.dims({"ApiId": "local-http"})


def sample(
    ns: str,
    name: str,
    dims: tuple[tuple[str, str], ...],
    ts: int,
    *values: float,
    unit: str = "Count",
) -> Sample:
    return Sample(ns, name, dims, ts, values=tuple(values), unit=unit)


def fn(name: str) -> tuple[tuple[str, str], ...]:
    return MetricDatum.dims({"FunctionName": name})


def put_growth(metrics: MetricStore) -> None:
    """Active WebSocket connections growing 100 an hour for 48 h, from 1,000."""
    metrics.put_samples(
        [
            sample(
                "AWS/ApiGateway",
                "ActiveConnections",
                WS,
                NOW_MS - (48 - h) * HOUR_MS + 60_000,
                1000.0 + 100 * h,
            )
            for h in range(48)
        ]
    )


async def test_trend_compares_with_a_day_earlier(client: httpx.AsyncClient, setup: Setup) -> None:
    await sign_in(client)
    # 10 requests in the last minute-but-one today, 4 at the same time yesterday.
    ts = NOW_MS - 30 * 60_000
    setup.metrics.put_samples(
        [
            sample("AWS/ApiGateway", "Count", HTTP, ts, *[1.0] * 10),
            sample("AWS/ApiGateway", "Count", HTTP, ts - DAY_MS, *[1.0] * 4),
        ]
    )
    response = await client.get(
        "/dashboard/api/history/trend?namespace=AWS/ApiGateway&name=Count"
        "&dimensions=ApiId=local-http&stat=Sum&range=1h&compare=day"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == 60 and body["size"] == len(body["current"]) == len(body["earlier"])
    assert body["currentTotal"] == 10 and body["earlierTotal"] == 4
    assert body["totalChange"] == pytest.approx(150.0)
    i = body["current"].index(10.0)
    assert body["earlier"][i] == 4.0 and body["change"][i] == 150.0
    assert body["earlierStart"] == body["start"] - DAY_MS


async def test_history_page_and_bad_input_give_clear_errors(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    assert (await client.get("/dashboard/history")).status_code == 303  # to sign-in
    assert (await client.get("/dashboard/api/history/cost")).status_code == 401
    await sign_in(client)
    page = await client.get("/dashboard/history")
    assert page.status_code == 200 and 'id="capacity-table"' in page.text
    assert "/dashboard/history/static/history.js" in page.text
    script = await client.get("/dashboard/history/static/history.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    setup.metrics.put_samples(
        [sample("AWS/Lambda", "Invocations", fn("getUser"), NOW_MS - 60_000, 1.0)]
    )
    base = "/dashboard/api/history/trend?namespace=AWS/Lambda&name=Invocations"
    cases = [
        (base + "&dimensions=FunctionName=getUser&range=3y", 400, "BadRange"),
        (base + "&dimensions=FunctionName=getUser&compare=month", 400, "BadRange"),
        (base + "&dimensions=FunctionName=getUser&range=455d&compare=week", 400, "BadRange"),
        (base + "&dimensions=FunctionName=getUser&stat=p101", 400, "BadStatistic"),
        (base + "&dimensions=oops", 400, "BadRequest"),
        (base + "&dimensions=FunctionName=nobody", 404, "UnknownMetric"),
        ("/dashboard/api/history/trend?name=Invocations", 400, "MissingParameter"),
        ("/dashboard/api/history/capacity?lookback=2y", 400, "BadRange"),
        ("/dashboard/api/history/capacity?horizon=5000", 400, "BadRange"),
        ("/dashboard/api/history/capacity?horizon=8", 400, "BadRange"),
        ("/dashboard/api/history/cost?range=forever", 400, "BadRange"),
        ("/dashboard/api/history/advice?range=0", 400, "BadRange"),
        ("/dashboard/history/static/nope.js", 404, "NotFound"),
    ]
    for path, status, code in cases:
        response = await client.get(path)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"] == code, (path, response.text)
    # The shortest and longest ranges are served (the longest from the 1-hour roll-ups).
    for path in (
        "/dashboard/api/history/cost?range=15m",
        "/dashboard/api/history/cost?range=455d",
        "/dashboard/api/history/advice?range=455d",
        "/dashboard/api/history/capacity?lookback=30d&horizon=365",
        base + "&dimensions=FunctionName=getUser&stat=Sum&range=455d&compare=day",
    ):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
    long_cost = (await client.get("/dashboard/api/history/cost?range=455d")).json()
    get_user = next(line for line in long_cost["lines"] if line["name"] == "getUser")
    assert get_user["parts"][0]["quantity"] == 1  # the one invocation, found 455 days back
    listing = (await client.get("/dashboard/api/history/metrics")).json()
    assert {
        "namespace": "AWS/Lambda",
        "name": "Invocations",
        "dimensions": {"FunctionName": "getUser"},
    } in listing["metrics"]
    assert listing["ranges"][0] == "15m" and listing["ranges"][-1] == "455d"


async def test_capacity_forecasts_the_connection_limit(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    put_growth(setup.metrics)
    body = (await client.get("/dashboard/api/history/capacity?lookback=7d&horizon=90")).json()
    ws = next(f for f in body["forecasts"] if f["id"] == "ws-connections")
    assert ws["limit"] == 10_000 and ws["points"] == 48
    assert ws["slopePerDay"] == pytest.approx(2400.0)
    assert ws["status"] == "crossing"
    # 1,000 + 100 h reaches 10,000 at h = 90, the 48 points starting 48 h ago: 42 h from now.
    start_hour = (NOW_MS - 48 * HOUR_MS + 60_000) // HOUR_MS * HOUR_MS
    assert ws["crossing"] == pytest.approx(start_hour + 90 * HOUR_MS, abs=HOUR_MS)
    assert ws["earliest"] <= ws["crossing"] <= ws["latest"]
    assert "least squares" in body["method"]
    ids = {f["id"] for f in body["forecasts"]}
    assert {"concurrency", "http-rate", "table-Users-rcu", "table-Connections-wcu"} <= ids
    quiet = next(f for f in body["forecasts"] if f["id"] == "concurrency")
    assert quiet["status"] == "insufficient"


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[HistoryService, MetricStore, AlarmStore, Context]]:
    clock = FakeClock()
    metrics = MetricStore(tmp_path, clock=clock)
    alarms = AlarmStore(tmp_path, clock=clock)
    ctx = open_context(load_notify_config({}, {}), tmp_path / "notify.db")
    config = DashboardConfig.from_specs(
        [FunctionSpec("getUser", "heron.functions.users.get_user", memory_mb=1024)],
        tables=("Users",),
    )
    service = HistoryService(metrics, config, clock=clock, alarms=alarms)
    service.configure(notify=ctx, limits=Limits(500.0, {"Users": (5, 5)}))
    yield service, metrics, alarms, ctx
    ctx.db.close()
    alarms.close()
    metrics.close()


def test_cost_reads_usage_and_prices_it(
    stores: tuple[HistoryService, MetricStore, AlarmStore, Context],
) -> None:
    service, metrics, _, _ = stores
    ts = NOW_MS - 2 * HOUR_MS
    metrics.put_samples(
        [
            sample("AWS/Lambda", "Invocations", fn("sendMessage"), ts, *[1.0] * 4),
            sample(
                "AWS/Lambda",
                "Duration",
                fn("sendMessage"),
                ts,
                100.0,
                200.0,
                300.0,
                400.0,
                unit="Milliseconds",
            ),
            sample(
                "AWS/Lambda", "InitDuration", fn("sendMessage"), ts, 1000.0, unit="Milliseconds"
            ),
            sample("AWS/ApiGateway", "Count", HTTP, ts, *[1.0] * 3),
            sample("AWS/ApiGateway", "MessageCount", WS, ts, *[1.0] * 2),
            sample("Heron", "MessagesSent", fn("sendMessage"), ts, *[1.0] * 5),
            sample(
                "AWS/DynamoDB",
                "ConsumedWriteCapacityUnits",
                MetricDatum.dims({"TableName": "Users"}),
                ts,
                1.0,
                1.0,
            ),
        ]
    )
    # Two connections open for one minute each: 2 connection-minutes.
    metrics.put_samples([sample("AWS/ApiGateway", "ActiveConnections", WS, ts, 2.0)])
    service.configure(prices=Prices(lambda_gb_second=1.0))
    body = service.cost("24h")
    lines = {line["name"]: line for line in body["lines"]}
    send = lines["sendMessage"]
    # 1,000 ms + 1,000 ms INIT at 128 MB = 2 s x 0.125 GB = 0.25 GB-s at $1; 4 requests at $0.2/M.
    assert send["cost"] == pytest.approx(0.25 + 4 * 0.2e-6)
    ws = {p["what"]: p for p in lines["WebSocket API"]["parts"]}
    assert ws["messages"]["quantity"] == 7
    assert ws["connection-minutes"]["quantity"] == pytest.approx(2.0)
    assert lines["HTTP API"]["cost"] == pytest.approx(3e-6)
    users = {p["what"]: p for p in lines["Users"]["parts"]}
    assert users["RCU-hours"]["quantity"] == pytest.approx(5 * 24)  # provisioned, so unit-hours
    assert body["messages"] == 4 and body["perMessage"] == pytest.approx(body["total"] / 4)
    assert body["monthly"] == pytest.approx(body["total"] * 730 / 24)


def test_advice_reads_functions_alarms_and_incidents(
    stores: tuple[HistoryService, MetricStore, AlarmStore, Context],
) -> None:
    service, metrics, alarms, ctx = stores
    ts = NOW_MS - HOUR_MS
    metrics.put_samples(
        [
            sample("AWS/Lambda", "Invocations", fn("getUser"), ts, *[1.0] * 4),
            sample(
                "AWS/Lambda",
                "Duration",
                fn("getUser"),
                ts,
                10.0,
                10.0,
                10.0,
                900.0,
                unit="Milliseconds",
            ),
            sample("AWS/Lambda", "ColdStarts", fn("getUser"), ts, 1.0, 1.0),
            sample(
                "AWS/Lambda", "InitDuration", fn("getUser"), ts, 300.0, 500.0, unit="Milliseconds"
            ),
            sample("AWS/Lambda", "MaxMemoryUsed", fn("getUser"), ts, 60.0, 100.0, unit="Megabytes"),
            sample("AWS/Lambda", "Invocations", fn("createUser"), ts, 1.0),
            sample("AWS/Lambda", "Duration", fn("createUser"), ts, 50.0, unit="Milliseconds"),
        ]
    )
    alarms.put_alarm(_alarm("LambdaErrors"))
    t = START - 3000
    for i, state in enumerate(["ALARM", "OK", "ALARM", "OK", "ALARM"]):
        alarms.set_state("LambdaErrors", state, "test", None, now=t + 60 * i)
    alert = Alert(
        "a-1",
        "alerts",
        "arn:aws:sns:us-east-1:0:alerts",
        "LambdaErrors",
        "ALARM",
        "OK",
        Severity.CRITICAL,
        "test",
        t,
    )
    incident = ctx.incidents.open(alert, t, None)
    operations.acknowledge(ctx, incident.id, "ada", t + 120)
    operations.resolve(ctx, incident.id, "ada", t + 600)
    body = service.advice("24h")
    assert [f["name"] for f in body["slowestFunctions"]] == ["getUser", "createUser"]
    assert body["slowestFunctions"][0]["p99"] == pytest.approx(900.0, rel=0.02)
    cold = body["coldStarts"][0]
    assert cold["name"] == "getUser" and cold["rate"] == 50.0 and cold["averageInitMs"] == 400.0
    memory = {m["name"]: m for m in body["memory"]}
    assert memory["getUser"]["peakMb"] == 100.0 and memory["getUser"]["recommendedMb"] == 192
    assert memory["getUser"]["action"] == "decrease" and memory["getUser"]["costDelta"] < 0
    [noisy] = body["alarms"]
    assert noisy["alarm"] == "LambdaErrors" and noisy["changes"] == 5 and noisy["toAlarm"] == 3
    assert noisy["flapping"] is True
    assert noisy["meanTimeToAckS"] == 120 and noisy["meanTimeToResolveS"] == 600


def _alarm(name: str) -> dict[str, object]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}",
        "ActionsEnabled": True,
        "OKActions": [],
        "AlarmActions": [],
        "InsufficientDataActions": [],
        "MetricName": "Errors",
        "Namespace": "AWS/Lambda",
        "Statistic": "Sum",
        "Dimensions": [],
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
