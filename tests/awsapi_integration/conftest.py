"""One live Monitor per test module (its own data directory), shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from awsapi_integration.live_monitor import LiveMonitor, running_monitor


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveMonitor]:
    """A real Monitor with its AWS API on a real uvicorn server."""
    with running_monitor(
        tmp_path_factory.mktemp("monitor"), tmp_path_factory.mktemp("models")
    ) as running:
        yield running
