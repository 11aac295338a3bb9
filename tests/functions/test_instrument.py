"""The instrumented wrapper as handlers use it: one log record per call, one EMF line, no secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from function_events import (
    FakeContext,
    authorizer_event,
    body_of,
    http_event,
    ws_connect,
    ws_message,
)
from functions_harness import Heron, User

from heron.errors import ThrottledError
from heron.functions import authorizer, connection_handler, deps, instrument, messages, users
from heron.telemetry.emf import STANDARD_UNITS, is_emf_document
from heron.telemetry.logger import ERROR_KEYS, INFO_KEYS


def records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def logs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in lines if not is_emf_document(r)]


def emf(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in lines if is_emf_document(r)]


def signup_event(username: str) -> dict[str, Any]:
    return http_event(
        "POST",
        "POST /users",
        "/users",
        body={"username": username, "displayName": "A", "email": f"{username}@example.com"},
    )


def test_a_successful_call_writes_one_info_record_with_exactly_the_seed_keys(
    heron: Heron, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = heron.signup("alice")
    capsys.readouterr()
    context = FakeContext(function_name="getUser")
    event = http_event("GET", "GET /users/{userId}", f"/users/{alice.user_id}", user=alice.user_id)
    users.get_user(event, context)
    (record,) = logs(records(capsys))
    assert tuple(record) == INFO_KEYS
    assert record["level"] == "INFO" and record["function"] == "getUser"
    assert record["requestId"] == context.aws_request_id
    assert record["userId"] == alice.user_id
    assert record["action"] == "user_fetched" and record["status"] == "success"
    assert record["timestamp"].endswith("Z") and record["timestamp"].startswith("2026-11-05T")
    assert isinstance(record["duration"], float) and record["duration"] >= 0


def test_a_refusal_is_an_info_record_with_status_client_error(
    heron: Heron, capsys: pytest.CaptureFixture[str]
) -> None:
    heron.call(users.create_user, signup_event("x"))  # username too short
    (record,) = logs(records(capsys))
    assert (record["level"], record["status"]) == ("INFO", "client_error")


def test_a_denied_authorization_is_logged_as_denied(
    heron: Heron, capsys: pytest.CaptureFixture[str]
) -> None:
    heron.call(authorizer.handler, authorizer_event("nope-nope-nope"))
    (record,) = logs(records(capsys))
    assert record["status"] == "denied"


class ExplodingTable:
    """A table whose every write is throttled."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def put(self, *args: Any, **kw: Any) -> Any:
        raise ThrottledError("The level of configured provisioned throughput was exceeded")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)


