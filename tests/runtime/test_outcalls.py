"""Out-calls over the environment's pipe: a real child process asks its parent for @connections.

The parent's side here is a recording service (the gateway's real one is exercised in
``tests/gateway/test_gateway_outcalls.py``); the child runs the real ``connections_from_env``
client, so the selection by environment, the frames and the error mapping are all real.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from heron.runtime import outcall
from heron.runtime.environment import TRANSPORT_VARIABLE, ExecutionEnvironment
from heron.runtime.invoker import CallHandler
from heron.types import FunctionSpec

Starter = Callable[..., Coroutine[Any, Any, ExecutionEnvironment]]
HANDLER = "handlers.outcalls.connections"


class Service:
    """Answers @connections calls like the gateway would: ``gone-*`` ids are gone."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, call: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(call)
        target = call["connectionId"]
        if target.startswith("gone"):
            return {"status": 410, "body": "gone"}
        if target == "huge":
            return {"status": 413, "body": "Message exceeds 131072 bytes"}
        if call["method"] == "GET":
            return {"status": 200, "body": {"ConnectedAt": "2026-11-28T00:00:00.000Z"}}
        return {"status": 204 if call["method"] == "DELETE" else 200}


@pytest.fixture
async def started(child_env: dict[str, str]) -> AsyncIterator[Starter]:
    envs: list[ExecutionEnvironment] = []

    async def start(
        call_handler: CallHandler | None, extra_env: dict[str, str] | None = None, **fields: Any
    ) -> ExecutionEnvironment:
        spec = FunctionSpec(name="fn", handler=HANDLER, **fields)
        env = ExecutionEnvironment(
            spec,
            env={**child_env, **(extra_env or {})},
            log_stream="2026/11/28/[$LATEST]ab",
            call_handler=call_handler,
        )
        envs.append(env)
        assert (await env.start()).ok
        return env

    yield start
    for env in envs:
        await env.terminate()
        env.close()


async def test_calls_cross_the_pipe_and_answers_map_to_the_clients_errors(
    started: Starter,
) -> None:
    service = Service()
    env = await started(service)
    ops = [
        {"method": "POST", "id": "abc=", "text": '{"hi":"é"}'},
        {"method": "POST", "id": "bin", "hex": "ff00fe"},
        {"method": "POST", "id": "gone-1", "text": "x"},
        {"method": "POST", "id": "huge", "text": "x"},
        {"method": "GET", "id": "abc="},
        {"method": "DELETE", "id": "abc="},
    ]
    result = await env.invoke("req-1", {"ops": ops})
    assert result.outcome == "success", result.error
    assert result.payload == {
        "client": "PipeConnectionsClient",
        "results": [
            "ok",
            "ok",
            "gone:gone-1",
            "413:PayloadTooLargeException",
            {"ConnectedAt": "2026-11-28T00:00:00.000Z"},
            "ok",
        ],
    }
    sent = [(c["method"], c["connectionId"], c.get("text"), c.get("base64")) for c in service.calls]
    assert sent[:2] == [("POST", "abc=", '{"hi":"é"}', None), ("POST", "bin", None, "/wD+")]
    assert {c["service"] for c in service.calls} == {"connections"}
    # The environment still serves ordinary invocations afterwards.
    again = await env.invoke("req-2", {"ops": [{"method": "POST", "id": "z", "text": "y"}]})
    assert again.payload["results"] == ["ok"]


async def test_a_failing_service_is_a_500_to_the_handler(started: Starter) -> None:
    async def broken(call: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("registry exploded")

    env = await started(broken)
    result = await env.invoke("req-1", {"ops": [{"method": "POST", "id": "a", "text": "x"}]})
    assert result.payload["results"] == ["500:InternalServerError"]


async def test_a_service_that_hangs_times_the_invocation_out(started: Starter) -> None:
    async def hangs(call: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(30)
        return {"status": 200}

    env = await started(hangs, timeout_s=1)
    result = await env.invoke("req-1", {"ops": [{"method": "POST", "id": "a", "text": "x"}]})
    assert result.outcome == "timeout"
    assert result.error is not None and result.error.error_type == "Sandbox.Timedout"
    assert not env.alive


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).seen.append(("POST", self.path, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_endpoint() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_without_a_service_the_client_falls_back_to_http(
    started: Starter, http_endpoint: str
) -> None:
    env = await started(None, {"HERON_CONNECTIONS_ENDPOINT": http_endpoint})
    ops = [{"method": "POST", "id": "a", "text": "one"}, {"method": "POST", "id": "b", "text": "2"}]
    result = await env.invoke("req-1", {"ops": ops})
    assert result.payload == {"client": "PipeConnectionsClient", "results": ["ok", "ok"]}
    assert _Recorder.seen == [
        ("POST", "/@connections/a", b"one"),
        ("POST", "/@connections/b", b"2"),
    ]


async def test_without_a_service_or_an_endpoint_the_handler_gets_a_config_error(
    started: Starter,
) -> None:
    env = await started(None)
    result = await env.invoke("req-1", {"ops": [{"method": "POST", "id": "a", "text": "x"}]})
    assert result.payload["results"] == ["config"]


async def test_a_function_can_choose_http_itself(started: Starter, http_endpoint: str) -> None:
    env = await started(
        Service(),
        {"HERON_CONNECTIONS_ENDPOINT": http_endpoint},
        environment=((TRANSPORT_VARIABLE, "http"),),
    )
    result = await env.invoke("req-1", {"ops": [{"method": "POST", "id": "a", "text": "x"}]})
    assert result.payload == {"client": "HttpConnectionsClient", "results": ["ok"]}


def test_outside_a_worker_there_is_no_pipe() -> None:
    assert not outcall.available()
    with pytest.raises(outcall.OutcallError):
        outcall.call("connections", {"method": "GET", "connectionId": "a"})


def test_a_broken_pipe_is_a_service_error_to_the_handler() -> None:
    from heron.functions.connections_client import ConnectionsApiError, PipeConnectionsClient

    with pytest.raises(ConnectionsApiError) as failure:
        PipeConnectionsClient().post_to_connection("a", b"x")
    assert (failure.value.status, failure.value.code) == (500, "InternalServerError")
