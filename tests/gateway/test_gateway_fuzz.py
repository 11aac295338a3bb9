"""Garbage in never makes the gateway itself answer 5xx, crash, or leak a stack trace."""

from __future__ import annotations

import functools
import string
from typing import Any

from gateway_support import FakeInvoker, RecordingSink, TestClient, make_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.gateway.app import create_app
from heron.gateway.responses import MalformedResponseError, map_lambda_response
from heron.gateway.ws_events import select_route
from heron.types import Event, FunctionSpec

ROUTES = (
    "GET /users/{userId}",
    "POST /users",
    "ANY /files/{path+}",
    "PUT /a/{b}/c/{d}",
)


def echo(event: Event) -> Any:
    return {"statusCode": 200, "body": event.get("body", "")}


def authorize(event: Event) -> Any:
    return {"isAuthorized": event["identitySource"] == ["Bearer ok"], "context": {"userId": "u"}}


@functools.cache
def client() -> TestClient:
    specs = [
        FunctionSpec("open", "x.y", http_routes=ROUTES, authorized=False),
        FunctionSpec("locked", "x.y", http_routes=("GET /secret/{id}",), authorized=True),
        FunctionSpec("authorizer", "x.auth", authorized=False),
    ]
    invoker = FakeInvoker({"open": echo, "locked": echo, "authorizer": authorize})
    config = make_config(payload_limit_bytes=4096, throttle_rate=1e9, throttle_burst=10**9)
    return TestClient(create_app(specs, invoker, RecordingSink(), config))


segment = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~%{}+@=:;,$!'()* " + "éß中", max_size=12
)
prefixes = st.sampled_from(
    ["", "/users", "/files", "/a/x/c", "/secret", "/@connections", "/local/@connections", "/ws"]
)
paths = st.builds(
    lambda prefix, parts: prefix + "/" + "/".join(parts), prefixes, st.lists(segment, max_size=4)
)
header_names = st.text(
    alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=20
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=40,
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=methods,
    path=paths,
    query=st.text(alphabet=string.printable.strip(), max_size=30),
    headers=st.dictionaries(
        st.one_of(header_names, st.just("Authorization"), st.just("Content-Type")),
        header_values,
        max_size=5,
    ),
    body=st.binary(max_size=5000),
)
def test_garbage_requests_never_get_a_gateway_5xx(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> None:
    url = "http://testserver" + path + ("?" + query if query else "")
    raw_headers = {name: value.encode("latin-1") for name, value in headers.items()}
    response = client().request(method, url, headers=raw_headers, content=body)
    assert response.status_code < 500, (response.status_code, response.text)
    assert "Traceback" not in response.text


@settings(max_examples=200, deadline=None)
@given(body=st.one_of(st.none(), st.text(max_size=200)), action=st.text(max_size=10))
def test_route_selection_never_raises(body: str | None, action: str) -> None:
    routes = {"$default", "sendMessage", action}
    assert select_route(body, routes) in routes
    assert select_route(body, set()) is None or body is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    payload=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"statusCode": json_values},
            optional={
                "headers": json_values,
                "body": json_values,
                "cookies": json_values,
                "isBase64Encoded": json_values,
            },
        ),
    )
)
def test_any_return_value_maps_or_is_rejected_cleanly(payload: Any) -> None:
    try:
        response = map_lambda_response(payload)
    except MalformedResponseError:
        return
    assert 100 <= response.status <= 599
    assert isinstance(response.body, bytes)
