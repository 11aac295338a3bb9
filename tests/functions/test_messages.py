"""sendMessage over HTTP and WebSocket: validation, storage, delivery, 410 cleanup, idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from function_events import body_of, http_event, ws_message
from functions_harness import Heron, User

from heron.functions import messages

TEXT = "hello there"


def send_http(heron: Heron, sender: User, body: Any, **kw: Any) -> dict[str, Any]:
    event = http_event("POST", "POST /messages", "/messages", user=sender.user_id, body=body, **kw)
    return heron.call(messages.send_message, event)


def send_ws(heron: Heron, connection_id: str, body: Any, **kw: Any) -> dict[str, Any]:
    return heron.call(messages.send_message, ws_message(connection_id, body, **kw))


def msg(to: User, text: str = TEXT, cid: str = "c-1") -> dict[str, Any]:
    return {"to": to.user_id, "text": text, "clientMessageId": cid}


@pytest.fixture
def pair(heron: Heron) -> tuple[User, User]:
    return heron.signup("alice"), heron.signup("bob")


def test_send_stores_delivers_and_notifies(heron: Heron, pair: tuple[User, User]) -> None:
    alice, bob = pair
    heron.connect(bob, "bob-1")
    heron.connect(bob, "bob-2")
    heron.connect(alice, "alice-1")

    response = send_http(heron, alice, msg(bob))

    assert response["statusCode"] == 201
    message = body_of(response)["message"]
    assert (message["senderId"], message["recipientId"], message["text"]) == (
        alice.user_id,
        bob.user_id,
        TEXT,
    )
    low, high = sorted((alice.user_id, bob.user_id))
    assert message["conversationId"] == f"DM#{low}#{high}"
    stored = heron.db.table("Messages").query(message["conversationId"]).items
    assert [i["messageId"] for i in stored] == [message["messageId"]]
    assert stored[0]["sk"] == f"{1_793_873_702_000:013d}#{message['messageId']}"
    # pushed to both of Bob's sockets, not to Alice's
    for connection in ("bob-1", "bob-2"):
        assert heron.conns.frames_to(connection) == [{"type": "message", "message": message}]
    assert heron.conns.frames_to("alice-1") == []
    # and Bob has an unread notification about it
    notes = heron.db.table("Notifications").query(bob.user_id).items
    assert len(notes) == 1
    assert notes[0]["unreadUserId"] == bob.user_id
    assert notes[0]["messageId"] == message["messageId"]


def test_a_gone_recipient_socket_is_deleted_and_only_that_one(
    heron: Heron, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    heron.connect(alice, "alice-1")
    heron.connect(bob, "bob-live")
    heron.connect(bob, "bob-dead")
    heron.conns.gone.add("bob-dead")

    response = send_ws(heron, "alice-1", {"action": "sendMessage", **msg(bob)})

    assert response["statusCode"] == 201
    assert len(heron.conns.frames_to("bob-live")) == 1
    left = sorted(i["connectionId"] for i in heron.db.table("Connections").scan().items)
    assert left == ["alice-1", "bob-live"]


def test_a_websocket_send_is_acknowledged_with_a_frame(
    heron: Heron, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    heron.connect(alice, "alice-1")
    response = send_ws(heron, "alice-1", {"action": "sendMessage", **msg(bob)})
    ack = body_of(response)
    assert ack["type"] == "ack"
    assert ack["message"]["senderId"] == alice.user_id


def test_a_websocket_send_from_an_unknown_socket_is_401(
    heron: Heron, pair: tuple[User, User]
) -> None:
    _, bob = pair
    before = heron.snapshot()
    response = send_ws(heron, "never-connected", {"action": "sendMessage", **msg(bob)})
    assert response["statusCode"] == 401
    assert heron.snapshot() == before


def test_a_retry_returns_the_same_message_with_200_and_delivers_nothing_twice(
    heron: Heron, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    heron.connect(bob, "bob-1")
    first = send_http(heron, alice, msg(bob))
    heron.clock.advance(5)
    retry = send_http(heron, alice, msg(bob))

    assert (first["statusCode"], retry["statusCode"]) == (201, 200)
    assert body_of(retry)["message"] == body_of(first)["message"]
    assert len(heron.conns.frames_to("bob-1")) == 1
    conversation = body_of(first)["message"]["conversationId"]
    assert len(heron.db.table("Messages").query(conversation).items) == 1
    assert len(heron.db.table("Notifications").query(bob.user_id).items) == 1


def test_reusing_a_client_message_id_for_a_different_message_is_409(
    heron: Heron, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    send_http(heron, alice, msg(bob, "one"))
    before = heron.snapshot()
    response = send_http(heron, alice, msg(bob, "two"))
    assert response["statusCode"] == 409
    assert body_of(response)["error"] == "IdempotencyConflict"
    assert heron.snapshot() == before


def test_the_same_client_message_id_from_another_sender_is_independent(
    heron: Heron, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    assert send_http(heron, alice, msg(bob, cid="same"))["statusCode"] == 201
    assert send_http(heron, bob, msg(alice, cid="same"))["statusCode"] == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": 5}, "text"),
        ({"to": ""}, "to"),
        ({"to": 12}, "to"),
        ({"clientMessageId": ""}, "clientMessageId"),
        ({"clientMessageId": "x" * 65}, "clientMessageId"),
        ({"clientMessageId": "a\nb"}, "clientMessageId"),
        ({"action": "other"}, "action"),
        ({"cc": "x"}, "cc"),
    ],
)
def test_bad_fields_are_400_naming_the_field_and_change_nothing(
    heron: Heron, pair: tuple[User, User], change: dict[str, Any], field: str
) -> None:
    alice, bob = pair
    heron.connect(bob, "bob-1")
    before = heron.snapshot()
    response = send_http(heron, alice, {**msg(bob), **change})
    assert (response["statusCode"], body_of(response)["field"]) == (400, field)
    assert heron.snapshot() == before
    assert heron.conns.posts == []


def test_text_of_exactly_4000_characters_is_accepted(heron: Heron, pair: tuple[User, User]) -> None:
    alice, bob = pair
    assert send_http(heron, alice, msg(bob, "é" * 4000))["statusCode"] == 201


@pytest.mark.parametrize("to", ["0" * 32, "USERNAME#bob", "not-a-user"])
def test_an_unknown_recipient_is_404_and_changes_nothing(
    heron: Heron, pair: tuple[User, User], to: str
) -> None:
    alice, _ = pair
    before = heron.snapshot()
    response = send_http(heron, alice, {"to": to, "text": TEXT, "clientMessageId": "c"})
    assert (response["statusCode"], body_of(response)["error"]) == (404, "RecipientNotFound")
    assert heron.snapshot() == before


def test_delivery_failures_other_than_gone_keep_the_connection(
    heron: Heron, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    heron.connect(bob, "bob-1")

    def refuse(connection_id: str) -> None:
        raise ConnectionResetError("socket closed")

    heron.conns.on_post = refuse
    assert send_http(heron, alice, msg(bob))["statusCode"] == 201
    assert [i["connectionId"] for i in heron.db.table("Connections").scan().items] == ["bob-1"]
