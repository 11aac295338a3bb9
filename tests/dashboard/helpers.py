"""A dashboard over real metric and log stores in a temporary directory, with a movable clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from heron.awsapi.credentials import Credentials
from heron.dashboard.app import Dashboard
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics.store import MetricStore

START = 1_800_000_000.0
CREDS = Credentials("AKIAHERONTEST0000001", "s3cret/Secret+secret0123456789abcdefghij")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    """The stores, the dashboard and its clock."""

    metrics: MetricStore
    logs: LogStore
    dashboard: Dashboard
    clock: FakeClock


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    clock = FakeClock()
    metrics = MetricStore(tmp_path, clock=clock)
    logs = LogStore(tmp_path / "logs.db", clock=clock, sink=metrics)
    dashboard = Dashboard(
        metrics=metrics, logs=logs, credentials=CREDS, clock=clock, session_clock=clock
    )
    yield Setup(metrics, logs, dashboard, clock)
    logs.close()
    metrics.close()


@pytest.fixture
async def client(setup: Setup) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=setup.dashboard.routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://monitor") as c:
        yield c
    await setup.dashboard.close()


def form_token(html: str) -> str:
    """The CSRF token of a page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign in through the form; returns the session's CSRF token (from the overview page)."""
    page = await client.get("/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={
            "csrf_token": form_token(page.text),
            "username": CREDS.access_key_id,
            "password": CREDS.secret_access_key,
        },
    )
    assert response.status_code == 303, response.text
    overview = await client.get("/dashboard")
    assert overview.status_code == 200
    return form_token(overview.text)
