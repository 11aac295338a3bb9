"""The HTTP API end to end in-process: errors, limits, throttling, authorizer, telemetry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gateway_support import FakeClock, FakeInvoker, RecordingSink, TestClient, make_config

from heron.errors import ConfigError, TooManyRequestsError
from heron.gateway.app import create_app
from heron.types import Event, FunctionSpec

ACCESS = "/aws/apigateway/local-http/access"


def build(
    fns: dict[str, Any],
    routes: dict[str, tuple[str, ...]],
    *,
    authorized: bool = False,
    clock: FakeClock | None = None,
    **config: Any,
) -> tuple[TestClient, FakeInvoker, RecordingSink, FakeClock]:
    clock = clock or FakeClock()
    specs = [
        FunctionSpec(name, "x.y", http_routes=keys, authorized=authorized)
        for name, keys in routes.items()
    ]
    if authorized:
        specs.append(FunctionSpec("authorizer", "x.auth", authorized=False))
    invoker = FakeInvoker(fns)
    sink = RecordingSink()
    app = create_app(specs, invoker, sink, make_config(**config), clock)
    client = TestClient(app, raise_server_exceptions=False)
    client.app_state = app.state  # type: ignore[attr-defined]
    return client, invoker, sink, clock


def flushed(client: TestClient, sink: RecordingSink) -> RecordingSink:
    client.app_state.gateway.flush_telemetry()  # type: ignore[attr-defined]
    return sink


def raising(event: Event) -> Any:
    raise ValueError("secret detail")


def throttled(event: Event) -> Any:
    raise TooManyRequestsError("f", "ReservedFunctionConcurrentInvocationLimitExceeded")


async def slow(event: Event) -> Any:
    await asyncio.sleep(1.0)
    return {"statusCode": 200}


def test_unknown_route_is_404_json() -> None:
    client, invoker, _, _ = build({}, {"f": ("GET /x",)})
    r = client.get("/nope")
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    assert invoker.calls == []


@pytest.mark.parametrize(
    ("fn", "error_fragment"),
    [
        (raising, "ValueError: secret detail"),
        (lambda e: {"statusCode": "oops"}, "Malformed Lambda proxy response"),
        (throttled, "Rate Exceeded"),
    ],
)
def test_integration_failures_are_500_without_details(fn: Any, error_fragment: str) -> None:
    client, _, sink, _ = build({"f": fn}, {"f": ("GET /x",)})
    r = client.get("/x")
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    assert "secret" not in r.text
    [record] = flushed(client, sink).records(ACCESS)
    assert error_fragment in record["integrationError"]


def test_undeclared_function_is_500() -> None:
    client, _, _, _ = build({}, {"ghost": ("GET /x",)})
    assert client.get("/x").status_code == 500


def test_integration_timeout_is_503() -> None:
    client, _, sink, _ = build({"f": slow}, {"f": ("GET /x",)}, http_integration_timeout_s=0.05)
    r = client.get("/x")
    assert (r.status_code, r.json()) == (503, {"message": "Service Unavailable"})
    [record] = flushed(client, sink).records(ACCESS)
    assert record["integrationError"] == "Integration timed out"


def test_payload_limit_is_413_and_function_not_called() -> None:
    client, invoker, _, _ = build(
        {"f": lambda e: "ok"}, {"f": ("POST /x",)}, payload_limit_bytes=100
    )
    r = client.post("/x", content=b"a" * 101)
    assert (r.status_code, r.json()) == (413, {"message": "Request Entity Too Large"})
    assert client.post("/x", content=b"a" * 100).status_code == 200
    assert len(invoker.calls) == 1


def test_oversized_headers_are_431() -> None:
    client, invoker, _, _ = build({"f": lambda e: "ok"}, {"f": ("GET /x",)})
    r = client.get("/x", headers={"x-big": "v" * 10_300})
    assert (r.status_code, r.json()) == (431, {"message": "Request Header Fields Too Large"})
    assert invoker.calls == []


def test_malformed_json_reaches_the_function_unchanged() -> None:
    seen: list[Event] = []
    client, _, _, _ = build({"f": lambda e: seen.append(e) or "ok"}, {"f": ("POST /x",)})
    client.post("/x", content=b'{"broken": ', headers={"content-type": "application/json"})
    assert seen[0]["body"] == '{"broken": '
    assert seen[0]["isBase64Encoded"] is False


def test_response_headers_cookies_and_status_pass_through() -> None:
    def fn(event: Event) -> Any:
        return {"statusCode": 201, "headers": {"x-a": "1"}, "cookies": ["s=1"], "body": "made"}

    client, _, _, _ = build({"f": fn}, {"f": ("POST /x",)})
    r = client.post("/x")
    assert (r.status_code, r.text) == (201, "made")
    assert r.headers["x-a"] == "1" and r.headers["set-cookie"] == "s=1"


def test_stage_throttle_uses_a_token_bucket_over_the_clock() -> None:
    client, invoker, sink, clock = build(
        {"f": lambda e: "ok"}, {"f": ("GET /x",)}, throttle_rate=1.0, throttle_burst=2
    )
    assert [client.get("/x").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/x").json() == {"message": "Too Many Requests"}
    clock.advance(1.0)
    assert client.get("/x").status_code == 200
    assert len(invoker.calls) == 3
    values = flushed(client, sink).values("ThrottledRequests", ApiId="local-http", Stage="$default")
    assert values == [0.0, 0.0, 1.0, 1.0, 0.0]


def test_access_log_and_metrics_for_a_request() -> None:
    client, _, sink, clock = build(
        {"f": lambda e: {"statusCode": 200, "body": "hello"}}, {"f": ("POST /items/{id}",)}
    )
    client.post("/items/7", content=b"abc")
    client.get("/missing")
    flushed(client, sink)
    ok, missing = sink.records(ACCESS)
    assert ok == {
        "requestId": ok["requestId"],
        "ip": "testclient",
        "caller": "-",
        "requestTime": "14/Nov/2023:22:13:20 +0000",
        "httpMethod": "POST",
        "resourcePath": "/items/{id}",
        "status": 200,
        "protocol": "HTTP/1.1",
        "responseLength": 5,
        "integrationError": None,
    }
    assert (missing["status"], missing["resourcePath"]) == (404, "-")
    assert all(e.timestamp_ms == int(clock.now * 1000) for e in sink.logs)
    for dims in ({"ApiId": "local-http"}, {"ApiId": "local-http", "Stage": "$default"}):
        assert sink.values("Count", **dims) == [1.0, 1.0]
        assert sink.values("4xx", **dims) == [0.0, 1.0]
        assert sink.values("4XXError", **dims) == [0.0, 1.0]
        assert sink.values("5xx", **dims) == sink.values("5XXError", **dims) == [0.0, 0.0]
        assert sink.values("DataProcessed", **dims) == [8.0, 23.0]  # 3 in + 5 out; 23-byte 404 body
        assert len(sink.values("Latency", **dims)) == 2
        assert len(sink.values("IntegrationLatency", **dims)) == 1  # the 404 never integrated


def test_5xx_error_metric_for_the_seed_alarm() -> None:
    client, _, sink, _ = build({"f": raising}, {"f": ("GET /x",)}, http_detailed_metrics=True)
    client.get("/x")
    flushed(client, sink)
    assert sink.values("5XXError", ApiId="local-http", Stage="$default") == [1.0]
    detailed = {"ApiId": "local-http", "Method": "GET", "Resource": "/x", "Stage": "$default"}
    assert sink.values("5xx", **detailed) == [1.0]


# -- Lambda authorizer ---------------------------------------------------------------------


def authorizer(event: Event) -> Any:
    token = event["identitySource"][0]
    if token == "Bearer good":
        return {"isAuthorized": True, "context": {"userId": "u1", "role": "admin"}}
    if token == "Bearer broken":
        return {"nonsense": True}
    return {"isAuthorized": False}


def secured(**config: Any) -> tuple[TestClient, FakeInvoker, RecordingSink, FakeClock]:
    seen: list[Event] = []

    def fn(event: Event) -> Any:
        seen.append(event)
        return {"statusCode": 200, "body": "secret"}

    client, invoker, sink, clock = build(
        {"f": fn, "authorizer": authorizer}, {"f": ("GET /x/{id}",)}, authorized=True, **config
    )
    client.seen = seen  # type: ignore[attr-defined]
    return client, invoker, sink, clock


def test_missing_identity_is_401_without_invoking() -> None:
    client, invoker, _, _ = secured()
    r = client.get("/x/1")
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert invoker.calls == []


def test_denied_is_403_and_the_route_is_not_invoked() -> None:
    client, invoker, _, _ = secured()
    r = client.get("/x/1", headers={"Authorization": "Bearer bad"})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    assert [name for name, _ in invoker.calls] == ["authorizer"]


def test_allowed_request_gets_the_context_and_caller_is_logged() -> None:
    client, invoker, sink, _ = secured()
    r = client.get("/x/1", headers={"Authorization": "Bearer good"})
    assert (r.status_code, r.text) == (200, "secret")
    [auth_event] = invoker.events_for("authorizer")
    assert auth_event["type"] == "REQUEST" and auth_event["identitySource"] == ["Bearer good"]
    assert auth_event["routeArn"].endswith("local-http/$default/GET/x/1")
    assert "body" not in auth_event
    event = client.seen[0]  # type: ignore[attr-defined]
    assert event["requestContext"]["authorizer"] == {"lambda": {"userId": "u1", "role": "admin"}}
    [record] = flushed(client, sink).records(ACCESS)
    assert record["caller"] == "u1"


def test_results_are_cached_per_identity_for_the_ttl() -> None:
    client, invoker, _, clock = secured(authorizer_cache_ttl_s=300.0)
    for _ in range(3):
        assert client.get("/x/1", headers={"Authorization": "Bearer good"}).status_code == 200
        assert client.get("/x/2", headers={"Authorization": "Bearer bad"}).status_code == 403
    assert len(invoker.events_for("authorizer")) == 2  # one allow, one (cached) deny
    clock.advance(301.0)
    client.get("/x/1", headers={"Authorization": "Bearer good"})
    assert len(invoker.events_for("authorizer")) == 3


def test_zero_ttl_disables_caching() -> None:
    client, invoker, _, _ = secured(authorizer_cache_ttl_s=0.0)
    for _ in range(2):
        client.get("/x/1", headers={"Authorization": "Bearer good"})
    assert len(invoker.events_for("authorizer")) == 2


def test_broken_authorizer_is_500_and_not_cached() -> None:
    client, invoker, sink, _ = secured()
    for _ in range(2):
        r = client.get("/x/1", headers={"Authorization": "Bearer broken"})
        assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    assert len(invoker.events_for("authorizer")) == 2
    records = flushed(client, sink).records(ACCESS)
    assert records[0]["integrationError"] == "AuthorizerConfigurationException"


def test_authorized_routes_need_an_authorizer_function() -> None:
    spec = FunctionSpec("f", "x.y", http_routes=("GET /x",), authorized=True)
    with pytest.raises(ConfigError, match="authorizer"):
        create_app([spec], FakeInvoker({}), RecordingSink(), make_config())


@pytest.mark.parametrize(("enabled", "expect_delay"), [(True, True), (False, False)])
def test_latency_injection_header_is_honoured_only_when_enabled(
    enabled: bool, expect_delay: bool
) -> None:
    import time

    client, _, _, _ = build(
        {"f": lambda e: {"statusCode": 200}}, {"f": ("GET /x",)}, fault_injection=enabled
    )
    started = time.perf_counter()
    r = client.get("/x", headers={"x-heron-inject-latency-ms": "300"})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200
    assert (elapsed >= 0.3) is expect_delay


def test_injected_latency_is_clamped_and_ignores_garbage() -> None:
    from heron.gateway.http_api import injected_latency_s

    assert injected_latency_s([("X-Heron-Inject-Latency-Ms", "250")]) == 0.25
    assert injected_latency_s([("x-heron-inject-latency-ms", "1e9")]) == 10.0
    assert injected_latency_s([("x-heron-inject-latency-ms", "-5")]) == 0.0
    assert injected_latency_s([("x-heron-inject-latency-ms", "nan")]) == 0.0
    assert injected_latency_s([("x-heron-inject-latency-ms", "soon")]) == 0.0
    assert injected_latency_s([]) == 0.0
