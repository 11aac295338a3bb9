"""Generated request bodies never crash createUser or sendMessage, and refusals change nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

from function_events import FakeContext, http_event, ws_message
from functions_harness import Heron
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.functions import history, messages, notifications, users

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=0, max_size=40),
    st.emails().map(str),
    json_values,
)
signup_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={"username": field_values, "displayName": field_values, "email": field_values},
    ),
    st.dictionaries(st.text(max_size=12), json_values, max_size=5),
    json_values,
)
raw_bodies = st.one_of(st.text(max_size=200), signup_bodies.map(json.dumps))
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(body=raw_bodies)
def test_create_user_always_answers_and_a_refusal_stores_nothing(heron: Heron, body: str) -> None:
    before = heron.snapshot()
    event = http_event("POST", "POST /users", "/users", body=body)
    response: dict[str, Any] = users.create_user(event, FakeContext())
    assert response["statusCode"] in (201, 400, 409, 413)
    if response["statusCode"] != 201:
        assert heron.snapshot() == before
        assert set(json.loads(response["body"])) <= {"error", "message", "field"}


@SETTINGS
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "action": st.sampled_from(["sendMessage", "x"]) | json_values,
                "to": st.sampled_from(["BOB", "USERNAME#bob", ""]) | field_values,
                "text": field_values,
                "clientMessageId": field_values,
            },
        ).map(json.dumps),
        st.text(max_size=200),
    ),
    over_websocket=st.booleans(),
)
def test_send_message_always_answers_and_a_refusal_changes_nothing(
    heron: Heron, body: str, over_websocket: bool
) -> None:
    if not hasattr(heron, "pair"):
        alice, bob = heron.signup("alice"), heron.signup("bob")
        heron.connect(alice, "alice-1")
        heron.connect(bob, "bob-1")
        heron.pair = (alice, bob)  # type: ignore[attr-defined]
    alice, bob = heron.pair  # type: ignore[attr-defined]
    body = body.replace('"BOB"', json.dumps(bob.user_id))
    before, posts = heron.snapshot(), len(heron.conns.posts)
    if over_websocket:
        event = ws_message("alice-1", body)
    else:
        event = http_event("POST", "POST /messages", "/messages", user=alice.user_id, body=body)
    response: dict[str, Any] = messages.send_message(event, FakeContext())
    assert response["statusCode"] in (200, 201, 400, 404, 409, 413)
    if response["statusCode"] >= 400:
        assert heron.snapshot() == before
        assert len(heron.conns.posts) == posts


cursor_keys = st.dictionaries(
    st.sampled_from(["conversationId", "sk", "userId", "unreadUserId", "x"]),
    st.none() | st.integers() | st.text(max_size=20),
    max_size=4,
)


@SETTINGS
@given(
    cursor=st.one_of(
        st.text(max_size=60),
        cursor_keys.map(
            lambda k: base64.urlsafe_b64encode(json.dumps(k).encode()).decode().rstrip("=")
        ),
    ),
    limit=st.one_of(st.none(), st.text(max_size=4), st.integers(-5, 200).map(str)),
    unread=st.sampled_from([None, "true", "false", "1"]),
)
def test_list_endpoints_always_answer_for_any_cursor_and_limit(
    heron: Heron, cursor: str, limit: str | None, unread: str | None
) -> None:
    query = {"cursor": cursor} | ({"limit": limit} if limit is not None else {})
    caller = "a" * 32
    event = http_event(
        "GET",
        "GET /conversations/{userId}/messages",
        f"/conversations/{'b' * 32}/messages",
        user=caller,
        query=query,
    )
    assert history.get_conversation(event, FakeContext())["statusCode"] in (200, 400)
    if unread is not None:
        query["unread"] = unread
    event = http_event("GET", "GET /notifications", "/notifications", user=caller, query=query)
    assert notifications.list_notifications(event, FakeContext())["statusCode"] in (200, 400)
