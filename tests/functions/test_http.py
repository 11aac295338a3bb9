"""The event-reading and response-writing helpers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from function_events import http_event

from heron.functions.http import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    caller_id,
    error_response,
    header,
    json_body,
    json_response,
    received_at_ms,
)


def test_a_json_response_has_a_content_type_and_plain_numbers() -> None:
    response = json_response(200, {"version": Decimal("3"), "ratio": Decimal("0.5")})
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"]) == {"version": 3, "ratio": 0.5}


def test_a_response_without_a_body_has_no_body_key() -> None:
    assert json_response(204) == {"statusCode": 204, "headers": {}}


def test_an_error_response_names_code_message_and_field() -> None:
    response = error_response(NotFound("No such user", field="userId"))
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {
        "error": "NotFound",
        "message": "No such user",
        "field": "userId",
    }


def test_headers_are_read_case_insensitively() -> None:
    event = http_event("GET", "GET /x", "/x", headers={"If-Match": '"2"'})
    assert header(event, "IF-MATCH") == '"2"'
    assert header(event, "missing") is None


def test_invalid_base64_is_a_400() -> None:
    event = http_event("POST", "POST /x", "/x", body="{}")
    event["isBase64Encoded"] = True
    event["body"] = "%%%"
    with pytest.raises(BadRequest):
        json_body(event)


def test_a_huge_body_is_refused_before_parsing() -> None:
    event = http_event("POST", "POST /x", "/x", body="x" * 400_000)
    with pytest.raises(PayloadTooLarge):
        json_body(event)


def test_the_caller_comes_from_the_lambda_authorizer_context() -> None:
    assert caller_id(http_event("GET", "GET /x", "/x", user="u1")) == "u1"
    with pytest.raises(Unauthorized):
        caller_id(http_event("GET", "GET /x", "/x"))


def test_received_time_comes_from_the_gateway() -> None:
    assert received_at_ms(http_event("GET", "GET /x", "/x", time_ms=123)) == 123
    assert received_at_ms({}) is None
