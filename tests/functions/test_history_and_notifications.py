"""getConversation paging, listNotifications (all / unread) and markNotificationRead."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from function_events import body_of, http_event
from functions_harness import Heron, User

from heron.functions import history, messages, notifications


@pytest.fixture
def trio(heron: Heron) -> tuple[User, User, User]:
    return heron.signup("alice"), heron.signup("bob"), heron.signup("carol")


def send(heron: Heron, sender: User, to: User, n: int) -> list[str]:
    ids = []
    for i in range(n):
        heron.clock.advance(1)
        event = http_event(
            "POST",
            "POST /messages",
            "/messages",
            user=sender.user_id,
            body={"to": to.user_id, "text": f"m{i}", "clientMessageId": f"{sender.username}-{i}"},
        )
        ids.append(body_of(heron.call(messages.send_message, event))["message"]["messageId"])
    return ids


def conversation(heron: Heron, caller: User, other: str, **query: str) -> dict[str, Any]:
    event = http_event(
        "GET",
        "GET /conversations/{userId}/messages",
        f"/conversations/{other}/messages",
        user=caller.user_id,
        query=query or None,
    )
    return heron.call(history.get_conversation, event)


def listing(heron: Heron, caller: User, **query: str) -> dict[str, Any]:
    event = http_event(
        "GET", "GET /notifications", "/notifications", user=caller.user_id, query=query or None
    )
    return heron.call(notifications.list_notifications, event)


def mark_read(heron: Heron, caller: User, notification_id: str) -> dict[str, Any]:
    event = http_event(
        "POST",
        "POST /notifications/{notificationId}/read",
        f"/notifications/{notification_id}/read",
        user=caller.user_id,
    )
    return heron.call(notifications.mark_notification_read, event)


def test_history_pages_newest_first_until_the_cursor_runs_out(
    heron: Heron, trio: tuple[User, User, User]
) -> None:
    alice, bob, carol = trio
    sent = send(heron, alice, bob, 3) + send(heron, bob, alice, 2)
    send(heron, carol, alice, 2)  # another conversation, never mixed in
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        body = body_of(conversation(heron, alice, bob.user_id, **query))
        seen += [m["messageId"] for m in body["messages"]]
        pages += 1
        cursor = body["cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(sent))
    assert pages in (3, 4)  # DynamoDB may hand back an empty last page


def test_both_sides_read_the_same_conversation(heron: Heron, trio: tuple[User, User, User]) -> None:
    alice, bob, _ = trio
    send(heron, alice, bob, 2)
    mine = body_of(conversation(heron, alice, bob.user_id))["messages"]
    theirs = body_of(conversation(heron, bob, alice.user_id))["messages"]
    assert mine == theirs and len(mine) == 2


def test_the_default_page_is_50_messages(heron: Heron, trio: tuple[User, User, User]) -> None:
    alice, bob, _ = trio
    send(heron, alice, bob, 51)
    body = body_of(conversation(heron, alice, bob.user_id))
    assert len(body["messages"]) == 50 and body["cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", ""])
def test_a_bad_limit_is_400(heron: Heron, trio: tuple[User, User, User], limit: str) -> None:
    alice, bob, _ = trio
    response = conversation(heron, alice, bob.user_id, limit=limit)
    assert (response["statusCode"], body_of(response)["field"]) == (400, "limit")


def test_a_cursor_cannot_be_used_to_read_another_conversation(
    heron: Heron, trio: tuple[User, User, User]
) -> None:
    alice, bob, carol = trio
    send(heron, bob, carol, 3)
    # Carol's cursor into her conversation with Bob...
    cursor = body_of(conversation(heron, carol, bob.user_id, limit="1"))["cursor"]
    # ...is refused when Alice presents it
    response = conversation(heron, alice, bob.user_id, cursor=cursor)
    assert (response["statusCode"], body_of(response)["field"]) == (400, "cursor")


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "e30", base64.urlsafe_b64encode(b"[1]").decode(), "a" * 3000, "é"],
)
def test_a_garbled_cursor_is_400(heron: Heron, trio: tuple[User, User, User], cursor: str) -> None:
    alice, bob, _ = trio
    response = conversation(heron, alice, bob.user_id, cursor=cursor)
    assert (response["statusCode"], body_of(response)["field"]) == (400, "cursor")


def test_a_forged_cursor_with_extra_attributes_is_400(
    heron: Heron, trio: tuple[User, User, User]
) -> None:
    alice, bob, _ = trio
    low, high = sorted((alice.user_id, bob.user_id))
    key = {"conversationId": f"DM#{low}#{high}", "sk": "9", "evil": "x"}
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    assert conversation(heron, alice, bob.user_id, cursor=cursor)["statusCode"] == 400


def test_notifications_unread_and_read(heron: Heron, trio: tuple[User, User, User]) -> None:
    alice, bob, carol = trio
    send(heron, alice, bob, 2)
    send(heron, carol, bob, 1)
    everything = body_of(listing(heron, bob))["notifications"]
    assert [n["senderId"] for n in everything] == [carol.user_id, alice.user_id, alice.user_id]
    assert all(n["read"] is False for n in everything)

    newest = everything[0]["notificationId"]
    response = mark_read(heron, bob, newest)
    assert response["statusCode"] == 200
    assert body_of(response)["read"] is True and "readAt" in body_of(response)

    unread = body_of(listing(heron, bob, unread="true"))["notifications"]
    assert [n["notificationId"] for n in unread] == [n["notificationId"] for n in everything[1:]]
    assert len(body_of(listing(heron, bob, unread="false"))["notifications"]) == 3
    # marking again is harmless
    assert mark_read(heron, bob, newest)["statusCode"] == 200


def test_unread_notifications_page_with_a_cursor(
    heron: Heron, trio: tuple[User, User, User]
) -> None:
    alice, bob, _ = trio
    send(heron, alice, bob, 3)
    first = body_of(listing(heron, bob, unread="true", limit="2"))
    assert len(first["notifications"]) == 2 and first["cursor"]
    second = body_of(listing(heron, bob, unread="true", limit="2", cursor=first["cursor"]))
    ids = [n["notificationId"] for n in first["notifications"] + second["notifications"]]
    assert len(set(ids)) == 3


def test_someone_elses_notification_is_404_and_stays_unread(
    heron: Heron, trio: tuple[User, User, User]
) -> None:
    alice, bob, carol = trio
    send(heron, alice, bob, 1)
    notice = body_of(listing(heron, bob))["notifications"][0]["notificationId"]
    before = heron.snapshot()
    assert mark_read(heron, carol, notice)["statusCode"] == 404
    assert heron.snapshot() == before


@pytest.mark.parametrize("notice", ["1793873702000-" + "0" * 32, "nope", "1#2"])
def test_unknown_notifications_are_404(
    heron: Heron, trio: tuple[User, User, User], notice: str
) -> None:
    assert mark_read(heron, trio[0], notice)["statusCode"] == 404


def test_a_bad_unread_flag_is_400(heron: Heron, trio: tuple[User, User, User]) -> None:
    response = listing(heron, trio[0], unread="yes")
    assert (response["statusCode"], body_of(response)["field"]) == (400, "unread")


def _cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize("sk", [None, "", 5, True])
def test_a_forged_conversation_cursor_with_a_bad_sort_key_is_400(
    heron: Heron, trio: tuple[User, User, User], sk: Any
) -> None:
    alice, bob, _ = trio
    low, high = sorted((alice.user_id, bob.user_id))
    key: dict[str, Any] = {"conversationId": f"DM#{low}#{high}"}
    if sk is not None:
        key["sk"] = sk
    response = conversation(heron, alice, bob.user_id, cursor=_cursor(key))
    assert (response["statusCode"], body_of(response)["field"]) == (400, "cursor")


@pytest.mark.parametrize("unread", ["true", "false"])
def test_a_notification_cursor_missing_its_index_keys_is_400(
    heron: Heron, trio: tuple[User, User, User], unread: str
) -> None:
    alice = trio[0]
    key = {"userId": alice.user_id, "unreadUserId": alice.user_id}
    response = listing(heron, alice, unread=unread, cursor=_cursor(key))
    assert (response["statusCode"], body_of(response)["field"]) == (400, "cursor")
