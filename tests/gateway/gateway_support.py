"""Shared helpers for the gateway tests: fakes, configs, a live-server factory (fixture in conftest)."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from heron.errors import FunctionNotFoundError, TooManyRequestsError
from heron.gateway.app import Gateway, create_app
from heron.gateway.config import GatewayConfig
from heron.gateway.server import ServerHandle, serve
from heron.runtime.invoker import FunctionError, InvokeResult
from heron.telemetry.sink import sample_values
from heron.types import Event, FunctionSpec, LogEvent, MetricDatum, Sample

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient but works with httpx, which is
    # what the project installs; the import-time deprecation notice is not ours to fix.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

MANAGEMENT_KEY = "test-management-key"


class FakeInvoker:
    """Runs plain Python functions (sync or async) by name, the way the runtime would."""

    def __init__(self, functions: dict[str, Callable[[Event], Any]]) -> None:
        self.functions = functions
        self.calls: list[tuple[str, Event]] = []
        self._ids = itertools.count(1)

    async def invoke(self, function_name: str, event: Event) -> InvokeResult:
        self.calls.append((function_name, event))
        fn = self.functions.get(function_name)
        if fn is None:
            raise FunctionNotFoundError(function_name)
        request_id = f"req-{next(self._ids)}"
        try:
            result = fn(event)
            if inspect.isawaitable(result):
                result = await result
        except TooManyRequestsError:
            raise
        except Exception as exc:
            return InvokeResult(request_id, error=FunctionError(type(exc).__name__, str(exc)))
        return InvokeResult(request_id, payload=result)

    def events_for(self, function_name: str) -> list[Event]:
        """Events the named function was invoked with, in order."""
        return [event for name, event in self.calls if name == function_name]


class RecordingSink:
    """A TelemetrySink that keeps everything in lists."""

    def __init__(self) -> None:
        self.logs: list[LogEvent] = []
        self.datums: list[MetricDatum] = []
        self.samples: list[Sample] = []

    def put_log_events(self, events: Any) -> None:
        self.logs.extend(events)

    def put_metric_data(self, datums: Any) -> None:
        self.datums.extend(datums)

    def put_samples(self, samples: Any) -> None:
        self.samples.extend(samples)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def records(self, group: str) -> list[dict[str, Any]]:
        """Parsed JSON log lines of one group."""
        return [orjson.loads(e.message) for e in self.logs if e.group == group]

    def values(self, name: str, **dims: str) -> list[float]:
        """Values of metric ``name`` whose dimensions are exactly ``dims`` (datums, then samples
        expanded by their counts)."""
        wanted = MetricDatum.dims(dims)
        out = [d.value for d in self.datums if d.name == name and d.dimensions == wanted]
        for s in self.samples:
            if s.name == name and s.dimensions == wanted:
                out.extend(sample_values(s))
        return out

    def units(self, name: str) -> set[str]:
        """Every unit metric ``name`` was sent with."""
        return {d.unit for d in self.datums if d.name == name} | {
            s.unit for s in self.samples if s.name == name
        }


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_config(**overrides: Any) -> GatewayConfig:
    """A GatewayConfig with a known management key."""
    return GatewayConfig(**{"management_key": MANAGEMENT_KEY, **overrides})


async def eventually(check: Callable[[], bool], timeout_s: float = 3.0) -> None:
    """Wait until ``check()`` holds, failing after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.01)


@dataclass
class LiveGateway:
    """A gateway served by a real uvicorn on an ephemeral port."""

    handle: ServerHandle
    invoker: FakeInvoker
    sink: RecordingSink
    gateway: Gateway

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.handle.port}/ws"

    @property
    def http_url(self) -> str:
        return self.handle.url


def chat_functions(invoker_log: dict[str, Any]) -> tuple[list[FunctionSpec], dict[str, Any]]:
    """A small WebSocket app: $connect accepts unless ?deny=<status>, echo and default routes."""

    def on_connect(event: Event) -> Any:
        query = event.get("queryStringParameters") or {}
        if "deny" in query:
            return {"statusCode": int(query["deny"])}
        if "crash" in query:
            raise RuntimeError("boom")
        invoker_log.setdefault("connected", []).append(event["requestContext"]["connectionId"])
        return {"statusCode": 200}

    def on_echo(event: Event) -> Any:
        return {"statusCode": 200, "body": "echo:" + event["body"]}

    def on_default(event: Event) -> Any:
        return {"statusCode": 200, "body": "default"}

    def on_silent(event: Event) -> Any:
        return {"statusCode": 200}

    def on_disconnect(event: Event) -> Any:
        return {"statusCode": 200}

    specs = [
        FunctionSpec("connect", "x.connect", ws_routes=("$connect",), authorized=False),
        FunctionSpec("echo", "x.echo", ws_routes=("echo",), authorized=False),
        FunctionSpec("fallback", "x.default", ws_routes=("$default",), authorized=False),
        FunctionSpec("silent", "x.silent", ws_routes=("silent",), authorized=False),
        FunctionSpec("disconnect", "x.disconnect", ws_routes=("$disconnect",), authorized=False),
    ]
    fns = {
        "connect": on_connect,
        "echo": on_echo,
        "fallback": on_default,
        "silent": on_silent,
        "disconnect": on_disconnect,
    }
    return specs, fns


@pytest.fixture
async def live_factory() -> AsyncIterator[Callable[..., Any]]:
    """Start gateways on real sockets; every one started is stopped after the test."""
    handles: list[ServerHandle] = []

    async def start(specs: list[FunctionSpec], fns: dict[str, Any], **config: Any) -> LiveGateway:
        invoker = FakeInvoker(fns)
        sink = RecordingSink()
        app = create_app(specs, invoker, sink, make_config(**config))
        handle = await serve(app, "127.0.0.1", 0)
        handles.append(handle)
        return LiveGateway(handle, invoker, sink, app.state.gateway)

    yield start
    for handle in handles:
        await handle.stop()
