"""Fixtures for the runtime tests: an in-memory telemetry sink and the child's environment."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from runtime_fakes import FakeClock, FakeSink, RuntimeFactory

from heron.runtime.runtime import LambdaRuntime
from heron.types import FunctionSpec

HANDLERS_ROOT = Path(__file__).parent


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


@pytest.fixture
def child_env() -> dict[str, str]:
    """The process contract the lead passes, plus PYTHONPATH so ``handlers.*`` imports."""
    paths = [str(HANDLERS_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]
    return {"PYTHONPATH": ":".join(paths), "HERON_DATA_DIR": "/tmp/heron-test-data"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_runtime(sink: FakeSink, child_env: dict[str, str]) -> AsyncIterator[RuntimeFactory]:
    """Build LambdaRuntimes that are closed (children killed) when the test ends."""
    made: list[LambdaRuntime] = []

    def factory(functions: Sequence[FunctionSpec], **kwargs: Any) -> LambdaRuntime:
        kwargs.setdefault("env", child_env)
        runtime = LambdaRuntime(functions, sink, **kwargs)
        made.append(runtime)
        return runtime

    yield factory
    for runtime in made:
        await runtime.close()
