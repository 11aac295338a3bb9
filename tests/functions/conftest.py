"""Fixtures: the in-memory Database, a fake @connections client and a frozen clock, wired in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from function_events import FakeClock, FakeConnections
from functions_harness import Heron

from heron.functions import deps
from heron.tables import default_schemas
from heron.tables.memory import MemoryDatabase
from heron.tables.metrics import Recorder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(clock: FakeClock) -> MemoryDatabase:
    # A private recorder: table telemetry is the tables layer's business, not these tests'.
    return MemoryDatabase(default_schemas(), clock=clock, recorder=Recorder())


@pytest.fixture
def conns() -> FakeConnections:
    return FakeConnections()


@pytest.fixture(autouse=True)
def wired(db: MemoryDatabase, conns: FakeConnections, clock: FakeClock) -> Iterator[None]:
    deps.use(database=db, connections=conns, clock=clock, names=deps.TableNames())
    yield
    deps.reset()


@pytest.fixture
def heron(db: MemoryDatabase, conns: FakeConnections, clock: FakeClock) -> Heron:
    return Heron(db, conns, clock)
