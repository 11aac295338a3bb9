"""The whole service over real sockets: sign-up, CRUD, chat, history, notifications, limits, telemetry."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest
import websockets
import websockets.exceptions

from .conftest import CONFIG, Heron, aws_client, start_heron, stop_heron

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 8.0) -> T:
    """Poll ``check`` until it returns something truthy (telemetry is group-committed)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def log_messages(heron: Heron, group: str, pattern: str = "") -> list[str]:
    """Messages in ``group`` matching a CloudWatch filter pattern, read back through boto3."""
    logs = aws_client(heron, "logs")
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern=pattern
        )
        return [e["message"] for page in pages for e in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def sign_up(heron: Heron, name: str | None = None) -> tuple[str, str]:
    """Create a user; return (userId, token)."""
    name = name or f"u{uuid.uuid4().hex[:10]}"
    r = httpx.post(
        f"{heron.base_url}/users",
        json={"username": name, "displayName": name.title(), "email": f"{name}@example.com"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return body["user"]["userId"], body["token"]


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_sign_up_returns_the_token_once_and_refuses_duplicates(heron: Heron) -> None:
    name = f"ada{uuid.uuid4().hex[:6]}"
    user_id, token = sign_up(heron, name)
    again = httpx.post(
        f"{heron.base_url}/users",
        json={"username": name, "displayName": "Other", "email": "other@example.com"},
    )
    assert again.status_code == 409
    me = httpx.get(f"{heron.base_url}/users/{user_id}", headers=auth(token)).json()
    assert me["username"] == name and "token" not in orjson.dumps(me).decode().lower()


def test_bad_sign_up_names_the_field(heron: Heron) -> None:
    r = httpx.post(
        f"{heron.base_url}/users",
        json={"username": "ok_name", "displayName": "X", "email": "not-an-email"},
    )
    assert r.status_code == 400 and r.json()["field"] == "email"
    r = httpx.post(f"{heron.base_url}/users", content=b"{not json")
    assert r.status_code == 400


def test_own_record_is_full_and_others_are_public(heron: Heron) -> None:
    a, token_a = sign_up(heron)
    b, _ = sign_up(heron)
    mine = httpx.get(f"{heron.base_url}/users/{a}", headers=auth(token_a)).json()
    theirs = httpx.get(f"{heron.base_url}/users/{b}", headers=auth(token_a)).json()
    assert "email" in mine and "email" not in theirs and theirs["userId"] == b


def test_update_is_self_only_and_partial(heron: Heron) -> None:
    a, token_a = sign_up(heron)
    b, _ = sign_up(heron)
    r = httpx.patch(
        f"{heron.base_url}/users/{a}", headers=auth(token_a), json={"displayName": "New"}
    )
    assert r.status_code == 200 and r.json()["displayName"] == "New"
    other = httpx.patch(
        f"{heron.base_url}/users/{b}", headers=auth(token_a), json={"displayName": "X"}
    )
    assert other.status_code == 403


def test_authorizer_denies_missing_and_bad_tokens(heron: Heron) -> None:
    a, _ = sign_up(heron)
    assert httpx.get(f"{heron.base_url}/users/{a}").status_code == 401
    bad = httpx.get(f"{heron.base_url}/users/{a}", headers=auth("not-a-token"))
    assert bad.status_code == 403


def test_unknown_route_is_404(heron: Heron) -> None:
    r = httpx.get(f"{heron.base_url}/no/such/route")
    assert r.status_code == 404 and r.json() == {"message": "Not Found"}


async def _receive_json(ws: Any, timeout: float = 5.0) -> Any:
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout))


async def _receive_message(ws: Any, timeout: float = 5.0) -> Any:
    """The next delivered chat message, skipping the acks of the socket's own sends."""
    while True:
        frame = await _receive_json(ws, timeout)
        if frame.get("type") == "message":
            return frame["message"]


async def test_two_users_chat_over_websocket_with_history_and_notifications(heron: Heron) -> None:
    a, token_a = sign_up(heron)
    b, token_b = sign_up(heron)
    async with (
        websockets.connect(f"{heron.ws_url}?token={token_a}") as ws_a,
        websockets.connect(f"{heron.ws_url}?token={token_b}") as ws_b,
    ):
        await ws_a.send(
            orjson.dumps(
                {"action": "sendMessage", "to": b, "text": "hi b", "clientMessageId": "m1"}
            ).decode()  # a text frame: API Gateway sends binary frames to $default unrouted
        )
        assert (await _receive_json(ws_a))["type"] == "ack"
        assert (await _receive_message(ws_b))["text"] == "hi b"
        await ws_b.send(
            orjson.dumps(
                {"action": "sendMessage", "to": a, "text": "hi a", "clientMessageId": "m2"}
            ).decode()
        )
        assert (await _receive_message(ws_a))["text"] == "hi a"
        # HTTP sends reach live sockets too.
        async with httpx.AsyncClient() as client:
            r = await client.post(
                f"{heron.base_url}/messages",
                headers=auth(token_a),
                json={"to": b, "text": "over http", "clientMessageId": "m3"},
            )
            assert r.status_code == 201, r.text
            assert (await _receive_message(ws_b))["text"] == "over http"

    history = httpx.get(
        f"{heron.base_url}/conversations/{b}/messages", headers=auth(token_a)
    ).json()
    texts = [m["text"] for m in history["messages"]]
    assert texts == ["over http", "hi a", "hi b"]  # newest first
    page = httpx.get(
        f"{heron.base_url}/conversations/{b}/messages", params={"limit": 2}, headers=auth(token_a)
    ).json()
    assert len(page["messages"]) == 2 and page["cursor"]
    rest = httpx.get(
        f"{heron.base_url}/conversations/{b}/messages",
        params={"limit": 2, "cursor": page["cursor"]},
        headers=auth(token_a),
    ).json()
    assert [m["text"] for m in rest["messages"]] == ["hi b"]

    unread = httpx.get(
        f"{heron.base_url}/notifications", params={"unread": "true"}, headers=auth(token_b)
    )
    notes = unread.json()["notifications"]
    assert len(notes) == 2
    note_id = notes[0]["notificationId"]
    r = httpx.post(f"{heron.base_url}/notifications/{note_id}/read", headers=auth(token_b))
    assert r.status_code == 200
    unread = httpx.get(
        f"{heron.base_url}/notifications", params={"unread": "true"}, headers=auth(token_b)
    )
    assert len(unread.json()["notifications"]) == 1
    # Someone else's notification cannot be marked.
    r = httpx.post(
        f"{heron.base_url}/notifications/{notes[1]['notificationId']}/read", headers=auth(token_a)
    )
    assert r.status_code == 404


async def test_retried_send_is_idempotent(heron: Heron) -> None:
    _, token_a = sign_up(heron)
    b, _ = sign_up(heron)
    body = {"to": b, "text": "once", "clientMessageId": "same-id"}
    first = httpx.post(f"{heron.base_url}/messages", headers=auth(token_a), json=body)
    second = httpx.post(f"{heron.base_url}/messages", headers=auth(token_a), json=body)
    assert first.status_code == 201 and second.status_code == 200
    history = httpx.get(
        f"{heron.base_url}/conversations/{b}/messages", headers=auth(token_a)
    ).json()
    assert [m["text"] for m in history["messages"]] == ["once"]


async def test_websocket_connect_without_valid_token_is_rejected(heron: Heron) -> None:
    for url in (heron.ws_url, f"{heron.ws_url}?token=wrong"):
        with pytest.raises(websockets.exceptions.InvalidStatus) as info:
            async with websockets.connect(url):
                pass
        assert info.value.response.status_code in (401, 403)


async def test_unknown_action_gets_an_error_frame(heron: Heron) -> None:
    _, token = sign_up(heron)
    async with websockets.connect(f"{heron.ws_url}?token={token}") as ws:
        await ws.send('{"action": "dance"}')
        frame = await _receive_json(ws)
        assert "error" in frame or "message" in frame


async def test_stale_connection_is_deleted_on_410_and_live_ones_still_get_the_message(
    heron: Heron,
) -> None:
    from heron.tables import open_database
    from heron.tables.schema import schemas_from_env

    _, token_a = sign_up(heron)
    b, token_b = sign_up(heron)
    database = open_database("sqlite", heron.data_dir.resolve(), schemas_from_env())
    connections = database.table("Connections")
    now = int(time.time() * 1000)
    # A connection whose $disconnect never arrived (clients that drop their network never send it).
    connections.put(
        {"connectionId": "c3RhbGUtY29ubg==", "userId": b, "connectedAt": now - 1000,
         "expiresAt": now // 1000 + 7200}
    )  # fmt: skip
    async with websockets.connect(f"{heron.ws_url}?token={token_b}") as ws_b:
        r = httpx.post(
            f"{heron.base_url}/messages",
            headers=auth(token_a),
            json={"to": b, "text": "still here", "clientMessageId": "s1"},
        )
        assert r.status_code == 201
        assert (await _receive_message(ws_b))["text"] == "still here"
    assert connections.get({"connectionId": "c3RhbGUtY29ubg=="}) is None
    database.close()


async def test_deleted_user_token_stops_working_and_sockets_close(heron: Heron) -> None:
    a, token_a = sign_up(heron)
    async with websockets.connect(f"{heron.ws_url}?token={token_a}") as ws:
        r = httpx.delete(f"{heron.base_url}/users/{a}", headers=auth(token_a))
        assert r.status_code in (200, 204)
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    time.sleep(0.1)
    # The authorizer cache must not keep a deleted user's token alive... but API Gateway does cache
    # allow decisions for the TTL; the handler itself refuses a deleted user.
    r = httpx.get(f"{heron.base_url}/users/{a}", headers=auth(token_a))
    assert r.status_code in (403, 404)


def test_user_declared_function_is_served_with_cold_then_warm_start(heron: Heron) -> None:
    first = httpx.get(f"{heron.base_url}/ping")
    second = httpx.get(f"{heron.base_url}/ping")
    assert first.status_code == 200 and first.json()["pong"] is True
    assert 0 < first.json()["remaining"] <= 3000 and second.status_code == 200

    def reports() -> list[str]:
        return log_messages(heron, "/aws/lambda/ping", "REPORT")

    lines = eventually(lambda: len(reports()) >= 2 and reports())
    assert "Init Duration" in lines[0] and "Init Duration" not in lines[1]


def test_timeout_kills_the_invocation_with_aws_message(heron: Heron) -> None:
    r = httpx.get(f"{heron.base_url}/slow", timeout=20)
    assert r.status_code >= 500
    assert r.json()["message"] in ("Internal Server Error", "Service Unavailable")

    assert eventually(
        lambda: log_messages(
            heron, "/aws/lambda/slowFunction", '"Task timed out after 1.00 seconds"'
        )
    )


def test_stage_throttling_answers_429(tmp_path: Path) -> None:
    throttled_heron = start_heron(
        tmp_path,
        CONFIG.replace("throttle_rate = 200", "throttle_rate = 5").replace(
            "throttle_burst = 40", "throttle_burst = 5"
        ),
    )
    try:
        with httpx.Client() as client:
            codes = [client.get(f"{throttled_heron.base_url}/ping") for _ in range(30)]
    finally:
        stop_heron(throttled_heron)
    statuses = [r.status_code for r in codes]
    # A burst of 5 plus 5/s refill: the first five pass, most of the rest are refused.
    assert statuses[:5] == [200] * 5 and statuses.count(429) >= 15
    throttled = next(r for r in codes if r.status_code == 429)
    assert throttled.json() == {"message": "Too Many Requests"}


async def test_seed_log_records_and_every_metric_are_queryable_through_the_aws_api(
    heron: Heron,
) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus):  # one WebSocket connection error
        async with websockets.connect(f"{heron.ws_url}?token=wrong"):
            pass
    _, token_a = sign_up(heron)
    b, _ = sign_up(heron)
    r = httpx.post(
        f"{heron.base_url}/messages",
        headers=auth(token_a),
        json={"to": b, "text": "metrics please", "clientMessageId": "metrics-1"},
    )
    assert r.status_code == 201

    info = eventually(lambda: log_messages(heron, "/aws/lambda/createUser", '{ $.level = "INFO" }'))
    record = orjson.loads(info[0])
    assert set(record) >= {
        "level", "timestamp", "function", "requestId", "userId", "action", "duration", "status",
    }  # fmt: skip
    access = eventually(
        lambda: log_messages(
            heron, "/aws/apigateway/local-http/access", '{ $.httpMethod = "POST" }'
        )
    )
    assert set(orjson.loads(access[0])) >= {
        "requestId", "ip", "caller", "requestTime", "httpMethod", "resourcePath", "status",
        "protocol", "responseLength", "integrationError",
    }  # fmt: skip

    cloudwatch = aws_client(heron, "cloudwatch")
    wanted = [
        ("AWS/Lambda", "Invocations"), ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Duration"),
        ("AWS/Lambda", "MemoryUsed"), ("AWS/Lambda", "ConcurrentExecutions"),
        ("AWS/ApiGateway", "Count"), ("AWS/ApiGateway", "5XXError"), ("AWS/ApiGateway", "Latency"),
        ("AWS/DynamoDB", "SuccessfulRequestLatency"),
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits"),
        ("Heron", "MessagesSent"), ("Heron", "NotificationsCreated"),
    ]  # fmt: skip
    now = time.time()
    for namespace, name in wanted:
        metrics = eventually(
            lambda ns=namespace, n=name: cloudwatch.list_metrics(Namespace=ns, MetricName=n)[
                "Metrics"
            ]
        )
        assert metrics, (namespace, name)
        result = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {"Metric": metrics[0], "Period": 60, "Stat": "SampleCount"},
                }
            ],
            StartTime=now - 600,
            EndTime=now + 60,
        )["MetricDataResults"][0]
        assert result["Values"] and result["Values"][0] > 0, (namespace, name, result)

    # The seed's alarms name no dimensions; the series they watch must exist.
    for namespace, name in [
        ("AWS/Lambda", "Errors"), ("AWS/Lambda", "MemoryUsed"), ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"), ("AWS/ApiGateway", "ConnectionErrors"),
    ]:  # fmt: skip
        listed = eventually(
            lambda ns=namespace, n=name: cloudwatch.list_metrics(Namespace=ns, MetricName=n)[
                "Metrics"
            ]
        )
        assert any(m.get("Dimensions", []) == [] for m in listed), (namespace, name, listed)


def test_monitor_port_exposes_only_the_unsigned_sns_confirmation(heron: Heron) -> None:
    # SNS's SubscribeURL answers without credentials, as on AWS; a bad token is refused.
    r = httpx.get(f"{heron.monitor_url}/notify/confirm", params={"Token": "forged"})
    assert r.status_code == 400
    # Incident and inbox data are not served without a login.
    assert httpx.get(f"{heron.monitor_url}/notify/incidents").status_code == 404
    assert httpx.get(f"{heron.monitor_url}/dashboard/api/overview").status_code in (401, 303, 404)
