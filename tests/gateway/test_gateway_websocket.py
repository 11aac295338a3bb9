"""The WebSocket API and @connections over a real uvicorn server and real `websockets` clients."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from gateway_support import MANAGEMENT_KEY, chat_functions, eventually
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

WS_ACCESS = "/aws/apigateway/local-ws/access"
KEY = {"x-heron-management-key": MANAGEMENT_KEY}


async def start(live_factory: Any, **config: Any) -> tuple[Any, dict[str, Any]]:
    log: dict[str, Any] = {}
    specs, fns = chat_functions(log)
    live = await live_factory(specs, fns, **config)
    return live, log


async def test_connect_accepted_and_routes_by_action(live_factory: Any) -> None:
    live, log = await start(live_factory)
    async with connect(live.ws_url + "?userId=u1", compression=None) as ws:
        await ws.send(orjson.dumps({"action": "echo", "text": "hi"}).decode())
        assert await ws.recv() == 'echo:{"action":"echo","text":"hi"}'
        await ws.send("not json at all")
        assert await ws.recv() == "default"
        await ws.send('{"action": "Echo"}')  # route keys are case-sensitive
        assert await ws.recv() == "default"
    [connect_event] = live.invoker.events_for("connect")
    assert connect_event["queryStringParameters"] == {"userId": "u1"}
    assert connect_event["headers"]["Sec-WebSocket-Version"] == "13"
    message_events = live.invoker.events_for("echo")
    assert "headers" not in message_events[0]
    assert message_events[0]["requestContext"]["connectionId"] == log["connected"][0]
    await eventually(lambda: len(live.invoker.events_for("disconnect")) == 1)
    [disconnect] = live.invoker.events_for("disconnect")
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1000


async def test_route_without_body_sends_nothing_back(live_factory: Any) -> None:
    live, _ = await start(live_factory)
    async with connect(live.ws_url, compression=None) as ws:
        await ws.send('{"action": "silent"}')
        await ws.send('{"action": "echo"}')
        assert await ws.recv() == 'echo:{"action": "echo"}'


@pytest.mark.parametrize("status", [401, 403, 500])
async def test_non_2xx_connect_rejects_the_upgrade(live_factory: Any, status: int) -> None:
    live, _ = await start(live_factory)
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{live.ws_url}?deny={status}", compression=None):
            pass
    assert info.value.response.status_code == status
    assert len(live.gateway.registry) == 0


async def test_failing_connect_function_is_500_and_counts_a_connection_error(
    live_factory: Any,
) -> None:
    live, _ = await start(live_factory)
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{live.ws_url}?crash=1", compression=None):
            pass
    assert info.value.response.status_code == 500
    live.gateway.flush_telemetry()
    dims = {"ApiId": "local-ws", "Stage": "local"}
    assert live.sink.values("ConnectionErrors", **dims) == [1.0]
    assert live.sink.values("IntegrationError", **dims) == [1.0]
    assert live.sink.values("ConnectCount", **dims) == [1.0]
    [record] = live.sink.records(WS_ACCESS)
    assert (record["eventType"], record["status"]) == ("CONNECT", 500)


async def test_no_route_and_no_default_gives_forbidden_frame(live_factory: Any) -> None:
    log: dict[str, Any] = {}
    specs, fns = chat_functions(log)
    specs = [s for s in specs if "$default" not in s.ws_routes]
    live = await live_factory(specs, fns)
    async with connect(live.ws_url, compression=None) as ws:
        await ws.send('{"action": "unknown"}')
        frame = orjson.loads(await ws.recv())
    assert frame["message"] == "Forbidden"
    assert frame["connectionId"] == log["connected"][0]
    assert len(frame["requestId"]) == 16


async def test_frames_over_32_kb_close_with_1009(live_factory: Any) -> None:
    live, _ = await start(live_factory)
    async with connect(live.ws_url, compression=None) as ws:
        await ws.send("x" * (32 * 1024))  # exactly at the limit: fine
        assert await ws.recv() == "default"
        await ws.send("x" * (32 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    await eventually(lambda: len(live.invoker.events_for("disconnect")) == 1)
    assert (
        live.invoker.events_for("disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1009
    )


async def test_idle_connections_are_closed_going_away(live_factory: Any) -> None:
    live, _ = await start(live_factory, ws_idle_timeout_s=0.5)
    async with connect(live.ws_url, compression=None) as ws:
        async with asyncio.timeout(3):
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (1001, "Going away")
    await eventually(lambda: len(live.invoker.events_for("disconnect")) == 1)
    context = live.invoker.events_for("disconnect")[0]["requestContext"]
    assert context["disconnectStatusCode"] == 1001 and context["disconnectReason"] == "Going away"


async def test_new_connection_rate_is_limited(live_factory: Any) -> None:
    live, _ = await start(live_factory, ws_new_connections_per_s=2.0)
    statuses = []
    for _ in range(3):
        try:
            async with connect(live.ws_url, compression=None):
                statuses.append(101)
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
    assert statuses == [101, 101, 429]


async def test_connections_api_post_get_delete(live_factory: Any) -> None:
    live, log = await start(live_factory)
    async with connect(live.ws_url, compression=None, user_agent_header="probe/1") as ws:
        connection_id = log["connected"][0]
        path = f"/@connections/{connection_id}"
        async with httpx.AsyncClient(base_url=live.http_url) as http:
            r = await http.post(path, content=b'{"push": 1}', headers=KEY)
            assert r.status_code == 200
            assert await ws.recv() == '{"push": 1}'
            # URL-encoded form and stage-prefixed form (what boto3 sends) reach the same socket.
            encoded = f"/%40connections/{connection_id.replace('=', '%3D')}"
            assert (await http.post(encoded, content=b"two", headers=KEY)).status_code == 200
            assert await ws.recv() == "two"
            assert (await http.post("/local" + path, content=b"3", headers=KEY)).status_code == 200
            assert await ws.recv() == "3"
            info = (await http.get(path, headers=KEY)).json()
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "probe/1"}
            assert info["ConnectedAt"].endswith("Z") and info["LastActiveAt"] >= info["ConnectedAt"]
            r = await http.delete(path, headers=KEY)
            assert r.status_code == 204
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            await eventually(lambda: len(live.gateway.registry) == 0)
            r = await http.post(path, content=b"late", headers=KEY)
    assert r.status_code == 410
    assert r.headers["x-amzn-errortype"] == "GoneException"


async def test_connections_api_errors(live_factory: Any) -> None:
    live, log = await start(live_factory)
    async with (
        connect(live.ws_url, compression=None),
        httpx.AsyncClient(base_url=live.http_url) as http,
    ):
        path = f"/@connections/{log['connected'][0]}"
        r = await http.post(path, content=b"x")
        assert (r.status_code, r.headers["x-amzn-errortype"]) == (403, "ForbiddenException")
        r = await http.post(path, content=b"x", headers={"x-heron-management-key": "wrong"})
        assert r.status_code == 403
        r = await http.post(path, content=b"x" * (128 * 1024 + 1), headers=KEY)
        assert (r.status_code, r.headers["x-amzn-errortype"]) == (413, "PayloadTooLargeException")
        r = await http.get("/@connections/bm9wZS1ub3BlLW5vcGU=", headers=KEY)
        assert (r.status_code, r.headers["x-amzn-errortype"]) == (410, "GoneException")
        assert "message" in r.json()


async def test_dropped_disconnect_events_leave_cleanup_to_410(live_factory: Any) -> None:
    live, log = await start(live_factory, drop_disconnect_events=True)
    async with connect(live.ws_url, compression=None):
        pass
    await eventually(lambda: len(live.gateway.registry) == 0)
    assert live.invoker.events_for("disconnect") == []
    async with httpx.AsyncClient(base_url=live.http_url) as http:
        r = await http.post(f"/@connections/{log['connected'][0]}", content=b"x", headers=KEY)
    assert r.status_code == 410


async def test_websocket_access_log_and_metrics(live_factory: Any) -> None:
    live, log = await start(live_factory)
    async with connect(live.ws_url, compression=None) as ws:
        await ws.send('{"action": "echo"}')
        await ws.recv()
    await eventually(lambda: len(live.invoker.events_for("disconnect")) == 1)
    await eventually(lambda: len(live.gateway.registry) == 0)
    live.gateway.flush_telemetry()
    records = live.sink.records(WS_ACCESS)
    assert [r["eventType"] for r in records] == ["CONNECT", "MESSAGE", "DISCONNECT"]
    for record in records:
        assert set(record) == {
            "requestId",
            "connectionId",
            "eventType",
            "timestamp",
            "status",
            "latency",
        }
        assert record["connectionId"] == log["connected"][0]
        assert record["status"] == 200 and record["timestamp"].endswith("Z")
    stage = {"ApiId": "local-ws", "Stage": "local"}
    assert live.sink.values("ConnectCount", **stage) == [1.0]
    assert live.sink.values("ConnectionErrors", **stage) == [0.0]
    assert live.sink.values("MessageCount", **stage) == [2.0]  # one in, one route response
    assert live.sink.values("MessageCount", Route="echo", **stage) == [2.0]
    assert live.sink.values("DisconnectCount", **stage) == [1.0]
    assert live.sink.values("ActiveConnections", **stage) == [1.0, 0.0]
    assert len(live.sink.values("IntegrationLatency", Route="echo", **stage)) == 1
