"""Fixtures for the tables suite: a fake clock, a recorder and one database per backend.

The ``dynamodb`` backend runs against a real moto server started once per session; its tables
are created once and emptied before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.tables import CoreDatabase, open_database
from heron.tables.dynamodb import DynamoDatabase
from heron.tables.metrics import Recorder

from .fakes import BACKENDS, SCHEMAS, FakeClock
from .moto_server import TEST_KEY_TYPES, client_for, create, moto_session, truncate


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulated(reason): a contract test of behaviour Heron emulates locally (provisioned "
        "throughput buckets); deselected on the dynamodb backend, where DynamoDB itself decides",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) emulated-throughput tests on dynamodb: there DynamoDB decides, and
    test_dynamodb_service.py covers what the backend does with its throttling answers."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("emulated") is not None and "[dynamodb" in item.nodeid
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server (DynamoDB API) running for the whole session."""
    yield from moto_session()


@pytest.fixture(scope="session")
def dynamo_client(moto_endpoint: str) -> Any:
    """One botocore client for the session, with the contract suite's tables created."""
    client = client_for(moto_endpoint)
    create(client, SCHEMAS, moto_endpoint)
    return client


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, recorder: Recorder
) -> Iterator[CoreDatabase | DynamoDatabase]:
    if request.param == "dynamodb":
        client = request.getfixturevalue("dynamo_client")
        truncate(client, SCHEMAS)
        # The session's client is shared, so this database is not closed after the test.
        yield DynamoDatabase(
            client, SCHEMAS, clock=clock, recorder=recorder, key_types=TEST_KEY_TYPES
        )
        return
    database = open_database(request.param, tmp_path, SCHEMAS, clock=clock, recorder=recorder)
    yield database
    database.close()
