"""Route selection and Lambda response mapping: pure functions, checked against AWS's rules."""

from __future__ import annotations

import base64

import pytest

from heron.errors import ConfigError
from heron.gateway.responses import MalformedResponseError, map_lambda_response
from heron.gateway.routes import RouteTable
from heron.types import FunctionSpec


def table(*keys: str) -> RouteTable:
    return RouteTable([FunctionSpec(f"f{i}", "x.y", http_routes=(k,)) for i, k in enumerate(keys)])


def selected(t: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    match = t.match(method, path)
    return None if match is None else (match.route.route_key, match.path_parameters)


def test_literal_beats_parameter_and_method_beats_any() -> None:
    t = table("GET /users/{id}", "GET /users/me", "ANY /users/{id}", "ANY /{proxy+}")
    assert selected(t, "GET", "/users/me") == ("GET /users/me", {})
    assert selected(t, "GET", "/users/42") == ("GET /users/{id}", {"id": "42"})
    assert selected(t, "DELETE", "/users/42") == ("ANY /users/{id}", {"id": "42"})
    assert selected(t, "GET", "/a/b/c") == ("ANY /{proxy+}", {"proxy": "a/b/c"})


def test_greedy_needs_at_least_one_segment_and_default_catches_the_rest() -> None:
    t = table("GET /files/{path+}", "$default")
    assert selected(t, "GET", "/files/a/b%20c") == ("GET /files/{path+}", {"path": "a/b c"})
    assert selected(t, "GET", "/files") == ("$default", {})
    assert selected(t, "GET", "/files/") == ("$default", {})
    assert selected(table("GET /x"), "GET", "/y") is None


def test_no_match_without_default_and_trailing_slash_is_distinct() -> None:
    t = table("GET /users/{id}")
    assert selected(t, "GET", "/users/") is None
    assert selected(t, "GET", "/users/1/") is None
    assert selected(t, "POST", "/users/1") is None
    assert selected(t, "GET", "/users/a%2Fb") == ("GET /users/{id}", {"id": "a/b"})


@pytest.mark.parametrize(
    "key", ["GET users", "FETCH /x", "GET /{a+}/b", "GET /a//b", "GET /a{b}", ""]
)
def test_bad_route_keys_are_config_errors(key: str) -> None:
    with pytest.raises(ConfigError):
        table(key)


def test_duplicate_route_keys_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="both"):
        table("GET /x", "GET /x")


def test_dict_without_status_code_is_inferred_200_json() -> None:
    r = map_lambda_response({"hello": "world"})
    assert (r.status, r.body) == (200, b'{"hello":"world"}')
    assert (b"content-type", b"application/json") in r.headers


def test_string_is_the_body_verbatim_and_other_json_is_serialised() -> None:
    assert map_lambda_response("plain text").body == b"plain text"
    assert map_lambda_response([1, 2]).body == b"[1,2]"
    assert map_lambda_response(None).body == b"null"


def test_full_response_with_headers_cookies_and_base64() -> None:
    r = map_lambda_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/png", "X-Count": 3},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert r.status == 201
    assert r.body == b"\x89PNG"
    assert (b"content-type", b"image/png") in r.headers
    assert (b"x-count", b"3") in r.headers
    assert [v for k, v in r.headers if k == b"set-cookie"] == [b"a=1; Path=/", b"b=2"]


def test_full_response_without_body_or_content_type() -> None:
    r = map_lambda_response({"statusCode": 204})
    assert (r.status, r.body) == (204, b"")


@pytest.mark.parametrize(
    "payload",
    [
        {"statusCode": "200"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "headers": {"x": "a\r\nInjected: 1"}},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        {"statusCode": 200, "cookies": "a=1"},
    ],
)
def test_malformed_responses_are_rejected(payload: object) -> None:
    with pytest.raises(MalformedResponseError):
        map_lambda_response(payload)
