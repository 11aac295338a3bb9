"""createUser / getUser / updateUser / deleteUser, called directly with payload-2.0 events."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from function_events import authorizer_event, body_of, http_event
from functions_harness import Heron, User

from heron.functions import authorizer, deps, users

GOOD = {"username": "alice", "displayName": "Alice", "email": "alice@example.com"}


def create(heron: Heron, body: Any, **kw: Any) -> dict[str, Any]:
    return heron.call(
        users.create_user, http_event("POST", "POST /users", "/users", body=body, **kw)
    )


def get(heron: Heron, caller: str, target: str) -> dict[str, Any]:
    event = http_event("GET", "GET /users/{userId}", f"/users/{target}", user=caller)
    return heron.call(users.get_user, event)


def update(heron: Heron, caller: str, target: str, body: Any, **kw: Any) -> dict[str, Any]:
    event = http_event(
        "PATCH", "PATCH /users/{userId}", f"/users/{target}", user=caller, body=body, **kw
    )
    return heron.call(users.update_user, event)


def delete(heron: Heron, caller: str, target: str) -> dict[str, Any]:
    event = http_event("DELETE", "DELETE /users/{userId}", f"/users/{target}", user=caller)
    return heron.call(users.delete_user, event)


def authorize(heron: Heron, token: str) -> dict[str, Any]:
    return heron.call(authorizer.handler, authorizer_event(token))


def test_signup_returns_201_user_and_a_token_stored_only_as_its_hash(heron: Heron) -> None:
    response = create(heron, GOOD)
    assert response["statusCode"] == 201
    body = body_of(response)
    user, token = body["user"], body["token"]
    assert user["username"] == "alice" and user["displayName"] == "Alice"
    assert user["email"] == "alice@example.com" and user["version"] == 1
    assert "tokenHash" not in user
    assert response["headers"]["location"] == f"/users/{user['userId']}"
    stored = heron.db.table("Users").get({"userId": user["userId"]})
    assert stored["tokenHash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(heron.snapshot())


def test_signup_normalizes_email_and_trims_display_name(heron: Heron) -> None:
    body = {**GOOD, "displayName": "  Alice  ", "email": "Alice@EXAMPLE.com"}
    user = body_of(create(heron, body))["user"]
    assert user["displayName"] == "Alice"
    assert user["email"] == "Alice@example.com"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "al"}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "Alice"}, "username"),
        ({"username": "al ice"}, "username"),
        ({"username": 42}, "username"),
        ({"username": None}, "username"),
        ({"displayName": ""}, "displayName"),
        ({"displayName": "   "}, "displayName"),
        ({"displayName": "x" * 65}, "displayName"),
        ({"displayName": "bad\nname"}, "displayName"),
        ({"displayName": ["A"]}, "displayName"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": ""}, "email"),
        ({"email": 7}, "email"),
        ({"extra": 1}, "extra"),
    ],
)
def test_every_bad_signup_field_is_a_400_naming_it_and_stores_nothing(
    heron: Heron, change: dict[str, Any], field: str
) -> None:
    before = heron.snapshot()
    response = create(heron, {**GOOD, **change})
    assert response["statusCode"] == 400
    assert body_of(response)["field"] == field
    assert body_of(response)["error"] == "ValidationError"
    assert heron.snapshot() == before


@pytest.mark.parametrize("field", ["username", "displayName", "email"])
def test_a_missing_signup_field_is_a_400_naming_it(heron: Heron, field: str) -> None:
    body = {k: v for k, v in GOOD.items() if k != field}
    response = create(heron, body)
    assert (response["statusCode"], body_of(response)["field"]) == (400, field)


@pytest.mark.parametrize("raw", ["", "{", "[1,2]", '"alice"', "null", "[" * 5000])
def test_a_body_that_is_not_a_json_object_is_a_400(heron: Heron, raw: str) -> None:
    response = create(heron, raw)
    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "InvalidJson"
    assert heron.snapshot()["Users"] == []


def test_a_base64_encoded_body_is_decoded(heron: Heron) -> None:
    assert create(heron, GOOD, base64_body=True)["statusCode"] == 201


def test_an_oversized_body_is_a_413(heron: Heron) -> None:
    response = create(heron, {**GOOD, "displayName": "x" * 300_000})
    assert response["statusCode"] == 413


def test_a_taken_username_is_a_409_and_stores_nothing(heron: Heron) -> None:
    heron.signup("alice")
    before = heron.snapshot()
    response = create(heron, {**GOOD, "email": "other@example.com"})
    assert response["statusCode"] == 409
    assert body_of(response) == {
        "error": "UsernameTaken",
        "message": "username alice is taken",
        "field": "username",
    }
    assert heron.snapshot() == before


def test_you_see_your_own_record_in_full(heron: Heron) -> None:
    alice = heron.signup("alice")
    response = get(heron, alice.user_id, alice.user_id)
    assert response["statusCode"] == 200
    assert response["headers"]["etag"] == '"1"'
    assert set(body_of(response)) == {
        "userId",
        "username",
        "displayName",
        "createdAt",
        "email",
        "updatedAt",
        "version",
    }


def test_others_see_only_the_public_profile(heron: Heron) -> None:
    alice, bob = heron.signup("alice"), heron.signup("bob")
    body = body_of(get(heron, bob.user_id, alice.user_id))
    assert set(body) == {"userId", "username", "displayName", "createdAt"}
    assert body["username"] == "alice"


@pytest.mark.parametrize("target", ["0" * 32, "USERNAME#alice", "TOKEN#abc", "nope"])
def test_unknown_users_and_guard_items_are_404(heron: Heron, target: str) -> None:
    alice = heron.signup("alice")
    assert get(heron, alice.user_id, target)["statusCode"] == 404


def test_without_an_authorizer_context_the_caller_is_401(heron: Heron) -> None:
    alice = heron.signup("alice")
    event = http_event("GET", "GET /users/{userId}", f"/users/{alice.user_id}")
    assert heron.call(users.get_user, event)["statusCode"] == 401


def test_update_changes_only_what_was_sent_and_bumps_the_version(heron: Heron) -> None:
    alice = heron.signup("alice")
    response = update(heron, alice.user_id, alice.user_id, {"displayName": "Alice L."})
    assert response["statusCode"] == 200
    body = body_of(response)
    assert (body["displayName"], body["email"], body["version"]) == (
        "Alice L.",
        "alice@example.com",
        2,
    )
    assert response["headers"]["etag"] == '"2"'


def test_updating_someone_else_is_403_and_changes_nothing(heron: Heron) -> None:
    alice, bob = heron.signup("alice"), heron.signup("bob")
    before = heron.snapshot()
    response = update(heron, bob.user_id, alice.user_id, {"displayName": "Mallory"})
    assert response["statusCode"] == 403
    assert heron.snapshot() == before


def test_two_updates_asserting_the_same_version_one_wins_one_is_409(heron: Heron) -> None:
    alice = heron.signup("alice")
    first = update(heron, alice.user_id, alice.user_id, {"displayName": "One", "version": 1})
    second = update(heron, alice.user_id, alice.user_id, {"displayName": "Two", "version": 1})
    assert first["statusCode"] == 200
    assert second["statusCode"] == 409
    assert body_of(second)["error"] == "VersionConflict"
    assert body_of(get(heron, alice.user_id, alice.user_id))["displayName"] == "One"


def test_a_stale_if_match_is_412(heron: Heron) -> None:
    alice = heron.signup("alice")
    update(heron, alice.user_id, alice.user_id, {"displayName": "One"})
    stale = update(
        heron, alice.user_id, alice.user_id, {"displayName": "Two"}, headers={"If-Match": '"1"'}
    )
    fresh = update(
        heron, alice.user_id, alice.user_id, {"displayName": "Two"}, headers={"If-Match": '"2"'}
    )
    assert (stale["statusCode"], fresh["statusCode"]) == (412, 200)


class RacingUsers:
    """The Users table, except that another writer lands right after the first read."""

    def __init__(self, table: Any, user_id: str) -> None:
        self.table, self.user_id, self.raced = table, user_id, False

    def get(self, key: dict[str, Any], **kw: Any) -> Any:
        item = self.table.get(key, **kw)
        if key == {"userId": self.user_id} and not self.raced:
            self.raced = True
            self.table.update(key, {"displayName": "Concurrent", "version": item["version"] + 1})
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)


def test_a_write_racing_between_read_and_update_is_refused_not_lost(
    heron: Heron, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = heron.signup("alice")
    racing = RacingUsers(heron.db.table("Users"), alice.user_id)
    monkeypatch.setattr(deps, "users", lambda: racing)
    # WHEN we update without asserting a version, and someone else writes after our read
    response = update(heron, alice.user_id, alice.user_id, {"displayName": "Mine"})
    # THEN we are refused and their write survives
    assert response["statusCode"] == 409
    assert heron.db.table("Users").get({"userId": alice.user_id})["displayName"] == "Concurrent"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "displayName"),
        ({"displayName": ""}, "displayName"),
        ({"email": "nope"}, "email"),
        ({"username": "bob"}, "username"),
        ({"displayName": "A", "version": "1"}, "version"),
        ({"displayName": "A", "version": True}, "version"),
    ],
)
def test_bad_updates_are_400_and_change_nothing(
    heron: Heron, body: dict[str, Any], field: str
) -> None:
    alice = heron.signup("alice")
    before = heron.snapshot()
    response = update(heron, alice.user_id, alice.user_id, body)
    assert (response["statusCode"], body_of(response)["field"]) == (400, field)
    assert heron.snapshot() == before


def test_delete_removes_the_user_revokes_the_token_and_closes_sockets(heron: Heron) -> None:
    alice, bob = heron.signup("alice"), heron.signup("bob")
    heron.connect(alice, "conn-a1")
    heron.connect(alice, "conn-a2")
    heron.connect(bob, "conn-b1")
    heron.conns.gone.add("conn-a2")  # one socket already died without a $disconnect
    assert authorize(heron, alice.token)["isAuthorized"] is True

    response = delete(heron, alice.user_id, alice.user_id)

    assert response["statusCode"] == 204 and "body" not in response
    assert authorize(heron, alice.token) == {"isAuthorized": False, "context": {}}
    assert get(heron, bob.user_id, alice.user_id)["statusCode"] == 404
    assert heron.conns.deleted == ["conn-a1"]
    remaining = [i["connectionId"] for i in heron.db.table("Connections").scan().items]
    assert remaining == ["conn-b1"]
    # the username is free again
    assert heron.signup("alice").user_id != alice.user_id


def test_deleting_someone_else_is_403(heron: Heron) -> None:
    alice, bob = heron.signup("alice"), heron.signup("bob")
    assert delete(heron, bob.user_id, alice.user_id)["statusCode"] == 403
    assert authorize(heron, alice.token)["isAuthorized"] is True


def test_deleting_twice_is_404(heron: Heron) -> None:
    alice: User = heron.signup("alice")
    delete(heron, alice.user_id, alice.user_id)
    assert delete(heron, alice.user_id, alice.user_id)["statusCode"] == 404
