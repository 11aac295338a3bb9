"""The DynamoDB capacity graphs: consumed units per second beside the provisioned line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from heron.dashboard.app import Dashboard
from heron.dashboard.layout import DashboardConfig
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics.store import MetricStore
from heron.monitor.telemetry_sink import datum_to_sample
from heron.tables.base import TableSchema
from heron.tables.provisioned_metrics import provisioned_capacity_datums
from heron.tables.schema import schemas_with_capacity
from heron.types import MetricDatum, Sample

from .helpers import CREDS, START, FakeClock, sign_in

NOW_MS = int(START * 1000)


@pytest.fixture
async def capacity(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, MetricStore]]:
    clock = FakeClock()
    metrics = MetricStore(tmp_path, clock=clock)
    logs = LogStore(tmp_path / "logs.db", clock=clock, sink=metrics)
    config = DashboardConfig(provisioned=("Messages",))
    dashboard = Dashboard(
        metrics=metrics,
        logs=logs,
        credentials=CREDS,
        config=config,
        clock=clock,
        session_clock=clock,
    )
    transport = httpx.ASGITransport(app=Starlette(routes=dashboard.routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://monitor") as client:
        yield client, metrics
    await dashboard.close()
    logs.close()
    metrics.close()


def consumed(table: str, name: str, units: float, ts_ms: int) -> Sample:
    return Sample(
        "AWS/DynamoDB",
        name,
        MetricDatum.dims({"TableName": table}),
        ts_ms,
        values=(units,),
        unit="Count",
    )


def test_layout_adds_the_provisioned_line_only_for_provisioned_tables() -> None:
    from heron.dashboard.layout import charts

    config = DashboardConfig(provisioned=("Messages",))
    by_id = {c.id: c.describe() for c in charts(config)}
    rcu = by_id["table-rcu"]
    assert rcu["series"] == [
        "Users",
        "Messages",
        "Notifications",
        "Connections",
        "Messages provisioned",
    ]
    # The provisioned line is drawn in the colour of the table it bounds (index 1).
    assert rcu["limits"] == {"4": 1}
    assert by_id["table-wcu"]["series"][-1] == "Messages provisioned"
    assert {c.id: c.describe()["series"] for c in charts(DashboardConfig())}["table-rcu"] == [
        "Users", "Messages", "Notifications", "Connections",
    ]  # fmt: skip


async def test_capacity_graph_shows_consumed_per_second_against_provisioned(
    capacity: tuple[httpx.AsyncClient, MetricStore],
) -> None:
    client, metrics = capacity
    await sign_in(client)
    minute_ms = (NOW_MS - 120_000) // 60_000 * 60_000
    # 600 read units consumed in one minute = 10 RCU/s; 120 write units = 2 WCU/s.
    metrics.put_samples(
        [
            consumed("Messages", "ConsumedReadCapacityUnits", 600.0, minute_ms + 5_000),
            consumed("Messages", "ConsumedWriteCapacityUnits", 120.0, minute_ms + 5_000),
        ]
    )
    # What ``heron up`` publishes for ``table_capacity = "Messages=25/7"``, every minute.
    schemas: list[TableSchema] = [
        s for s in schemas_with_capacity("Messages=25/7", env={}) if s.name == "Messages"
    ]
    datums = provisioned_capacity_datums(schemas, minute_ms + 1_000)
    metrics.put_samples([datum_to_sample(d) for d in datums])
    layout = (await client.get("/dashboard/api/layout")).json()
    series = {c["id"]: c["series"] for c in layout["charts"]}
    data = (await client.get("/dashboard/api/charts?range=15m")).json()
    slot = (minute_ms - data["start"]) // 60_000
    for chart, used, limit in (("table-rcu", 10.0, 25.0), ("table-wcu", 2.0, 7.0)):
        values = data["charts"][chart]
        assert values[series[chart].index("Messages")][slot] == used
        assert values[series[chart].index("Messages provisioned")][slot] == limit
        # Only that minute has data.
        assert [v for v in values[series[chart].index("Messages provisioned")] if v] == [limit]
