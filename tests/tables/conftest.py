"""Fixtures for the tables suite: a fake clock, a recorder and one database per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.tables import CoreDatabase, open_database
from heron.tables.metrics import Recorder

from .fakes import BACKENDS, SCHEMAS, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, recorder: Recorder
) -> Iterator[CoreDatabase]:
    database = open_database(request.param, tmp_path, SCHEMAS, clock=clock, recorder=recorder)
    yield database
    database.close()