def test_a_failure_writes_one_error_record_with_context_and_reraises(
    heron: Heron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = heron.signup("alice")
    capsys.readouterr()
    exploding = ExplodingTable(heron.db.table("Connections"))
    monkeypatch.setattr(deps, "connection_records", lambda: exploding)
    event = ws_connect("conn-9", token=alice.token)
    with pytest.raises(ThrottledError):
        connection_handler.handler(event, FakeContext(function_name="connectionHandler"))
    lines = records(capsys)
    (record,) = logs(lines)
    assert tuple(record) == ERROR_KEYS
    assert record["level"] == "ERROR" and record["function"] == "connectionHandler"
    assert record["error"]["name"] == "ThrottledError"
    assert "provisioned throughput" in record["error"]["message"]
    assert "Traceback" in record["error"]["stack"]
    assert record["context"] == {"userId": alice.user_id, "connectionId": "conn-9"}
    # EMF still flushed in finally (the ColdStart or nothing else: at most one line)
    assert len(emf(lines)) <= 1
    assert alice.token not in json.dumps(lines)


def test_send_message_emits_one_emf_document_with_the_heron_metrics(
    heron: Heron, capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = heron.signup("alice"), heron.signup("bob")
    heron.connect(bob, "bob-1")
    heron.connect(bob, "bob-dead")
    heron.conns.gone.add("bob-dead")
    heron.clock.advance(0.25)  # the socket write is acknowledged 250 ms after the gateway got it
    capsys.readouterr()
    event = http_event(
        "POST",
        "POST /messages",
        "/messages",
        user=alice.user_id,
        body={"to": bob.user_id, "text": "hi", "clientMessageId": "c1"},
    )
    messages.send_message(event, FakeContext(function_name="sendMessage"))
    (document,) = emf(records(capsys))
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Heron"
    assert directive["Dimensions"] == [["FunctionName"]]
    assert document["FunctionName"] == "sendMessage"
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert {k: units[k] for k in ("MessagesSent", "MessageLatency", "FailedDeliveries")} == {
        "MessagesSent": "Count",
        "MessageLatency": "Milliseconds",
        "FailedDeliveries": "Count",
    }
    assert set(units.values()) <= STANDARD_UNITS
    assert document["MessagesSent"] == 1
    assert document["NotificationsCreated"] == 1
    assert document["FailedDeliveries"] == 1
    assert document["MessageLatency"] == pytest.approx(250.0)
    assert document["_aws"]["Timestamp"] == int(heron.clock() * 1000)


def test_a_replayed_send_counts_no_message(
    heron: Heron, capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = heron.signup("alice"), heron.signup("bob")
    event = http_event(
        "POST",
        "POST /messages",
        "/messages",
        user=alice.user_id,
        body={"to": bob.user_id, "text": "hi", "clientMessageId": "c1"},
    )
    heron.call(messages.send_message, event)
    capsys.readouterr()
    heron.call(messages.send_message, event)
    lines = records(capsys)
    assert all("MessagesSent" not in d for d in emf(lines))
    assert logs(lines)[0]["action"] == "message_replayed"


def test_no_token_reaches_any_log_line(heron: Heron, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    response = heron.call(users.create_user, signup_event("alice"))
    token = body_of(response)["token"]
    alice = User(body_of(response)["user"]["userId"], "alice", token)
    heron.call(authorizer.handler, authorizer_event(token))
    heron.call(connection_handler.handler, ws_connect("c-1", token=token))
    heron.call(connection_handler.handler, ws_connect("c-2", token=token + "x"))
    heron.call(
        messages.send_message,
        ws_message(
            "c-1",
            {"action": "sendMessage", "to": alice.user_id, "text": token, "clientMessageId": "k"},
        ),
    )
    out = capsys.readouterr().out
    assert out.count("\n") >= 5
    assert token not in out
    assert token[:20] not in out


def test_bind_outside_a_handler_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="instrumented"):
        instrument.bind(user_id="x")


def test_cold_start_is_counted_once_per_process(
    heron: Heron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(instrument, "_cold", True)
    capsys.readouterr()
    heron.call(authorizer.handler, authorizer_event("nope-nope-nope"))
    heron.call(authorizer.handler, authorizer_event("nope-nope-nope"))
    documents = emf(records(capsys))
    assert [d.get("ColdStart") for d in documents] == [1]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_inject_error_header_fails_the_handler_only_with_fault_injection_on(
    heron: Heron,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    enabled: bool,
) -> None:
    alice = heron.signup("alice")
    capsys.readouterr()
    monkeypatch.setenv("HERON_FAULT_INJECTION", "1" if enabled else "0")
    event = http_event(
        "GET",
        "GET /users/{userId}",
        f"/users/{alice.user_id}",
        user=alice.user_id,
        headers={"x-heron-inject-error": "1"},
    )
    event["pathParameters"] = {"userId": alice.user_id}
    context = FakeContext(function_name="getUser")
    if enabled:
        with pytest.raises(instrument.InjectedFault):
            users.get_user(event, context)
        (record,) = logs(records(capsys))
        assert record["level"] == "ERROR" and record["error"]["name"] == "InjectedFault"
    else:
        assert users.get_user(event, context)["statusCode"] == 200
