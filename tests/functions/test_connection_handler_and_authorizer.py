"""connectionHandler ($connect / $disconnect / $default) and the HTTP API's Lambda authorizer."""

from __future__ import annotations

import json

import pytest
from function_events import (
    T0_MS,
    authorizer_event,
    body_of,
    load_event,
    ws_connect,
    ws_disconnect,
    ws_message,
)
from functions_harness import Heron

from heron.functions import authorizer, connection_handler


def test_connect_with_a_valid_token_records_the_connection(heron: Heron) -> None:
    alice = heron.signup("alice")
    response = heron.call(
        connection_handler.handler, ws_connect("conn-1", token=alice.token, connected_at_ms=T0_MS)
    )
    assert response == {"statusCode": 200}
    item = heron.db.table("Connections").get({"connectionId": "conn-1"})
    assert item == {
        "connectionId": "conn-1",
        "userId": alice.user_id,
        "connectedAt": T0_MS,
        "expiresAt": T0_MS // 1000 + 7200 + 300,
    }


def test_connect_accepts_a_bearer_header_when_there_is_no_query_token(heron: Heron) -> None:
    alice = heron.signup("alice")
    event = ws_connect("conn-1", token=None)
    event["headers"]["Authorization"] = f"Bearer {alice.token}"
    assert heron.call(connection_handler.handler, event)["statusCode"] == 200


@pytest.mark.parametrize("token", [None, "", "wrong", "x" * 600])
def test_connect_without_a_live_token_is_refused_with_401(heron: Heron, token: str | None) -> None:
    heron.signup("alice")
    before = heron.snapshot()
    response = heron.call(connection_handler.handler, ws_connect("conn-1", token=token))
    assert response["statusCode"] == 401
    assert body_of(response)["error"] == "Unauthorized"
    assert heron.snapshot() == before


def test_connections_expire_a_little_after_the_two_hour_limit(heron: Heron) -> None:
    alice = heron.signup("alice")
    heron.connect(alice, "conn-1")
    heron.clock.advance(7200 + 299)
    assert heron.db.table("Connections").get({"connectionId": "conn-1"}) is not None
    heron.clock.advance(2)
    assert heron.db.table("Connections").get({"connectionId": "conn-1"}) is None


def test_disconnect_deletes_the_record_and_tolerates_a_missing_one(heron: Heron) -> None:
    alice = heron.signup("alice")
    heron.connect(alice, "conn-1")
    assert heron.call(connection_handler.handler, ws_disconnect("conn-1")) == {"statusCode": 200}
    assert heron.db.table("Connections").get({"connectionId": "conn-1"}) is None
    assert heron.call(connection_handler.handler, ws_disconnect("conn-1")) == {"statusCode": 200}


@pytest.mark.parametrize(
    ("body", "mentions"),
    [('{"action":"dance"}', "'dance'"), ("not json", "JSON objects"), ("[1]", "JSON objects")],
)
def test_default_route_answers_with_an_unknown_action_error_frame(
    heron: Heron, body: str, mentions: str
) -> None:
    response = heron.call(connection_handler.handler, ws_message("c", body, route_key="$default"))
    assert response["statusCode"] == 400
    frame = json.loads(response["body"])
    assert frame["error"] == "UnknownAction"
    assert mentions in frame["message"] and "sendMessage" in frame["message"]


def test_a_route_the_handler_does_not_serve_is_400(heron: Heron) -> None:
    response = heron.call(connection_handler.handler, ws_message("c", "{}", route_key="other"))
    assert response["statusCode"] == 400


def test_the_authorizer_allows_a_live_token_and_names_the_caller(heron: Heron) -> None:
    alice = heron.signup("alice")
    result = heron.call(authorizer.handler, authorizer_event(alice.token))
    assert result == {
        "isAuthorized": True,
        "context": {"userId": alice.user_id, "username": "alice"},
    }


@pytest.mark.parametrize(
    "raw", ["", "Bearer", "Bearer ", "Basic abc", "Bearer wrong-token", "bearer", "Token x"]
)
def test_the_authorizer_denies_anything_else(heron: Heron, raw: str) -> None:
    heron.signup("alice")
    result = heron.call(authorizer.handler, authorizer_event(None, raw=raw))
    assert result == {"isAuthorized": False, "context": {}}


def test_the_authorizer_denies_a_request_without_credentials(heron: Heron) -> None:
    result = heron.call(authorizer.handler, authorizer_event(None))
    assert result["isAuthorized"] is False


def test_the_authorizer_reads_the_identity_source_when_headers_lack_it(heron: Heron) -> None:
    alice = heron.signup("alice")
    event = authorizer_event(alice.token)
    del event["headers"]["authorization"]
    assert heron.call(authorizer.handler, event)["isAuthorized"] is True


def test_the_authorizer_accepts_a_lowercase_scheme(heron: Heron) -> None:
    alice = heron.signup("alice")
    event = authorizer_event(None, raw=f"bearer {alice.token}")
    assert heron.call(authorizer.handler, event)["isAuthorized"] is True


def test_sample_events_load_with_their_captured_shapes() -> None:
    connect = load_event("websocket_connect")
    assert connect["requestContext"]["eventType"] == "CONNECT"
    assert "headers" not in load_event("websocket_message")
    assert load_event("http_api_v2")["version"] == "2.0"
