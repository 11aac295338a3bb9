"""Generated requests at every HTTP route: never a 5xx, never a traceback, refusals change nothing."""

from __future__ import annotations

import pytest
from fuzz_plans import HttpPlan, check_http
from fuzz_strategies import (
    Cursor,
    JsonBody,
    Ref,
    bodies,
    headers,
    methods,
    notification_segments,
    path_segments,
    queries,
    user_segments,
)
from fuzz_world import FuzzWorld, world_fixture  # noqa: F401 (the world fixture)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

USER = object()  # marks a {userId} path parameter in a route's segments
NOTE = object()  # marks a {notificationId} path parameter

#: Every HTTP route of the default functions: method, segments, body field names.
ROUTES: dict[str, tuple[str, tuple[object, ...], tuple[str, ...]]] = {
    "createUser": ("POST", ("users",), ("username", "displayName", "email")),
    "getUser": ("GET", ("users", USER), ()),
    "updateUser-PUT": ("PUT", ("users", USER), ("displayName", "email", "version")),
    "updateUser-PATCH": ("PATCH", ("users", USER), ("displayName", "email", "version")),
    "deleteUser": ("DELETE", ("users", USER), ()),
    "sendMessage": ("POST", ("messages",), ("action", "to", "text", "clientMessageId")),
    "getConversation": ("GET", ("conversations", USER, "messages"), ()),
    "listNotifications": ("GET", ("notifications",), ()),
    "markNotificationRead": ("POST", ("notifications", NOTE, "read"), ()),
}

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def route_plans(route: str) -> st.SearchStrategy[HttpPlan]:
    """Requests aimed at ``route``: its method and path, everything else generated."""
    method, template, fields = ROUTES[route]
    params = {USER: user_segments, NOTE: notification_segments}
    segments = st.tuples(*[params.get(s, st.just(s)) for s in template])
    return st.builds(HttpPlan, st.just(method), segments, queries, headers(), bodies(fields))


@pytest.mark.parametrize("route", sorted(ROUTES))
@FUZZ
@given(data=st.data())
def test_generated_requests_at_each_route(
    world: FuzzWorld, route: str, data: st.DataObject
) -> None:
    check_http(world, data.draw(route_plans(route), label="plan"))


literal_segments = st.sampled_from(
    ["users", "messages", "conversations", "notifications", "read", "ws", "local", "@connections"]
)
unknown_plans = st.builds(
    HttpPlan,
    methods,
    st.lists(st.one_of(literal_segments, path_segments), max_size=5).map(tuple),
    queries,
    headers(),
    bodies(("username", "to", "text")),
)


@settings(FUZZ, max_examples=200)
@given(plan=unknown_plans)
def test_generated_requests_at_any_path_and_method(world: FuzzWorld, plan: HttpPlan) -> None:
    check_http(world, plan)


#: Inputs the generators reach only rarely, pinned so every run tries them.
HARD_CASES: dict[str, tuple[int, HttpPlan]] = {
    # A cursor under the 2,048-character limit that decodes to JSON nested past the recursion
    # limit: json.loads raised RecursionError, a 500 (fixed in heron.functions.paging).
    "deep-cursor-notifications": (
        400,
        HttpPlan(
            "GET",
            ("notifications",),
            [("cursor", Cursor("[" * 1500, padded=False, raw=True))],
            [("authorization", Ref("alice.bearer"))],
        ),
    ),
    "deep-cursor-unread": (
        400,
        HttpPlan(
            "GET",
            ("notifications",),
            [("unread", "true"), ("cursor", Cursor("[" * 1500, padded=True, raw=True))],
            [("authorization", Ref("alice.bearer"))],
        ),
    ),
    "deep-cursor-conversation": (
        400,
        HttpPlan(
            "GET",
            ("conversations", Ref("bob.id"), "messages"),
            [("cursor", Cursor("[" * 1100, padded=False, raw=True))],
            [("authorization", Ref("alice.bearer"))],
        ),
    ),
    "deep-json-body": (
        400,
        HttpPlan(
            "POST",
            ("messages",),
            headers=[("authorization", Ref("alice.bearer")), ("content-type", "application/json")],
            body=b"[" * 100_000,
        ),
    ),
    "lone-surrogate-text": (
        400,
        HttpPlan(
            "POST",
            ("messages",),
            headers=[("authorization", Ref("alice.bearer"))],
            body=JsonBody({"to": Ref("bob.id"), "text": "a\ud800", "clientMessageId": "s"}, True),
        ),
    ),
    "if-match-superscript-digit": (
        400,
        HttpPlan(
            "PATCH",
            ("users", Ref("alice.id")),
            headers=[("authorization", Ref("alice.bearer")), ("if-match", '"\u00b9"')],
            body=JsonBody({"displayName": "Alice"}, True),
        ),
    ),
    "delete-self": (
        204,
        HttpPlan(
            "DELETE", ("users", Ref("bob.id")), headers=[("authorization", Ref("bob.bearer"))]
        ),
    ),
    "headers-over-gateway-limit": (
        431,
        HttpPlan(
            "POST",
            ("messages",),
            headers=[("authorization", Ref("alice.bearer")), ("x-padding", "p" * 11_000)],
            body=JsonBody(
                {"to": Ref("bob.id"), "text": "hi", "clientMessageId": "big-header"}, True
            ),
        ),
    ),
    "path-over-gateway-limit": (431, HttpPlan("GET", ("users", "u" * 11_000))),
}


def test_a_body_over_the_gateway_limit_is_refused_unread(world: FuzzWorld) -> None:
    plan = HttpPlan(
        "POST",
        ("users",),
        headers=[("content-type", "application/json")],
        body=b'{"username": "' + b"a" * (10 * 1024 * 1024) + b'"}',
    )
    assert check_http(world, plan).status_code == 413


@pytest.mark.parametrize("case", sorted(HARD_CASES))
def test_hard_cases(world: FuzzWorld, case: str) -> None:
    status, plan = HARD_CASES[case]
    response = check_http(world, plan)
    assert response.status_code == status, response.text


def test_a_valid_signup_passes_the_checks_and_changes_the_tables(world: FuzzWorld) -> None:
    # The harness is honest: an accepted request does reach the tables, so "unchanged after a
    # refusal" is a claim that could fail.
    before = world.snapshot()
    plan = HttpPlan(
        "POST",
        ("users",),
        headers=[("content-type", "application/json")],
        body=b'{"username": "carol-fuzz", "displayName": "Carol", "email": "carol@example.com"}',
    )
    assert check_http(world, plan).status_code == 201
    assert world.snapshot() != before
