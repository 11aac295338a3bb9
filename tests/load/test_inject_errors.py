"""``heron load --inject-error-rate``: the header goes on that share of requests, and the service's
5xx answers to them are counted as ``injected``, not as failures of the service."""

from __future__ import annotations

import random

import httpx

from heron.load.client import INJECT_ERROR_HEADER, ApiClient
from heron.load.summary import Recorder


def handler(request: httpx.Request) -> httpx.Response:
    if request.headers.get(INJECT_ERROR_HEADER) == "1":
        return httpx.Response(500, json={"message": "Internal Server Error"})
    if request.method == "POST":  # the malformed body is refused, as the service does
        return httpx.Response(400, json={"message": "Invalid JSON"})
    return httpx.Response(200, json={})


async def test_injected_requests_are_marked_and_their_5xx_counted_apart() -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://heron"
    ) as http:
        api = ApiClient(http, recorder, lambda: 0.0, inject_error_rate=0.5, rng=random.Random(3))
        for _ in range(200):
            await api.call("get_self", "GET", "/users/x")
        for _ in range(20):
            await api.call("bad_json", "POST", "/users", content=b"{", deliberate=True)
    injected = recorder.errors.get("injected", 0)
    assert 70 <= injected <= 130  # about half of the 200 well-formed requests
    assert set(recorder.errors) == {"injected"}  # deliberate requests never carry the header


async def test_no_header_at_rate_zero() -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://heron"
    ) as http:
        api = ApiClient(http, recorder, lambda: 0.0)
        for _ in range(50):
            await api.call("get_self", "GET", "/users/x")
    assert recorder.errors == {}
