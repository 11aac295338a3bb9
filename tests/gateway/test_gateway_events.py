"""Event shapes, field for field, against AWS's documented and captured examples."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from gateway_support import FakeClock, FakeInvoker, RecordingSink, TestClient, make_config

from heron.gateway.app import create_app
from heron.gateway.http_events import (
    EventContext,
    RequestParts,
    build_authorizer_event,
    build_http_event,
    encode_body,
    join_headers,
    query_parameters,
)
from heron.gateway.ws_events import (
    ConnectionFacts,
    connect_event,
    disconnect_event,
    message_event,
)
from heron.types import FunctionSpec

FIXTURES = Path(__file__).parent / "fixtures"
CLF = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
AWS_ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def keys(obj: dict[str, Any]) -> set[str]:
    return set(obj)


PARTS = RequestParts(
    method="POST",
    raw_path="/my/path",
    raw_query="parameter1=value1&parameter1=value2&parameter2=value",
    headers=(
        ("Header1", "value1"),
        ("header2", "value1"),
        ("Header2", "value2"),
        ("Cookie", "cookie1; cookie2"),
        ("User-Agent", "agent"),
        ("Content-Type", "text/plain"),
    ),
    body=b"Hello from Lambda",
    source_ip="192.0.2.1",
    protocol="HTTP/1.1",
    domain_name="id.execute-api.us-east-1.amazonaws.com",
)
CTX = EventContext(
    "123456789012", "api-id", "$default", "JKJaXmPLvHcESHA=", "$default", 1583348638.39
)


def test_http_event_has_the_documented_keys_and_formats() -> None:
    aws = fixture("aws_http_v2_request.json")
    ours = build_http_event(PARTS, CTX, {"parameter1": "value1"}, {"userId": "user123"})
    # Only mTLS and stage variables are absent: Heron has neither.
    assert keys(ours) == keys(aws) - {"stageVariables"}
    assert keys(ours["requestContext"]) == keys(aws["requestContext"]) - {"authentication"}
    assert keys(ours["requestContext"]["http"]) == keys(aws["requestContext"]["http"])
    for field in ("version", "routeKey", "rawPath", "rawQueryString", "cookies", "body"):
        assert ours[field] == aws[field], field
    assert ours["queryStringParameters"] == aws["queryStringParameters"]
    assert ours["pathParameters"] == aws["pathParameters"]
    assert ours["isBase64Encoded"] is False
    assert ours["headers"]["header1"] == "value1"
    assert ours["headers"]["header2"] == "value1,value2"
    assert "cookie" not in ours["headers"]
    rc, aws_rc = ours["requestContext"], aws["requestContext"]
    for field in ("accountId", "apiId", "domainName", "domainPrefix", "routeKey", "stage"):
        assert rc[field] == aws_rc[field], field
    # AWS's own example pairs a "12/Mar" time with a 4 March timeEpoch; ours agree with each other.
    assert CLF.match(aws_rc["time"]) and rc["time"] == "04/Mar/2020:19:03:58 +0000"
    assert rc["timeEpoch"] == aws_rc["timeEpoch"]
    assert rc["http"] == aws_rc["http"]
    assert rc["authorizer"] == aws_rc["authorizer"]


def test_optional_keys_are_absent_not_null() -> None:
    parts = RequestParts("GET", "/", "", (("host", "h"),), b"", "1.2.3.4", "HTTP/1.1", "h")
    ours = build_http_event(parts, CTX, {})
    for absent in ("cookies", "queryStringParameters", "pathParameters", "body", "stageVariables"):
        assert absent not in ours
    assert "authorizer" not in ours["requestContext"]
    assert ours["rawQueryString"] == ""
    assert ours["isBase64Encoded"] is False


def test_authorizer_event_matches_the_documented_shape() -> None:
    aws = fixture("aws_http_v2_authorizer_request.json")
    ours = build_authorizer_event(PARTS, CTX, {"parameter1": "value1"}, ["Bearer t"], "us-east-1")
    assert keys(ours) == keys(aws) - {"stageVariables"}
    assert ours["type"] == "REQUEST"
    assert ours["identitySource"] == ["Bearer t"]
    assert (
        ours["routeArn"]
        == "arn:aws:execute-api:us-east-1:123456789012:api-id/$default/POST/my/path"
    )
    assert keys(ours["requestContext"]) == keys(aws["requestContext"])


def test_headers_lowercased_duplicates_joined_cookies_split() -> None:
    headers, cookies = join_headers(
        [("X-Multi", "a"), ("x-multi", "b"), ("Cookie", "c1=v1; c2=v2"), ("cookie", "c3=v3")]
    )
    assert headers == {"x-multi": "a,b"}
    assert cookies == ["c1=v1", "c2=v2", "c3=v3"]


def test_query_duplicates_comma_joined_and_decoded() -> None:
    assert query_parameters("a=1&a=2&b=x%20y&c") == {"a": "1,2", "b": "x y", "c": ""}
    assert query_parameters("") == {}


def test_binary_and_untyped_bodies_are_base64() -> None:
    assert encode_body(b'{"a":1}', "application/json") == ('{"a":1}', False)
    assert encode_body(b"hi", "text/plain; charset=utf-8") == ("hi", False)
    assert encode_body(b"\x89PNG", "image/png") == (base64.b64encode(b"\x89PNG").decode(), True)
    assert encode_body(b"a=1", None) == ("YT0x", True)
    assert encode_body(b"\xff\xfe", "text/plain") == ("//4=", True)  # not UTF-8: base64


FACTS = ConnectionFacts(
    api_id="abcd123",
    stage="prod",
    domain_name="abcd123.execute-api.us-east-1.amazonaws.com",
    connection_id="R1kmxc2VNjMCFIA=",
    connected_at_ms=1705751697419,
    source_ip="192.0.2.1",
    user_agent="Mozilla/5.0",
)


def test_connect_event_matches_aws() -> None:
    aws = fixture("aws_ws_connect.json")
    headers = [
        ("host", "abcd123.execute-api.us-east-1.amazonaws.com"),
        ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-version", "13"),
    ]
    ours = connect_event(FACTS, headers, "userId=u1", "R1kmxFWyNjMFoaA=", 1705751697.421)
    assert keys(ours) == keys(aws)
    assert keys(ours["requestContext"]) == keys(aws["requestContext"])
    assert ours["queryStringParameters"] == aws["queryStringParameters"]
    assert ours["multiValueQueryStringParameters"] == aws["multiValueQueryStringParameters"]
    for name in ("Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "X-Forwarded-For"):
        assert ours["headers"][name] == aws["headers"][name]
        assert ours["multiValueHeaders"][name] == aws["multiValueHeaders"][name]
    rc = ours["requestContext"]
    for field in ("routeKey", "eventType", "messageDirection", "stage", "connectedAt", "apiId"):
        assert rc[field] == aws["requestContext"][field], field
    assert rc["requestTime"] == "20/Jan/2024:11:54:57 +0000"
    assert rc["requestTimeEpoch"] == 1705751697421
    assert rc["identity"] == aws["requestContext"]["identity"]


def test_connect_without_query_has_no_query_keys() -> None:
    ours = connect_event(FACTS, [], "", "id", 1.0)
    assert "queryStringParameters" not in ours
    assert "multiValueQueryStringParameters" not in ours


def test_message_event_matches_aws_and_has_no_headers() -> None:
    aws = fixture("aws_ws_message.json")
    ours = message_event(
        FACTS, "$default", '{"a": 1}', False, "R1knPH17NjMFftw=", "R1knPc2ntjMCFIA=", 1705751700.453
    )
    assert ours == aws


def test_disconnect_event_matches_aws() -> None:
    aws = fixture("aws_ws_disconnect.json")
    ours = disconnect_event(FACTS, 1001, "", "R1koeHsUtjMFbRw=", 1705751708.326)
    assert ours == aws


def test_event_through_the_app_has_aws_formats() -> None:
    seen: list[dict[str, Any]] = []

    def get_user(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        return {"ok": True}

    spec = FunctionSpec("getUser", "x.y", http_routes=("GET /users/{userId}",), authorized=False)
    clock = FakeClock(1793873702.0)
    app = create_app(
        [spec], FakeInvoker({"getUser": get_user}), RecordingSink(), make_config(), clock
    )
    response = TestClient(app).get(
        "/users/42?fields=name&fields=age", headers={"Cookie": "a=1", "X-Dup": "1"}
    )
    assert response.status_code == 200
    [event] = seen
    assert event["rawPath"] == "/users/42"
    assert event["rawQueryString"] == "fields=name&fields=age"
    assert event["queryStringParameters"] == {"fields": "name,age"}
    assert event["pathParameters"] == {"userId": "42"}
    assert event["cookies"] == ["a=1"]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /users/{userId}"
    assert "body" not in event
    rc = event["requestContext"]
    assert CLF.match(rc["time"]) and rc["time"] == "05/Nov/2026:10:15:02 +0000"
    assert rc["timeEpoch"] == 1793873702000
    assert AWS_ID.match(rc["requestId"])
    assert rc["stage"] == "$default" and rc["apiId"] == "local-http"
    assert rc["accountId"] == "000000000000"
    assert rc["http"]["sourceIp"] == "testclient"
    assert response.headers["apigw-requestid"] == rc["requestId"]


def test_named_stage_prefixes_raw_path() -> None:
    seen: list[dict[str, Any]] = []
    spec = FunctionSpec("f", "x.y", http_routes=("GET /items/{id}",), authorized=False)
    invoker = FakeInvoker({"f": lambda e: seen.append(e) or "ok"})
    client = TestClient(
        create_app([spec], invoker, RecordingSink(), make_config(http_stage="prod"))
    )
    assert client.get("/items/1").status_code == 404
    assert client.get("/prod/items/1").status_code == 200
    assert seen[0]["rawPath"] == "/prod/items/1"
    assert seen[0]["requestContext"]["http"]["path"] == "/prod/items/1"
    assert seen[0]["requestContext"]["stage"] == "prod"
